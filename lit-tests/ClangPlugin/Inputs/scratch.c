// A 64 MiB scratch buffer marked AUTOCKPT_NOSAVE (autockpt/marks.h: clang's annotate attribute,
// read by the pass without the clang plugin), which checkpoints leave out: a static array, or
// with -DSCRATCH_ON_HEAP a block from malloc reached through a nosave pointer (C3: the pointer is
// saved, the block it points to is not; it reads back as zeros, still allocated, at the same
// address).  The program rebuilds the part it uses in every step before it reads it, and step()
// is AUTOCKPT_NOPOLL, so no checkpoint falls between the rebuild and the reads: the safe points
// are at main's loop, between steps.  A saved heap block beside it (table) must come back intact.
#include <autockpt/marks.h>
#include <stdio.h>
#include <stdlib.h>

#define N (8 << 20)  // doubles: 64 MiB
#define USED (1 << 16)

#ifdef SCRATCH_ON_HEAP
AUTOCKPT_NOSAVE static double *scratch;
#else
AUTOCKPT_NOSAVE static double scratch[N];
#endif
static long *table;

AUTOCKPT_NOPOLL static double step(int s) {
  for (long i = 0; i < USED; i++)
    scratch[(i * 131) % N] = (double)(i ^ s);
  double sum = 0;
  for (long i = 0; i < USED; i++)
    sum += scratch[(i * 131) % N] * 1e-6;
  return sum;
}

int main(int argc, char **argv) {
  int steps = argc > 1 ? atoi(argv[1]) : 40;
#ifdef SCRATCH_ON_HEAP
  scratch = malloc(N * sizeof *scratch);
#endif
  table = malloc(1024 * sizeof *table);
  for (int i = 0; i < 1024; i++)
    table[i] = i * 7;
  double acc = 0;
  for (int s = 0; s < steps; s++) {
    acc += step(s) / (s + 1) + (double)table[s % 1024];
    table[s % 1024] += s;
    printf("step %d %.6f\n", s, acc);
  }
  return 0;
}
