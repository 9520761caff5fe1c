/* A pool of pthread workers that compute in rounds and meet at a spinning barrier (atomics, no
 * blocking call) after each; the main thread works too, prints each round's result and joins the
 * workers at the end.  Built with autockpt (a SIGUSR1 handler is installed before main), it asks
 * for its own checkpoint (SIGUSR1, AUTOCKPT_ON_SIGNAL=continue) after every 4th round, so where
 * checkpoints fall depends on its progress, not on time.
 * Usage: spin-pool ROUNDS [THREADS] */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

enum { N = 60000 };

static int nthreads, rounds;
static double *data;     /* nthreads slices of N */
static double *partial;  /* one per thread */
static int arrived, sense;
static __thread long t_work; /* per thread: how many elements it has updated */

static void barrier(int *local_sense) {
  *local_sense = !*local_sense;
  if (__atomic_add_fetch(&arrived, 1, __ATOMIC_SEQ_CST) == nthreads) {
    __atomic_store_n(&arrived, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&sense, *local_sense, __ATOMIC_SEQ_CST);
  } else {
    while (__atomic_load_n(&sense, __ATOMIC_ACQUIRE) != *local_sense)
      ;
  }
}

static void compute(int id, int round) {
  double *x = data + (long)id * N, s = 0;
  for (int k = 0; k < 20; k++)
    for (int j = 0; j < N; j++) {
      x[j] = x[j] * 0.999 + (double)((j + round * 7 + id) % 13) * 1e-3;
      s += x[j];
    }
  t_work += 20L * N;
  partial[id] = s;
}

static void *worker(void *arg) {
  int id = (int)(long)arg, local = 0;
  for (int r = 0; r < rounds; r++) {
    compute(id, r);
    barrier(&local); /* every partial is in */
    barrier(&local); /* main has printed them */
  }
  return (void *)(t_work / N);
}

int main(int argc, char **argv) {
  rounds = argc > 1 ? atoi(argv[1]) : 40;
  nthreads = argc > 2 ? atoi(argv[2]) : 4;
  struct sigaction sa;
  sigaction(SIGUSR1, NULL, &sa);
  int self_checkpoint = sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN;
  data = calloc((size_t)nthreads * N, sizeof *data);
  partial = calloc(nthreads, sizeof *partial);
  pthread_t *tid = malloc(sizeof *tid * nthreads);
  for (long i = 1; i < nthreads; i++)
    pthread_create(&tid[i], NULL, worker, (void *)i);
  int local = 0;
  for (int r = 0; r < rounds; r++) {
    compute(0, r);
    barrier(&local);
    double total = 0;
    for (int i = 0; i < nthreads; i++)
      total += partial[i];
    printf("round %d %.6f\n", r + 1, total);
    fflush(stdout);
    if (self_checkpoint && r % 4 == 3)
      raise(SIGUSR1);
    barrier(&local);
  }
  long done = t_work / N;
  for (int i = 1; i < nthreads; i++) {
    void *ret;
    pthread_join(tid[i], &ret);
    done += (long)ret;
  }
  printf("done %ld\n", done);
  return 0;
}
