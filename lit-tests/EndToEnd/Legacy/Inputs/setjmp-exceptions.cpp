// C++ exceptions thrown through a frame of a function that calls setjmp (issue 15): the
// checkpoints land in leaf's loop, under guarded's frame (which has run setjmp and owns a
// vector); after a restart leaf throws through the re-entered guarded frame to main's catch,
// or longjmps back into it.
#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <vector>

static jmp_buf env;
static long caught_jmp, caught_exc, sum;

static long leaf(long i) {
  long v = 0;
  for (long k = 1; k < 20000; k++)
    v += (i * k) % 13;
  if (i % 11 == 3)
    throw std::runtime_error("odd item");
  if (i % 17 == 5)
    std::longjmp(env, 2);
  return v;
}

// Calls setjmp, and lets exceptions from its callees pass through it (the vector is destroyed
// by the unwinding).
__attribute__((noinline)) static long guarded(long i) {
  std::vector<long> local(4, i);
  if (setjmp(env) != 0) {
    caught_jmp++;
    return -local[0];
  }
  return leaf(i) + local[3];
}

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 600;
  for (long i = 0; i < n; i++) {
    try {
      long r = guarded(i);
      if (r >= 0)
        sum += r;
    } catch (const std::exception &e) {
      caught_exc++;
    }
    if (i % 100 == 0)
      printf("item %ld sum %ld\n", i, sum);
  }
  printf("done sum %ld exceptions %ld longjmps %ld\n", sum, caught_exc, caught_jmp);
  return 0;
}
