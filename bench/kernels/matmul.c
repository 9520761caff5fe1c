/* (c) Blocked dense matrix multiply C += A*B, 800 x 800 doubles, 64 x 64 blocks. */
#include "bench.h"

#define BS 64

static inline long min_l(long a, long b) { return a < b ? a : b; }

BENCH_KERNEL void bench_kernel_matmul(const double *restrict A, const double *restrict B,
                                      double *restrict C, long n) {
  for (long ii = 0; ii < n; ii += BS)
    for (long kk = 0; kk < n; kk += BS)
      for (long jj = 0; jj < n; jj += BS) {
        long ie = min_l(ii + BS, n), ke = min_l(kk + BS, n), je = min_l(jj + BS, n);
        for (long i = ii; i < ie; i++)
          for (long k = kk; k < ke; k++) {
            double a = A[i * n + k];
            for (long j = jj; j < je; j++)
              C[i * n + j] += a * B[k * n + j];
          }
      }
}

int main(int argc, char **argv) {
  long n = bench_scaled(800, bench_arg(argc, argv, 2), 16);
  long reps = bench_scaled(2, bench_arg(argc, argv, 1), 1);
  double *A = malloc(n * n * sizeof *A), *B = malloc(n * n * sizeof *B),
         *C = calloc(n * n, sizeof *C);
  if (!A || !B || !C)
    return 1;
  for (long i = 0; i < n * n; i++) {
    A[i] = (double)(i % 13) * 0.125 - 0.5;
    B[i] = (double)(i % 17) * 0.0625 - 0.25;
  }
  bench_time t0 = bench_now();
  for (long r = 0; r < reps; r++)
    bench_kernel_matmul(A, B, C, n);
  bench_time t = bench_since(t0);
  double sum = 0;
  for (long i = 0; i < n * n; i++)
    sum += C[i];
  bench_report_f("matmul", t, sum);
  free(A);
  free(B);
  free(C);
  return 0;
}
