/* Shared by the benchmark kernels: the clock, the command line and the one result line that
 * bench/run.py parses.  Each kernel times only its kernel (clock_gettime around it) and prints a
 * checksum of the result, so the work cannot be optimised away and the instrumented build can be
 * checked against the plain one.
 *
 * Usage of every kernel:  prog [REPS_SCALE [SIZE_SCALE]]
 *   REPS_SCALE multiplies the repetition count (run.py --quick uses < 1),
 *   SIZE_SCALE multiplies the problem size (callgrind runs use a small one).
 * The timed work sits in a noinline function named bench_kernel* so that
 * `valgrind --tool=callgrind --toggle-collect='bench_kernel*'` counts exactly the kernel. */
#ifndef AUTOCKPT_BENCH_H
#define AUTOCKPT_BENCH_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#ifdef __cplusplus
#define BENCH_EXTERN_C extern "C"
#else
#define BENCH_EXTERN_C
#endif
#define BENCH_KERNEL BENCH_EXTERN_C __attribute__((noinline))

typedef struct {
  double wall, cpu; /* seconds: CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID */
} bench_time;

static inline double bench_clock_s(clockid_t id) {
  struct timespec t;
  clock_gettime(id, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static inline bench_time bench_now(void) {
  bench_time t;
  t.cpu = bench_clock_s(CLOCK_PROCESS_CPUTIME_ID);
  t.wall = bench_clock_s(CLOCK_MONOTONIC);
  return t;
}

/* Adds the time since t0 to *acc. */
static inline void bench_add_since(bench_time *acc, bench_time t0) {
  bench_time t1 = bench_now();
  acc->wall += t1.wall - t0.wall;
  acc->cpu += t1.cpu - t0.cpu;
}

static inline bench_time bench_since(bench_time t0) {
  bench_time acc = {0, 0};
  bench_add_since(&acc, t0);
  return acc;
}

static inline double bench_arg(int argc, char **argv, int k) {
  double v = argc > k ? atof(argv[k]) : 1.0;
  return v > 0 ? v : 1.0;
}

/* n scaled by s, at least lo. */
static inline long bench_scaled(long n, double s, long lo) {
  long v = (long)((double)n * s + 0.5);
  return v < lo ? lo : v;
}

/* A small deterministic generator (xorshift64*), the same in both builds. */
static inline uint64_t bench_rand(uint64_t *state) {
  uint64_t x = *state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *state = x;
  return x * 0x2545F4914F6CDD1Dull;
}

/* The line run.py reads.  The checksum is printed exactly (hex bits of a double, or an integer),
 * so plain and instrumented builds must agree to the last bit. */
static inline void bench_report_f(const char *name, bench_time t, double checksum) {
  union { double d; uint64_t u; } c;
  c.d = checksum;
  printf("BENCH kernel=%s seconds=%.6f cpu=%.6f checksum=%016llx (%.10g)\n", name, t.wall, t.cpu,
         (unsigned long long)c.u, checksum);
  fflush(stdout);
}

static inline void bench_report_u(const char *name, bench_time t, uint64_t checksum) {
  printf("BENCH kernel=%s seconds=%.6f cpu=%.6f checksum=%016llx\n", name, t.wall, t.cpu,
         (unsigned long long)checksum);
  fflush(stdout);
}

#endif
