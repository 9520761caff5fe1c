/* (a) STREAM triad a = b + s*c over arrays far larger than the last-level cache (3 x 160 MB):
 * memory-bound, so a poll per vector iteration should cost nothing measurable.  The OpenMP
 * pragmas are ignored here; bench/omp/run.py builds the same file with -fopenmp. */
#include "bench.h"

BENCH_KERNEL void bench_kernel_triad(double *restrict a, const double *restrict b,
                                     const double *restrict c, double s, long n) {
#pragma omp parallel for schedule(static)
  for (long i = 0; i < n; i++)
    a[i] = b[i] + s * c[i];
}

int main(int argc, char **argv) {
  long n = bench_scaled(20000000, bench_arg(argc, argv, 2), 1000);
  long reps = bench_scaled(12, bench_arg(argc, argv, 1), 1);
  double *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b), *c = malloc(n * sizeof *c);
  if (!a || !b || !c)
    return 1;
#pragma omp parallel for schedule(static)
  for (long i = 0; i < n; i++) {  /* with OpenMP: first touch by the thread that uses the page */
    a[i] = 0;
    b[i] = (double)(i % 1000) * 0.5;
    c[i] = (double)(i % 777) * 0.25;
  }
  bench_time t0 = bench_now();
  for (long r = 0; r < reps; r++)
    bench_kernel_triad(a, b, c, 1.0 + (double)r * 1e-3, n);
  bench_time t = bench_since(t0);
  double sum = 0;
  for (long i = 0; i < n; i += 7)
    sum += a[i];
  bench_report_f("triad_mem", t, sum);
  free(a);
  free(b);
  free(c);
  return 0;
}
