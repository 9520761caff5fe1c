/* A recursive mutex (taken twice) and an error-checking mutex held by a worker across checkpoints
 * and restarts: glibc checks their owner's kernel thread id, which a restart changes, so the
 * worker's unlocks must still succeed and leave both free.  Main prints the worker's progress
 * and asks for its own checkpoint every 3rd round (SIGUSR1, AUTOCKPT_ON_SIGNAL=continue, when a
 * handler is installed).  Usage: recursive-mutex ROUNDS */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

static pthread_mutex_t rec, chk;
static int rounds, progress, unlocked[3];
static double result;

static void *worker(void *arg) {
  (void)arg;
  pthread_mutex_lock(&rec);
  pthread_mutex_lock(&rec);
  pthread_mutex_lock(&chk);
  double s = 0;
  for (int r = 0; r < rounds; r++) {
    for (long i = 1; i < 3000000; i++)
      s += (double)((i * (r + 1)) % 11) / (double)i;
    result = s;
    __atomic_store_n(&progress, r + 1, __ATOMIC_RELEASE);
    while (__atomic_load_n(&progress, __ATOMIC_ACQUIRE) != -(r + 1))
      ; /* main has printed this round */
  }
  unlocked[0] = pthread_mutex_unlock(&chk);
  unlocked[1] = pthread_mutex_unlock(&rec);
  unlocked[2] = pthread_mutex_unlock(&rec);
  return NULL;
}

int main(int argc, char **argv) {
  rounds = argc > 1 ? atoi(argv[1]) : 12;
  struct sigaction sa;
  sigaction(SIGUSR1, NULL, &sa);
  int self_checkpoint = sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN;
  pthread_mutexattr_t a;
  pthread_mutexattr_init(&a);
  pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
  pthread_mutex_init(&rec, &a);
  pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
  pthread_mutex_init(&chk, &a);
  pthread_t t;
  pthread_create(&t, NULL, worker, NULL);
  for (int r = 1; r <= rounds; r++) {
    while (__atomic_load_n(&progress, __ATOMIC_ACQUIRE) != r)
      ;
    printf("round %d %.6f, worker holds both: %s\n", r, result,
           pthread_mutex_trylock(&chk) != 0 ? "yes" : "NO");
    fflush(stdout);
    if (self_checkpoint && r % 3 == 0)
      raise(SIGUSR1);
    __atomic_store_n(&progress, -r, __ATOMIC_RELEASE);
  }
  pthread_join(t, NULL);
  int a1 = pthread_mutex_trylock(&chk), a2 = pthread_mutex_trylock(&rec);
  printf("unlock %d %d %d, free after: %d %d\n", unlocked[0], unlocked[1], unlocked[2], a1, a2);
  return 0;
}
