/* stencil_peer.c - a copy of ../shared/peer-programs/stencil.c, on which CRIU and DMTCP were
 * measured (their figures: ../shared/peer-programs/README.md); bench/stop.py times its stops.
 * 2D Jacobi heat iteration on two N x N double arrays (heap).
 * usage: stencil N ITERS [REPORT_EVERY] [init: rand|hot]
 *   rand (default): interior filled from a fixed-seed PRNG (incompressible data)
 *   hot: interior 0, boundary 100 (mostly zeros: highly compressible data)
 * Live state = 2 * N * N * 8 bytes (N=4096 -> 256 MiB).
 * Final line: "CHECKSUM stencil ... sum=S hash=H" (bitwise hash of the grid). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;
static uint64_t rng(void) { /* xorshift64* */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 2685821657736338717ULL;
}

static double cpu_s(void) { /* user+sys CPU time of this process */
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}
static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 4096;
  long iters = argc > 2 ? atol(argv[2]) : 100;
  long every = argc > 3 ? atol(argv[3]) : 10;
  int hot = argc > 4 && strcmp(argv[4], "hot") == 0;
  size_t cells = (size_t)n * (size_t)n;
  double *a = malloc(cells * sizeof(double));
  double *b = malloc(cells * sizeof(double));
  if (!a || !b) { perror("malloc"); return 1; }
  setvbuf(stdout, NULL, _IOLBF, 0);
  for (long i = 0; i < n; i++)
    for (long j = 0; j < n; j++) {
      int edge = (i == 0 || j == 0 || i == n - 1 || j == n - 1);
      double v = hot ? (edge ? 100.0 : 0.0) : (double)(rng() >> 11) * 0x1.0p-53;
      a[i * n + j] = v;
    }
  memcpy(b, a, cells * sizeof(double));
  double t0 = now();
  printf("stencil n=%ld iters=%ld state_mib=%.1f init=%s t=%.3f\n", n, iters,
         2.0 * cells * sizeof(double) / 1048576.0, hot ? "hot" : "rand", t0);
  for (long it = 1; it <= iters; it++) {
    for (long i = 1; i < n - 1; i++) {
      const double *up = a + (i - 1) * n, *mid = a + i * n, *dn = a + (i + 1) * n;
      double *out = b + i * n;
      for (long j = 1; j < n - 1; j++)
        out[j] = 0.25 * (up[j] + dn[j] + mid[j - 1] + mid[j + 1]);
    }
    double *tmp = a; a = b; b = tmp;
    if (every > 0 && it % every == 0)
      printf("iter %ld center=%.17g t=%.3f\n", it, a[(n / 2) * n + n / 2], now());
  }
  double sum = 0.0;
  uint64_t h = 1469598103934665603ULL;
  for (size_t k = 0; k < cells; k++) {
    uint64_t bits;
    memcpy(&bits, &a[k], sizeof bits);
    h = (h ^ bits) * 1099511628211ULL;
    sum += a[k];
  }
  printf("iter_s=%.3f cpu_s=%.3f\n", now() - t0, cpu_s());
  printf("CHECKSUM stencil n=%ld iters=%ld sum=%.17g hash=%016llx\n", n, iters,
         sum, (unsigned long long)h);
  free(a); free(b);
  return 0;
}
