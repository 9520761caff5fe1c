/* (e) Call-heavy recursive code: naive Fibonacci and a divide-and-conquer (tree) reduction.
 * Every call is a safe point here: an entry poll (recursive functions) and a check after each
 * recursive call. */
#include "bench.h"

#include <math.h>

BENCH_EXTERN_C __attribute__((noinline)) long fib(int n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

/* Sum of a[lo, hi) by halving down to leaves of at most 8 elements. */
__attribute__((noinline)) static double tree_sum(const double *a, long lo, long hi) {
  if (hi - lo <= 8) {
    double s = 0;
    for (long i = lo; i < hi; i++)
      s += a[i] * a[i];
    return s;
  }
  long mid = lo + (hi - lo) / 2;
  return tree_sum(a, lo, mid) - 0.5 * tree_sum(a, mid, hi);
}

BENCH_KERNEL double bench_kernel_recursion(int fn, const double *a, long n, long reps) {
  double acc = (double)fib(fn);
  for (long r = 0; r < reps; r++)
    acc += tree_sum(a, 0, n - (r & 7));
  return acc;
}

int main(int argc, char **argv) {
  double rs = bench_arg(argc, argv, 1), ss = bench_arg(argc, argv, 2);
  /* fib(n) makes ~1.618^n calls: scale n so that fib keeps its share of the work */
  int fn = 37 + (int)floor(log(rs * ss) / log(1.618) + 0.5);
  if (fn < 20)
    fn = 20;
  long n = 1 << 16;
  long reps = bench_scaled(4000, rs * ss, 1);
  double *a = malloc(n * sizeof *a);
  if (!a)
    return 1;
  for (long i = 0; i < n; i++)
    a[i] = (double)(i % 101) * 0.01;
  bench_time t0 = bench_now();
  double r = bench_kernel_recursion(fn, a, n, reps);
  bench_time t = bench_since(t0);
  bench_report_f("recursion", t, r);
  free(a);
  return 0;
}
