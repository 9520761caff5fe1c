/* A run that is one pair of nested parallel regions, 2 x 2 threads (max active levels 2), as in
 * a transport sweep: each outer thread's inner team steps through its own row block with a
 * dynamic and a static loop, an omp lock, a single and barriers in every step, and nothing is
 * printed until the regions end, so every checkpoint is taken inside the inner regions
 * (docs/design.md O11).  `block` lives in the outer member's frame and is shared with its inner
 * team; `mine` lives in each inner member's own frame (a nested team's worker: on its member
 * stack) and is carried across the steps.  With -DDEEP every step also forks a third level, 2
 * threads more under each inner thread: those members defer a request until their region ends
 * (O8), and the checkpoint is taken at level 2.
 * Usage: sweep STEPS */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

enum { N = 2000 };
static long a[2][N], b[2][N];
static long steps_done[2];
static omp_lock_t lock;

int main(int argc, char **argv) {
  int steps = argc > 1 ? atoi(argv[1]) : 40;
#ifdef DEEP
  omp_set_max_active_levels(3);
#else
  omp_set_max_active_levels(2);
#endif
  omp_init_lock(&lock);
  long total = 0;
#pragma omp parallel num_threads(2)
  {
    int outer = omp_get_thread_num();
    long block = 0;
#pragma omp parallel num_threads(2)
    {
      int inner = omp_get_thread_num();
      long mine = inner + 1;
      for (int s = 0; s < steps; s++) {
        long part = 0;
#pragma omp for schedule(dynamic, 16)
        for (int i = 0; i < N; i++) {
          long v = a[outer][i] + i + s;
          for (int j = 0; j < 40; j++)
            v = (v * 1103515245 + 12345) % 1000003;
          a[outer][i] = v;
          part += v % 1000;
        }
        omp_set_lock(&lock);
        total += part;
        omp_unset_lock(&lock);
        mine = (mine * 31 + a[outer][(s * 7 + inner) % N]) % 1000000007;
#ifdef DEEP
        long deep = 0;
#pragma omp parallel num_threads(2) reduction(+ : deep)
        deep += a[outer][(s + omp_get_thread_num()) % N] % 11;
        mine = (mine + deep) % 1000000007;
#endif
#pragma omp single
        {
          block += a[outer][s % N] % 7;
          steps_done[outer]++;
        }
#pragma omp for schedule(static)
        for (int i = 0; i < N; i++)
          b[outer][i] = (b[outer][i] * 7 + a[outer][i]) % 1000003;
      }
      omp_set_lock(&lock);
      total += mine;
      omp_unset_lock(&lock);
    }
    omp_set_lock(&lock);
    total += block * (outer + 1);
    omp_unset_lock(&lock);
  }
  long check = 0;
  for (int o = 0; o < 2; o++)
    for (int i = 0; i < N; i++)
      check = (check * 31 + b[o][i]) % 1000000007;
  printf("total %ld check %ld steps %ld %ld\n", total, check, steps_done[0], steps_done[1]);
  printf("done %d steps\n", steps);
  return 0;
}
