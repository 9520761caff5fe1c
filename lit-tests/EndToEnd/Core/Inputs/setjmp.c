/* setjmp/longjmp: a function that calls setjmp is instrumented (P15); checkpoints are taken in
 * its callee, and a longjmp after a restart lands in the re-entered frame. */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>

static jmp_buf env;
static long work_sum;

static void work(int i) {
  for (int k = 0; k < 20000; k++)
    work_sum += (k ^ i) & 3;
  if (i % 5 == 0)
    longjmp(env, i);
}

static int guarded(int i) {
  int r = setjmp(env);
  if (r == 0) {
    work(i);
    return 0;
  }
  return r;
}

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 12;
  long jumps = 0;
  for (int round = 1; round <= rounds; round++) {
    for (int i = 0; i < 300; i++)
      jumps += guarded(i);
    printf("round %d %ld %ld\n", round, jumps, work_sum);
    fflush(stdout);
  }
  printf("done %ld %ld\n", jumps, work_sum);
  return 0;
}
