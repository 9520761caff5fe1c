/* A pthread worker pool fed through a mutex and two condition variables: the main thread queues a
 * batch of tasks, waits (pthread_cond_wait) until the workers have done them all, prints the
 * batch's result and, at the end, joins the workers (pthread_join) while a ticker thread sleeps
 * (nanosleep, usleep, sleep).  At a checkpoint threads are stopped inside those blocking calls.
 * Built with autockpt (a SIGUSR1 handler is installed before main) it asks for its own checkpoint
 * after queueing every 3rd batch (AUTOCKPT_ON_SIGNAL=continue): where checkpoints fall depends on
 * its progress, not on time.  Usage: cond-pool BATCHES [WORKERS] */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

enum { TASKS = 24, QCAP = 64 };

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER, all_done = PTHREAD_COND_INITIALIZER;
static int queue[QCAP], head, tail, completed, stopping;
static double results[TASKS];
static volatile int ticker_stop;
static long ticks;

static double work(int task, int batch) {
  double s = 0;
  for (int i = 1; i < 1200000; i++)
    s += (double)((i * (task + 3) + batch) % 97) / i;
  return s;
}

static void *worker(void *arg) {
  long done = 0;
  (void)arg;
  for (;;) {
    pthread_mutex_lock(&mu);
    while (head == tail && !stopping)
      pthread_cond_wait(&not_empty, &mu);
    if (head == tail) {
      pthread_mutex_unlock(&mu);
      break;
    }
    int item = queue[head++ % QCAP];
    pthread_mutex_unlock(&mu);
    double r = work(item % TASKS, item / TASKS);
    pthread_mutex_lock(&mu);
    results[item % TASKS] = r;
    if (++completed == TASKS)
      pthread_cond_signal(&all_done);
    pthread_mutex_unlock(&mu);
    done++;
  }
  return (void *)done;
}

static void *ticker(void *arg) {
  (void)arg;
  struct timespec ms = {0, 1000000};
  while (!ticker_stop) {
    nanosleep(&ms, NULL);
    usleep(500);
    ticks++;
  }
  sleep(0);
  return NULL;
}

int main(int argc, char **argv) {
  int batches = argc > 1 ? atoi(argv[1]) : 30;
  int nworkers = argc > 2 ? atoi(argv[2]) : 3;
  struct sigaction sa;
  sigaction(SIGUSR1, NULL, &sa);
  int self_checkpoint = sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN;
  pthread_t *tid = malloc(sizeof *tid * nworkers), tick;
  pthread_create(&tick, NULL, ticker, NULL);
  for (int i = 0; i < nworkers; i++)
    pthread_create(&tid[i], NULL, worker, NULL);
  for (int b = 0; b < batches; b++) {
    pthread_mutex_lock(&mu);
    completed = 0;
    for (int t = 0; t < TASKS; t++)
      queue[tail++ % QCAP] = b * TASKS + t;
    pthread_cond_broadcast(&not_empty);
    if (self_checkpoint && b % 3 == 1)
      raise(SIGUSR1);
    while (completed < TASKS)
      pthread_cond_wait(&all_done, &mu);
    pthread_mutex_unlock(&mu);
    double sum = 0;
    for (int t = 0; t < TASKS; t++)
      sum += results[t];
    printf("batch %d %.6f\n", b + 1, sum);
    fflush(stdout);
  }
  pthread_mutex_lock(&mu);
  stopping = 1;
  pthread_cond_broadcast(&not_empty);
  pthread_mutex_unlock(&mu);
  long total = 0;
  for (int i = 0; i < nworkers; i++) {
    void *ret;
    pthread_join(tid[i], &ret);
    total += (long)ret;
  }
  ticker_stop = 1;
  pthread_join(tick, NULL);
  printf("done %ld tasks, ticker %s\n", total, ticks > 0 ? "ticked" : "idle");
  return 0;
}
