/* A heap that is mostly free: each round allocates about 20 MiB (small blocks of many size
 * classes, aligned blocks, large blocks), checks and frees most of it, and keeps a few survivors
 * from every round, which later rounds check, grow with realloc, or free.  The allocator's state
 * after a restart (spans with free blocks, free runs) must serve the rounds that follow exactly
 * as the first run's did.  With a second argument R, an instrumented build asks for its own
 * checkpoint (SIGUSR1) after round R's frees. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct keep {
  unsigned char *p;
  size_t n;
  unsigned char v;
};

static struct keep g_keep[4096];
static int g_nkeep;

static uint64_t g_x = 88172645463325252ull;
static uint64_t next(void) {
  g_x ^= g_x << 13;
  g_x ^= g_x >> 7;
  g_x ^= g_x << 17;
  return g_x;
}

static unsigned long check(const struct keep *k) {
  unsigned long bad = 0;
  for (size_t i = 0; i < k->n; i++)
    bad += k->p[i] != (unsigned char)(k->v + i);
  return bad;
}

static void fill(struct keep *k) {
  for (size_t i = 0; i < k->n; i++)
    k->p[i] = (unsigned char)(k->v + i);
}

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 10;
  int own = argc > 2 ? atoi(argv[2]) : 0;
  struct sigaction sa;
  sigaction(SIGUSR1, NULL, &sa);
  if (sa.sa_handler == SIG_DFL || sa.sa_handler == SIG_IGN)
    own = 0; /* the plain build */
  static struct keep tmp[10000];
  unsigned long bad = 0, sum = 0;
  for (int round = 1; round <= rounds; round++) {
    int n = 0;
    for (int i = 0; i < 10000; i++) {
      uint64_t r = next();
      struct keep *k = &tmp[n++];
      k->v = (unsigned char)r;
      if (r % 1000 == 0) {
        k->n = (size_t)(300000 + r % 1000000);
        k->p = malloc(k->n);
      } else if (r % 7 == 0) {
        void *a = NULL;
        k->n = (size_t)(1 + r % 3000);
        if (posix_memalign(&a, (size_t)64 << (r % 6), k->n) != 0)
          return 1;
        k->p = a;
      } else {
        k->n = (size_t)(1 + (r >> 8) % (r % 3 ? 200 : 9000));
        k->p = malloc(k->n);
      }
      if (!k->p)
        return 1;
      fill(k);
    }
    for (int i = 0; i < n; i++) {
      bad += check(&tmp[i]);
      sum += tmp[i].n;
      if (i % 97 == 0 && tmp[i].n < 10000 && g_nkeep < 4096)
        g_keep[g_nkeep++] = tmp[i];
      else
        free(tmp[i].p);
    }
    for (int i = 0; i < g_nkeep; i++) {
      struct keep *k = &g_keep[i];
      bad += check(k);
      uint64_t r = next();
      if (r % 5 == 0 && k->n < 30000) { /* grow (across size classes, maybe into a large block) */
        k->n = k->n * 2 + r % 5000;
        k->p = realloc(k->p, k->n);
        fill(k);
      } else if (r % 5 == 1) {
        free(k->p);
        g_keep[i--] = g_keep[--g_nkeep];
      }
    }
    size_t live = 0;
    for (int i = 0; i < g_nkeep; i++)
      live += g_keep[i].n;
    printf("round %d kept %d (%zu KiB) sum %lu bad %lu\n", round, g_nkeep, live >> 10, sum, bad);
    fflush(stdout);
    if (round == own)
      raise(SIGUSR1);
  }
  printf("done %lu\n", bad);
  return bad != 0;
}
