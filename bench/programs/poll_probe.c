/* Linked into the latency program with -Wl,--wrap=__autockpt_poll_slow, compiled without the
 * pass: records CLOCK_MONOTONIC when a poll first sees the checkpoint request, in latency.c's
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
};
extern struct probe g_probe;

int __real___autockpt_poll_slow(void);

int __wrap___autockpt_poll_slow(void) {
  if (!g_probe.poll_ns) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    g_probe.poll_ns = (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
  }
  g_probe.polls++;
  return __real___autockpt_poll_slow();
}
