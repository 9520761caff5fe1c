/* Nested parallel regions, 2 x 2 threads (max active levels 2), with omp locks: each of the
 * outer threads runs an inner team whose members fill their part of a row block, and add to a
 * total under a lock.  Built with autockpt (a SIGUSR1 handler is installed before main), the
 * inner thread (1, 1) asks for a checkpoint every 3rd step; it is taken inside the inner regions
 * (docs/design.md O11).  With -DTP each inner member also keeps a threadprivate variable: then
 * the checkpoints are taken at the outer level, between the inner regions (O11).
 * Usage: nested STEPS */
#include <omp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

enum { N = 4000 };
static long a[2][N];
static omp_lock_t lock;
#ifdef TP
static long tp;  // threadprivate: each inner member's own within a region
#pragma omp threadprivate(tp)
#endif

int main(int argc, char **argv) {
  int steps = argc > 1 ? atoi(argv[1]) : 12;
  struct sigaction sa;
  sigaction(SIGUSR1, NULL, &sa);
  int self_checkpoint = sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN;
  omp_set_max_active_levels(2);
  omp_init_lock(&lock);
  long total = 0;
  for (int s = 0; s < steps; s++) {
#pragma omp parallel num_threads(2)
    {
      int outer = omp_get_thread_num();
#pragma omp parallel num_threads(2)
      {
        int inner = omp_get_thread_num();
        long part = 0;
#ifdef TP
        tp = outer * 10 + inner + 1;
#endif
#pragma omp for schedule(static)
        for (int i = 0; i < N; i++) {
          if (self_checkpoint && s % 3 == 1 && outer == 1 && inner == 1 && i == N - 5)
            raise(SIGUSR1);
          long v = a[outer][i] + i + s;
          for (int j = 0; j < 30; j++)
            v = (v * 1103515245 + 12345) % 1000003;
          a[outer][i] = v;
          part += v % 1000;
#ifdef TP
          tp = (tp * 7 + v) % 1000003;
#endif
        }
        omp_set_lock(&lock);
#ifdef TP
        part += tp;
#endif
        total += part;
        omp_unset_lock(&lock);
      }
    }
    printf("step %d %ld\n", s, total);
  }
  printf("done %d steps\n", steps);
  return 0;
}
