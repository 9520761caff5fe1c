/* (a') the same triad on arrays that fit in L1 (3 x 1000 doubles = 24 KB), called many times:
 * the worst case for a poll per vector iteration (the loop body is a handful of instructions). */
#include "bench.h"

BENCH_KERNEL void bench_kernel_triad(double *restrict a, const double *restrict b,
                                     const double *restrict c, double s, long n) {
  for (long i = 0; i < n; i++)
    a[i] = b[i] + s * c[i];
}

int main(int argc, char **argv) {
  long n = 1000;
  long reps = bench_scaled(1500000, bench_arg(argc, argv, 1) * bench_arg(argc, argv, 2), 10);
  double *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b), *c = malloc(n * sizeof *c);
  if (!a || !b || !c)
    return 1;
  for (long i = 0; i < n; i++) {
    a[i] = 0;
    b[i] = (double)(i % 100) * 0.5;
    c[i] = (double)(i % 77) * 0.25;
  }
  bench_time t0 = bench_now();
  double acc = 0;
  for (long r = 0; r < reps; r++) {
    bench_kernel_triad(a, b, c, 1.0 + (double)(r & 1023) * 1e-3, n);
    acc += a[r % n];
  }
  bench_time t = bench_since(t0);
  bench_report_f("triad_l1", t, acc);
  free(a);
  free(b);
  free(c);
  return 0;
}
