/* The stencil kernel of bench/kernels/stencil.c shared by THREADS pthreads: each sweeps its band
 * of rows, and all meet at a pthread barrier after every sweep.  Compared with stencil.c, it
 * shows what threads add to the overhead of instrumented code (per-thread state word, barrier).
 * Usage: stencil_mt [REPS_SCALE [SIZE_SCALE [THREADS]]] */
#include "../kernels/bench.h"

#include <pthread.h>

static long n, sweeps;
static int nthreads;
static double *grid[2];
static pthread_barrier_t bar;

BENCH_KERNEL void bench_kernel_stencil_band(double *restrict out, const double *restrict in,
                                            long n, long lo, long hi) {
  for (long i = lo; i < hi; i++)
    for (long j = 1; j < n - 1; j++)
      out[i * n + j] = 0.2 * (in[i * n + j] + in[(i - 1) * n + j] + in[(i + 1) * n + j] +
                              in[i * n + j - 1] + in[i * n + j + 1]);
}

static void *sweep(void *arg) {
  long t = (long)arg, rows = n - 2;
  long lo = 1 + rows * t / nthreads, hi = 1 + rows * (t + 1) / nthreads;
  for (long s = 0; s < sweeps; s++) {
    bench_kernel_stencil_band(grid[(s + 1) % 2], grid[s % 2], n, lo, hi);
    pthread_barrier_wait(&bar);
  }
  return NULL;
}

int main(int argc, char **argv) {
  n = bench_scaled(2000, bench_arg(argc, argv, 2), 16);
  sweeps = bench_scaled(60, bench_arg(argc, argv, 1), 2);
  nthreads = argc > 3 ? atoi(argv[3]) : 2;
  if (nthreads < 1 || nthreads > 64)
    return 2;
  for (int k = 0; k < 2; k++)
    if (!(grid[k] = malloc(n * n * sizeof(double))))
      return 1;
  for (long i = 0; i < n; i++)
    for (long j = 0; j < n; j++)
      grid[0][i * n + j] = grid[1][i * n + j] =
          (i == 0 || j == 0) ? 1.0 : (double)((i * 7 + j * 3) % 11);
  pthread_barrier_init(&bar, NULL, nthreads);
  pthread_t tid[64];
  bench_time t0 = bench_now();
  for (long t = 1; t < nthreads; t++)
    pthread_create(&tid[t], NULL, sweep, (void *)t);
  sweep((void *)0);
  for (long t = 1; t < nthreads; t++)
    pthread_join(tid[t], NULL);
  bench_time t = bench_since(t0);
  double sum = 0, *u = grid[sweeps % 2];
  for (long i = 0; i < n * n; i += 3)
    sum += u[i];
  bench_report_f("stencil_mt", t, sum);
  return 0;
}
