/* Threads that meet at a pthread barrier twice a phase: each computes its slice of a vector,
 * waits, and the thread that pthread_barrier_wait names (PTHREAD_BARRIER_SERIAL_THREAD) sums it
 * and prints the phase's result before the second wait.  Thread 0 is given the most work, so the
 * others are waiting at the barrier when it arrives; built with autockpt (a SIGUSR1 handler is
 * installed before main) thread 0 asks for a checkpoint every 3rd phase once all the others have
 * said they are about to wait, before its own work: the checkpoint stops thread 0 at a poll in
 * its work and the others inside pthread_barrier_wait (glibc's barrier would keep them there
 * until the checkpoint gave up waiting for them).
 * Usage: barrier PHASES [THREADS] */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

enum { SLICE = 4000 };

static pthread_barrier_t bar;
static int nthreads, phases, self_checkpoint;
static double *part;
static atomic_int waiting;

static double work(int t, int phase) {
  double s = 0;
  int n = SLICE * (t == 0 ? 3 : 1);
  for (int i = 1; i <= n; i++)
    s += (double)((i * (t + 7) + phase * 13) % 101) / (i + phase);
  return s;
}

static void *run(void *arg) {
  int t = (int)(long)arg;
  for (int p = 0; p < phases; p++) {
    if (t == 0 && self_checkpoint && p % 3 == 1) {
      while (atomic_load(&waiting) < nthreads - 1) {
      }
      raise(SIGUSR1);  /* thread 0 stops in work(), the others in the barrier */
    }
    part[t] = work(t, p);
    if (t != 0)
      atomic_fetch_add(&waiting, 1);
    if (pthread_barrier_wait(&bar) == PTHREAD_BARRIER_SERIAL_THREAD) {
      double sum = 0;
      for (int i = 0; i < nthreads; i++)
        sum += part[i];
      atomic_store(&waiting, 0);
      printf("phase %d %.6f\n", p + 1, sum);
      fflush(stdout);
    }
    pthread_barrier_wait(&bar);
  }
  return NULL;
}

int main(int argc, char **argv) {
  phases = argc > 1 ? atoi(argv[1]) : 30;
  nthreads = argc > 2 ? atoi(argv[2]) : 4;
  struct sigaction sa;
  sigaction(SIGUSR1, NULL, &sa);
  self_checkpoint = sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN;
  part = calloc(nthreads, sizeof *part);
  pthread_barrier_init(&bar, NULL, nthreads);
  pthread_t *tid = malloc(sizeof *tid * nthreads);
  for (int t = 1; t < nthreads; t++)
    pthread_create(&tid[t], NULL, run, (void *)(long)t);
  run(0);
  for (int t = 1; t < nthreads; t++)
    pthread_join(tid[t], NULL);
  pthread_barrier_destroy(&bar);
  printf("done %d phases, %d threads\n", phases, nthreads);
  return 0;
}
