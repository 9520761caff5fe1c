/* threadprivate variables that outlive their regions (docs/design.md O9): each thread's `tp`,
 * first set through copyin, changes in every step's region and is read in the next one.
 * Built with autockpt (a SIGUSR1 handler is installed before main), thread 0 asks for a
 * checkpoint inside a region every 3rd step, and main asks between two regions every 3rd step,
 * so the workers' variables are saved both while they run a member and while they wait in
 * libomp's pool.
 * Usage: threadprivate STEPS */
#include <omp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

static long tp;
#pragma omp threadprivate(tp)

enum { N = 20000 };
static long a[N];

int main(int argc, char **argv) {
  int steps = argc > 1 ? atoi(argv[1]) : 12;
  struct sigaction sa;
  sigaction(SIGUSR1, NULL, &sa);
  int self_checkpoint = sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN;
  omp_set_dynamic(0);
  tp = 17;
#pragma omp parallel copyin(tp)
  tp += omp_get_thread_num() * 1000;
  for (int s = 0; s < steps; s++) {
    long sum = 0;
#pragma omp parallel reduction(+ : sum)
    {
      int me = omp_get_thread_num();
#pragma omp for schedule(static)
      for (int i = 0; i < N; i++) {
        if (self_checkpoint && me == 0 && s % 3 == 1 && i == 5)
          raise(SIGUSR1);
        a[i] = (a[i] * 31 + i + s) % 1000003;
        tp = (tp * 7 + a[i]) % 1000003;
      }
      sum += tp * (me + 1);
    }
    if (self_checkpoint && s % 3 == 2)
      raise(SIGUSR1);
    printf("step %d %ld\n", s, sum);
  }
  printf("done %d steps\n", steps);
  return 0;
}
