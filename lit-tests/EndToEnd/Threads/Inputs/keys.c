/* pthread keys across checkpoints and restarts: a key made once (pthread_once), each worker's
 * value (a heap counter) read back with pthread_getspecific every round, and the key's
 * destructor run once per worker when it ends.  glibc keeps keys and values in its own memory:
 * without the runtime's keys a restarted worker's pthread_setspecific fails (EINVAL) and its
 * values are gone.  Main waits for the workers' rounds, prints them, and asks for its own
 * checkpoint every 3rd round (SIGUSR1; with AUTOCKPT_ON_SIGNAL=exit each run stops there).
 * After their last round the workers wait until main lets them go, and main takes the checkpoint
 * of round ROUNDS - 5 only once both wait there: the run restarted from it has workers that end
 * without touching the key again (their values' destructors must run all the same).
 * Usage: keys ROUNDS (ROUNDS - 5 a multiple of 3) */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_key_t key;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int progress[2], rounds, parked, released;
static long freed_with[2] = {-1, -1}, set_failed;

struct counter { int who; long n; };

static void release(void *p) {
  struct counter *c = p;
  pthread_mutex_lock(&mu);
  freed_with[c->who] = c->n;
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
  free(c);
}

static void make_key(void) { pthread_key_create(&key, release); }

static void *worker(void *arg) {
  int who = (int)(long)arg;
  pthread_once(&once, make_key);
  struct counter *c = malloc(sizeof *c);
  c->who = who;
  c->n = 0;
  if (pthread_setspecific(key, c) != 0)
    set_failed++;
  double s = 0;
  for (int r = 1; r <= rounds; r++) {
    for (long i = 1; i < 300000; i++)
      s += (double)((i * (r + who)) % 13) / (double)i;
    struct counter *mine = pthread_getspecific(key);
    mine->n += (long)s % 7 + 1;
    if (pthread_setspecific(key, mine) != 0)
      set_failed++;
    pthread_mutex_lock(&mu);
    progress[who] = r;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
  }
  pthread_mutex_lock(&mu);
  parked++;
  pthread_cond_broadcast(&cv);
  while (!released)
    pthread_cond_wait(&cv, &mu);
  pthread_mutex_unlock(&mu);
  return NULL;
}

int main(int argc, char **argv) {
  rounds = argc > 1 ? atoi(argv[1]) : 12;
  pthread_t t[2];
  for (long w = 0; w < 2; w++)
    pthread_create(&t[w], NULL, worker, (void *)w);
  for (int r = 1; r <= rounds; r++) {
    pthread_mutex_lock(&mu);
    while (progress[0] < r || progress[1] < r)
      pthread_cond_wait(&cv, &mu);
    if (r == rounds - 5) /* this checkpoint holds workers waiting after their last round */
      while (parked < 2)
        pthread_cond_wait(&cv, &mu);
    if (r == rounds - 3) { /* the last checkpoints hold ended workers, not joined yet */
      released = 1;
      pthread_cond_broadcast(&cv);
      while (freed_with[0] < 0 || freed_with[1] < 0)
        pthread_cond_wait(&cv, &mu);
    }
    pthread_mutex_unlock(&mu);
    printf("round %d\n", r);
    fflush(stdout);
    if (r % 3 == 0)
      raise(SIGUSR1);
  }
  for (int w = 0; w < 2; w++)
    pthread_join(t[w], NULL);
  printf("values freed with %ld and %ld, %ld failed sets, main's value %p\n", freed_with[0],
         freed_with[1], set_failed, pthread_getspecific(key));
  return 0;
}
