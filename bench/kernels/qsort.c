/* (g) qsort of 1M doubles with a comparator callback (called from libc, not instrumented). */
#include "bench.h"

#include <string.h>

static int cmp_double(const void *pa, const void *pb) {
  double a = *(const double *)pa, b = *(const double *)pb;
  return (a > b) - (a < b);
}

BENCH_KERNEL void bench_kernel_qsort(double *v, long n) { qsort(v, (size_t)n, sizeof *v, cmp_double); }

int main(int argc, char **argv) {
  long n = bench_scaled(1000000, bench_arg(argc, argv, 2), 100);
  long reps = bench_scaled(3, bench_arg(argc, argv, 1), 1);
  double *master = malloc(n * sizeof *master), *v = malloc(n * sizeof *v);
  if (!master || !v)
    return 1;
  uint64_t rng = 0x9E3779B97F4A7C15ull;
  for (long i = 0; i < n; i++)
    master[i] = (double)(bench_rand(&rng) >> 11) * 0x1p-53;
  bench_time t = {0, 0};
  double check = 0;
  for (long r = 0; r < reps; r++) {
    memcpy(v, master, n * sizeof *v);
    v[r % n] = -1.0 * (double)r;
    bench_time t0 = bench_now();
    bench_kernel_qsort(v, n);
    bench_add_since(&t, t0);
    for (long i = 1; i < n; i++)
      if (v[i - 1] > v[i])
        return 2;
    check += v[n / 2] + v[n / 3] + v[0];
  }
  bench_report_f("qsort", t, check);
  free(master);
  free(v);
  return 0;
}
