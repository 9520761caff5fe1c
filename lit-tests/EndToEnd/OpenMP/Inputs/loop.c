/* A run that is one OpenMP `parallel for` (schedule(SCHEDULE), static unless -DSCHEDULE=...)
 * with an integer reduction and no
 * output until the end (a checkpoint outside the region would never come).  Built with
 * autockpt (a SIGUSR1 handler is installed before main), the threads that own three chosen
 * iterations ask for a checkpoint there, so checkpoints are taken with the whole team inside
 * the loop.
 * Usage: loop ITEMS STEPS */
#include <omp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef SCHEDULE
#define SCHEDULE static
#endif
#define PRAGMA(x) _Pragma(#x)
#define PARALLEL_FOR(sched) PRAGMA(omp parallel for schedule(sched) reduction(+ : sum))

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 4000;
  int steps = argc > 2 ? atoi(argv[2]) : 400;
  struct sigaction sa;
  sigaction(SIGUSR1, NULL, &sa);
  int self_checkpoint = sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN;
  long *a = calloc(n, sizeof *a);
  long sum = 0;
  PARALLEL_FOR(SCHEDULE)
  for (int i = 0; i < n; i++) {
    if (self_checkpoint && (i == n / 4 + 3 || i == n / 2 + 17 || i == 3 * n / 4 + 5))
      raise(SIGUSR1);
    long v = i;
    for (int s = 0; s < steps; s++)
      v = (v * 1103515245 + 12345 + s) % 1000003;
    a[i] = v;
    sum += v;
  }
  long check = 0;
  for (int i = 0; i < n; i++)
    check = (check * 31 + a[i]) % 1000000007;
  printf("sum %ld check %ld\n", sum, check);
  printf("done %d items, %d threads\n", n, omp_get_max_threads());
  return 0;
}
