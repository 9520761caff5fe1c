/* (b) Jacobi sweeps of a 2D 5-point stencil on a 2000 x 2000 grid (2 x 32 MB).  The OpenMP
 * pragma is ignored here; bench/omp/run.py builds the same file with -fopenmp (a region forked
 * per sweep). */
#include "bench.h"

BENCH_KERNEL void bench_kernel_stencil(double *restrict out, const double *restrict in, long n) {
#pragma omp parallel for schedule(static)
  for (long i = 1; i < n - 1; i++)
    for (long j = 1; j < n - 1; j++)
      out[i * n + j] = 0.2 * (in[i * n + j] + in[(i - 1) * n + j] + in[(i + 1) * n + j] +
                              in[i * n + j - 1] + in[i * n + j + 1]);
}

int main(int argc, char **argv) {
  long n = bench_scaled(2000, bench_arg(argc, argv, 2), 16);
  long sweeps = bench_scaled(60, bench_arg(argc, argv, 1), 2);
  double *u = malloc(n * n * sizeof *u), *v = malloc(n * n * sizeof *v);
  if (!u || !v)
    return 1;
  for (long i = 0; i < n; i++)
    for (long j = 0; j < n; j++)
      u[i * n + j] = v[i * n + j] = (i == 0 || j == 0) ? 1.0 : (double)((i * 7 + j * 3) % 11);
  bench_time t0 = bench_now();
  for (long s = 0; s < sweeps; s++) {
    bench_kernel_stencil(v, u, n);
    double *w = u;
    u = v;
    v = w;
  }
  bench_time t = bench_since(t0);
  double sum = 0;
  for (long i = 0; i < n * n; i += 3)
    sum += u[i];
  bench_report_f("stencil", t, sum);
  free(u);
  free(v);
  return 0;
}
