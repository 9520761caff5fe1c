/* Linked into the latency program with -Wl,--wrap=__autockpt_poll_slow, compiled without the
 * pass: records the time (CLOCK_MONOTONIC, and the thread's CPU time) when a poll first sees the
 * checkpoint request, in latency.c's
 * probe (a global of an instrumented module, so the image saves it), then hands over to the
 * runtime's slow path unchanged. */
#include <stdint.h>
#include <time.h>

struct probe {
  uint64_t magic;
  uint64_t last_ns;
  uint64_t rows;
  uint64_t poll_ns;
  uint64_t polls;
  uint64_t last_cpu_ns;
  uint64_t poll_cpu_ns;
};
extern struct probe g_probe;

int __real___autockpt_poll_slow(void);

int __wrap___autockpt_poll_slow(void) {
  if (!g_probe.poll_ns) {
    struct timespec t, c;
    clock_gettime(CLOCK_MONOTONIC, &t);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c);
    g_probe.poll_ns = (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
    g_probe.poll_cpu_ns = (uint64_t)c.tv_sec * 1000000000ull + (uint64_t)c.tv_nsec;
  }
  g_probe.polls++;
  return __real___autockpt_poll_slow();
}
