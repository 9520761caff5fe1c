/* A large heap of which each step changes a few percent (incremental checkpoints, docs/design.md
 * R24).  BLOCKS blocks of 4 MiB (24 MiB in all) hold pages whose contents follow from the page
 * and how often it was written (ver[], a global, saved whole in every image); each step checks
 * and rewrites about 3% of the pages, drawn at random, frees a 512 KiB block and allocates it
 * again with calloc (its released pages come back zero, and must read zero after a restart too:
 * only a few of them are written), and grows a list of small blocks by 64 while freeing some.
 * Half of the blocks are rewritten by a thread started for each step (its writes must be
 * tracked as the main thread's are).  A page restored from the wrong generation shows as "bad".
 * Every page is checked at the end.
 * With a second argument, an instrumented build asks for a checkpoint after every step
 * (SIGUSR1; run it with AUTOCKPT_ON_SIGNAL=continue). */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE 4096
#define BLOCKS 6
#define BLOCK_PAGES 1024
#define SPARE_PAGES 128

static unsigned char *blk[BLOCKS];
static unsigned short ver[BLOCKS][BLOCK_PAGES];
static unsigned char *spare;
static unsigned short spare_ver[SPARE_PAGES];

struct node {
  struct node *next;
  uint64_t value;
};
static struct node *list;

static uint64_t g_x = 88172645463325252ull, g_y = 1181783497276652981ull;
static uint64_t next(uint64_t *x) {
  *x ^= *x << 13;
  *x ^= *x >> 7;
  *x ^= *x << 17;
  return *x;
}
static uint64_t draw(void) { return next(&g_x); }

/* Writes page version v of page (b, i); version 0 is a page never written: zero. */
static void fill(uint64_t *q, unsigned b, unsigned i, unsigned v) {
  uint64_t x = (uint64_t)b * 1000003u + (uint64_t)i * 7919u + (uint64_t)v * 104729u + 1;
  for (int k = 0; k < PAGE / 8; k++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    q[k] = v ? x : 0;
  }
}

static unsigned long check(const uint64_t *q, unsigned b, unsigned i, unsigned v) {
  uint64_t want[PAGE / 8];
  fill(want, b, i, v);
  return memcmp(q, want, PAGE) != 0;
}

/* Checks and rewrites about 3% of the pages of blocks [from, to), drawn with *x. */
static unsigned long rewrite(unsigned from, unsigned to, uint64_t *x) {
  unsigned long bad = 0;
  for (int k = 0; k < (int)(to - from) * BLOCK_PAGES * 3 / 100; k++) {
    uint64_t r = next(x);
    unsigned b = from + (unsigned)(r % (to - from)), i = (unsigned)((r >> 8) % BLOCK_PAGES);
    uint64_t *q = (uint64_t *)(blk[b] + (size_t)i * PAGE);
    bad += check(q, b, i, ver[b][i]);
    fill(q, b, i, ++ver[b][i]);
  }
  return bad;
}

static unsigned long worker_bad;
static void *worker(void *arg) {
  (void)arg;
  worker_bad = rewrite(BLOCKS / 2, BLOCKS, &g_y);
  return NULL;
}

int main(int argc, char **argv) {
  int steps = argc > 1 ? atoi(argv[1]) : 12;
  int own = argc > 2 && atoi(argv[2]) > 0;
  struct sigaction sa;
  sigaction(SIGUSR1, NULL, &sa);
  if (sa.sa_handler == SIG_DFL || sa.sa_handler == SIG_IGN)
    own = 0; /* the plain build */
  unsigned long bad = 0;
  for (unsigned b = 0; b < BLOCKS; b++) {
    blk[b] = malloc((size_t)BLOCK_PAGES * PAGE);
    if (!blk[b])
      return 1;
    for (unsigned i = 0; i < BLOCK_PAGES; i++) {
      ver[b][i] = 1;
      fill((uint64_t *)(blk[b] + (size_t)i * PAGE), b, i, 1);
    }
  }
  for (int step = 1; step <= steps; step++) {
    pthread_t t;
    if (pthread_create(&t, NULL, worker, NULL) != 0)
      return 1;
    bad += rewrite(0, BLOCKS / 2, &g_x);
    pthread_join(t, NULL);
    bad += worker_bad;
    if (spare) {
      for (unsigned i = 0; i < SPARE_PAGES; i++)
        bad += check((uint64_t *)(spare + (size_t)i * PAGE), BLOCKS, i, spare_ver[i]);
      free(spare);
    }
    spare = calloc(SPARE_PAGES, PAGE);
    if (!spare)
      return 1;
    memset(spare_ver, 0, sizeof spare_ver);
    for (int k = 0; k < 8; k++) {
      unsigned i = (unsigned)(draw() % SPARE_PAGES);
      fill((uint64_t *)(spare + (size_t)i * PAGE), BLOCKS, i, ++spare_ver[i]);
    }
    uint64_t sum = 0;
    for (int k = 0; k < 64; k++) {
      struct node *n = malloc(sizeof *n);
      if (!n)
        return 1;
      n->value = draw() % 1000;
      n->next = list;
      list = n;
    }
    for (struct node **p = &list; *p;) {
      sum += (*p)->value;
      if ((*p)->value % 3 == 0) {
        struct node *gone = *p;
        *p = gone->next;
        free(gone);
      } else {
        p = &(*p)->next;
      }
    }
    printf("step %d list %llu bad %lu\n", step, (unsigned long long)sum, bad);
    fflush(stdout);
    if (own)
      raise(SIGUSR1);
  }
  for (unsigned b = 0; b < BLOCKS; b++)
    for (unsigned i = 0; i < BLOCK_PAGES; i++)
      bad += check((uint64_t *)(blk[b] + (size_t)i * PAGE), b, i, ver[b][i]);
  printf("done bad %lu\n", bad);
  return bad != 0;
}
