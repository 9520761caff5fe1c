/* Recursion without loops (polls at the entry of recursive functions) and deep recursion:
 * 100 000 frames on the stack at a checkpoint. */
#include <stdio.h>
#include <stdlib.h>

static long fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

/* Not a tail call: the addition after the call keeps every frame alive. */
static long deep(long d) {
  if (d == 0)
    return fib(22);
  volatile long here = d;
  long below = deep(d - 1);
  return (below ^ (below >> 3)) + here % 3; /* not an accumulator: no tail recursion */
}

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 12;
  long total = 0;
  for (int round = 1; round <= rounds; round++) {
    for (int k = 0; k < 6; k++)
      total += deep(100000) + fib(22);
    printf("round %d total %ld\n", round, total);
    fflush(stdout);
  }
  printf("done %ld\n", total);
  return 0;
}
