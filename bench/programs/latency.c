/* Request-to-checkpoint latency in loop code: Jacobi sweeps of a 5-point stencil (512 x 512);
 * before each row the loop stores CLOCK_MONOTONIC (ns) into a global probe.  The probe is saved
 * in the image; poll_probe.c (linked with -Wl,--wrap=__autockpt_poll_slow) adds the time at which
 * a poll first saw the request.  run.py finds the probe in the image by its magic word and
 * subtracts the time at which it sent the signal.   Usage: latency [SWEEPS] */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define N 512

struct probe {
  uint64_t magic;    /* run.py looks for this word in the image */
  uint64_t last_ns;  /* CLOCK_MONOTONIC at the start of the last row */
  uint64_t rows;
  uint64_t poll_ns;  /* set by poll_probe.c: when the first poll saw the request */
  uint64_t polls;
  uint64_t last_cpu_ns; /* CLOCK_THREAD_CPUTIME_ID beside last_ns, */
  uint64_t poll_cpu_ns; /* and beside poll_ns: tells running time from time off the CPU */
};
struct probe g_probe = {0x59434e4554414c41ull /* "ALATENCY" */, 0, 0, 0, 0, 0, 0};

static uint64_t now_ns(clockid_t id) {
  struct timespec t;
  clock_gettime(id, &t);
  return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

int main(int argc, char **argv) {
  long sweeps = argc > 1 ? atol(argv[1]) : 200000;
  double *u = malloc(N * N * sizeof *u), *v = malloc(N * N * sizeof *v);
  if (!u || !v)
    return 1;
  for (long i = 0; i < N * N; i++)
    u[i] = v[i] = (double)(i % 7);
  volatile struct probe *p = &g_probe;
  printf("ready\n");
  fflush(stdout);
  for (long s = 0; s < sweeps; s++) {
    for (long i = 1; i < N - 1; i++) {
      p->last_cpu_ns = now_ns(CLOCK_THREAD_CPUTIME_ID);
      p->last_ns = now_ns(CLOCK_MONOTONIC);
      p->rows++;
      for (long j = 1; j < N - 1; j++)
        v[i * N + j] = 0.2 * (u[i * N + j] + u[(i - 1) * N + j] + u[(i + 1) * N + j] +
                              u[i * N + j - 1] + u[i * N + j + 1]);
    }
    double *w = u;
    u = v;
    v = w;
  }
  printf("done %.6f\n", u[N * N / 2 + 7]);
  return 0;
}
