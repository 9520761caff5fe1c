/* A time-stepping code that uses the OpenMP constructs autockpt supports in every step, inside
 * one parallel region: loops with static, dynamic, guided and runtime schedules (one nowait),
 * reductions, single, master, masked, critical (named), atomic, barrier, sections and omp locks
 * (simple and nestable).  Results do not depend on timing: integer arithmetic, per-iteration
 * values.  Built with autockpt (a SIGUSR1 handler is installed before main), thread 0 asks for a
 * checkpoint inside the dynamic loop every 4th step, and the last thread asks for one while the
 * others wait at a barrier every 5th step.
 * Usage: constructs STEPS */
#include <omp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

enum { N = 3000 };

static long a[N], b[N];
static long crit_total, lock_total, nest_total, single_count, master_count, masked_count,
    atomic_total;
static long sec1, sec2;
static omp_lock_t lock;
static omp_nest_lock_t nest;

static long f(long v, long i, int s) {
  for (int j = 0; j < 20; j++)
    v = (v * 1103515245 + 12345 + i + s) % 1000003;
  return v;
}

static void add_nested(long v) {
  omp_set_nest_lock(&nest);
  omp_set_nest_lock(&nest);
  nest_total += v % 7;
  omp_unset_nest_lock(&nest);
  omp_unset_nest_lock(&nest);
}

int main(int argc, char **argv) {
  int steps = argc > 1 ? atoi(argv[1]) : 12;
  struct sigaction sa;
  sigaction(SIGUSR1, NULL, &sa);
  int self_checkpoint = sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN;
  omp_init_lock(&lock);
  omp_init_nest_lock(&nest);
  long sum_static = 0, sum_dynamic = 0, sum_guided = 0, sum_runtime = 0;
#pragma omp parallel
  {
    int me = omp_get_thread_num(), nt = omp_get_num_threads();
    for (int s = 0; s < steps; s++) {
#pragma omp for schedule(static) reduction(+ : sum_static)
      for (int i = 0; i < N; i++) {
        a[i] = f(a[i] + i, i, s);
        sum_static += a[i] % 1000;
      }
#pragma omp for schedule(dynamic, 7) reduction(+ : sum_dynamic)
      for (int i = 0; i < N; i++) {
        if (self_checkpoint && me == 0 && s % 4 == 1 && i % 500 == 3)
          raise(SIGUSR1);
        b[i] = f(a[i] ^ b[i], i, s);
        sum_dynamic += b[i] % 1000;
      }
#pragma omp for schedule(guided, 5) reduction(+ : sum_guided) nowait
      for (long i = 0; i < N; i++)
        sum_guided += f(a[i], i, s) % 100;
#pragma omp for schedule(runtime) reduction(+ : sum_runtime)
      for (unsigned i = 0; i < N; i++)
        sum_runtime += (a[i] + b[i]) % 10;
#pragma omp single
      single_count += s;
#pragma omp master
      master_count += 1;
#pragma omp masked filter(nt - 1)
      masked_count += 2;
#pragma omp critical(totals)
      crit_total += (me + 1) * (s + 1);
#pragma omp atomic
      atomic_total += s;
      omp_set_lock(&lock);
      lock_total += a[me * 7] % 11;
      omp_unset_lock(&lock);
      add_nested(b[me * 5]);
      if (self_checkpoint && s % 5 == 2 && me == nt - 1)
        raise(SIGUSR1);  /* the others wait at the barrier below */
#pragma omp barrier
#pragma omp sections
      {
#pragma omp section
        sec1 += a[s] % 3;
#pragma omp section
        sec2 += b[s] % 5;
      }
    }
  }
  printf("static %ld dynamic %ld guided %ld runtime %ld\n", sum_static, sum_dynamic, sum_guided,
         sum_runtime);
  printf("single %ld master %ld masked %ld critical %ld atomic %ld lock %ld nest %ld "
         "sections %ld %ld\n", single_count, master_count, masked_count, crit_total, atomic_total, lock_total, nest_total, sec1, sec2);
  printf("done %d steps\n", steps);
  return 0;
}
