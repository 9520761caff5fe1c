/* Thread churn: every round starts 16 short-lived threads, half joined and half detached (they
 * report through an atomic counter), 2400 threads over a default run, more than can be live at
 * once in the runtime's table if slots were never reused.  Built with autockpt it asks for its
 * own checkpoint in every 5th round while threads start and exit around it (SIGUSR1,
 * AUTOCKPT_ON_SIGNAL=continue).  Usage: churn ROUNDS */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

enum { PER_ROUND = 16 };

static long sums[PER_ROUND];
static long detached_total;
static int detached_done;

static long work(long seed) {
  long s = 0;
  for (long i = 0; i < 20000 + seed * 100; i++)
    s = (s * 31 + i + seed) % 1000003;
  return s;
}

static void *joined(void *arg) {
  long k = (long)arg;
  sums[k % PER_ROUND] = work(k);
  return (void *)(k * 2);
}

static void *detached(void *arg) {
  __atomic_add_fetch(&detached_total, work((long)arg), __ATOMIC_SEQ_CST);
  __atomic_add_fetch(&detached_done, 1, __ATOMIC_SEQ_CST);
  return NULL;
}

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 150;
  struct sigaction sa;
  sigaction(SIGUSR1, NULL, &sa);
  int self_checkpoint = sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN;
  pthread_attr_t det;
  pthread_attr_init(&det);
  pthread_attr_setdetachstate(&det, PTHREAD_CREATE_DETACHED);
  long check = 0;
  for (int r = 0; r < rounds; r++) {
    pthread_t t[PER_ROUND];
    int want = __atomic_load_n(&detached_done, __ATOMIC_SEQ_CST) + PER_ROUND / 2;
    for (int k = 0; k < PER_ROUND; k++) {
      long id = (long)r * PER_ROUND + k;
      if (k % 2)
        pthread_create(&t[k], &det, detached, (void *)id);
      else
        pthread_create(&t[k], NULL, joined, (void *)id);
      if (self_checkpoint && r % 5 == 2 && k == PER_ROUND / 2)
        raise(SIGUSR1);
    }
    for (int k = 0; k < PER_ROUND; k += 2) {
      void *ret;
      pthread_join(t[k], &ret);
      check += (long)ret;
    }
    while (__atomic_load_n(&detached_done, __ATOMIC_SEQ_CST) < want)
      ;
    long s = 0;
    for (int k = 0; k < PER_ROUND; k += 2)
      s += sums[k];
    if (r % 10 == 9) {
      printf("round %d %ld %ld %ld\n", r + 1, s, check, detached_total);
      fflush(stdout);
    }
  }
  printf("done %d threads, %ld %ld\n", rounds * PER_ROUND, check, detached_total);
  return 0;
}
