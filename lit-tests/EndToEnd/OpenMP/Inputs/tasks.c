/* Tasks inside parallel regions: each step, one thread makes a task per block, every task fills
 * its block, and after the barrier (which must have run every task) each thread sums a share
 * of the blocks.  Built with autockpt (a SIGUSR1 handler is installed before main), a task asks
 * for a checkpoint every 3rd step: it is taken once the region has ended (a region that made
 * tasks takes no checkpoint, docs/design.md O8).
 * Usage: tasks STEPS */
#include <omp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

enum { BLOCKS = 64, SIZE = 500 };

static long data[BLOCKS][SIZE];

static void fill(int b, int s) {
  for (int i = 0; i < SIZE; i++) {
    long v = data[b][i] + b * 31 + i;
    for (int j = 0; j < 10; j++)
      v = (v * 1103515245 + 12345 + s) % 1000003;
    data[b][i] = v;
  }
}

int main(int argc, char **argv) {
  int steps = argc > 1 ? atoi(argv[1]) : 20;
  struct sigaction sa;
  sigaction(SIGUSR1, NULL, &sa);
  int self_checkpoint = sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN;
  long total = 0;
  for (int s = 0; s < steps; s++) {
    long sum = 0;
#pragma omp parallel reduction(+ : sum)
    {
#pragma omp single
      for (int b = 0; b < BLOCKS; b++) {
#pragma omp task firstprivate(b)
        {
          fill(b, s);
          if (self_checkpoint && s % 3 == 1 && b == BLOCKS / 2)
            raise(SIGUSR1);
        }
      }
      /* the single's barrier: every task has run */
#pragma omp for schedule(static)
      for (int b = 0; b < BLOCKS; b++)
        for (int i = 0; i < SIZE; i++)
          sum += data[b][i] % 1000;
    }
    total += sum;
    printf("step %d %ld\n", s, sum);
  }
  printf("done %d steps, total %ld\n", steps, total);
  return 0;
}
