// A 64 MiB scratch array marked AUTOCKPT_NOSAVE (autockpt/marks.h: clang's annotate attribute,
// read by the pass without the clang plugin), which checkpoints leave out.  The program rebuilds
// it in every step before it reads it, and step() is AUTOCKPT_NOPOLL, so no checkpoint falls
// between the rebuild and the reads: the safe points are at main's loop, between steps.
#include <autockpt/marks.h>
#include <stdio.h>
#include <stdlib.h>

#define N (8 << 20)  // doubles: 64 MiB
#define USED (1 << 16)

AUTOCKPT_NOSAVE static double scratch[N];

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
  double acc = 0;
  for (int s = 0; s < steps; s++) {
    acc += step(s) / (s + 1);
    printf("step %d %.6f\n", s, acc);
  }
  return 0;
}
