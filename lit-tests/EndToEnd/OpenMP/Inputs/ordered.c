/* A loop with the ordered clause (O10): the `ordered` regions append to a sequence whose hash
 * depends on the order, so any iteration out of turn changes the output; every third iteration
 * skips the region (its turn is passed on at the iteration's end).  The work of an iteration is
 * outside the region, where the threads that own three chosen iterations ask for a checkpoint
 * (SIGUSR1), so checkpoints are taken with members waiting for their turn and inside the work.
 * Usage: ordered ITEMS STEPS */
#include <omp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef SCHEDULE
#define SCHEDULE dynamic, 3
#endif
#define PRAGMA(x) _Pragma(#x)
#define PARALLEL_FOR(sched) PRAGMA(omp parallel for ordered schedule(sched) reduction(+ : sum))

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 3000;
  int steps = argc > 2 ? atoi(argv[2]) : 300;
  struct sigaction sa;
  sigaction(SIGUSR1, NULL, &sa);
  int self_checkpoint = sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN;
  long sum = 0, hash = 7, entered = 0;
  PARALLEL_FOR(SCHEDULE)
  for (int i = 0; i < n; i++) {
    if (self_checkpoint && (i == n / 4 + 3 || i == n / 2 + 17 || i == 3 * n / 4 + 5))
      raise(SIGUSR1);
    long v = i;
    for (int s = 0; s < steps; s++)
      v = (v * 1103515245 + 12345 + s) % 1000003;
    sum += v;
    if (i % 3 != 2) {
#pragma omp ordered
      {
        hash = (hash * 31 + v + i) % 1000000007;
        entered++;
      }
    }
  }
  printf("sum %ld hash %ld entered %ld\n", sum, hash, entered);
  printf("done %d items, %d threads\n", n, omp_get_max_threads());
  return 0;
}
