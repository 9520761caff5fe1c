/* Allocator benchmark (C): malloc/free churn of mixed sizes over a working set of 64K live
 * blocks (mostly 8-256 bytes, some 256 B-4 KB, a few 4-64 KB), plus realloc growth. */
#include "bench.h"

#include <string.h>

static size_t pick_size(uint64_t *rng) {
  uint64_t r = bench_rand(rng);
  unsigned k = (unsigned)(r & 1023);
  if (k < 900)
    return 8 + (size_t)((r >> 10) % 249);  // 8..256
  if (k < 1015)
    return 256 + (size_t)((r >> 10) % 3841);  // 256..4096
  return 4096 + (size_t)((r >> 10) % 61441);  // 4 KB..64 KB
}

BENCH_KERNEL uint64_t bench_kernel_alloc(void **slot, long nslots, long ops, uint64_t *rng) {
  uint64_t check = 0;
  for (long op = 0; op < ops; op++) {
    uint64_t r = bench_rand(rng);
    long s = (long)(r % (uint64_t)nslots);
    if (slot[s] && (r >> 40) % 8 == 0) {  // grow in place or move
      size_t n = pick_size(rng) * 2;
      char *p = realloc(slot[s], n);
      if (!p)
        abort();
      p[n - 1] = (char)op;
      slot[s] = p;
      check += (unsigned char)p[0];
      continue;
    }
    free(slot[s]);
    size_t n = pick_size(rng);
    char *p = malloc(n);
    if (!p)
      abort();
    p[0] = (char)n;
    p[n - 1] = (char)op;
    slot[s] = p;
    check += n;
  }
  return check;
}

int main(int argc, char **argv) {
  long nslots = bench_scaled(65536, bench_arg(argc, argv, 2), 64);
  long ops = bench_scaled(2500000, bench_arg(argc, argv, 1) * bench_arg(argc, argv, 2), 1000);
  void **slot = calloc((size_t)nslots, sizeof *slot);
  if (!slot)
    return 1;
  uint64_t rng = 0xC0FFEEull;
  bench_time t0 = bench_now();
  uint64_t check = bench_kernel_alloc(slot, nslots, ops, &rng);
  for (long s = 0; s < nslots; s++)
    free(slot[s]);
  bench_time t = bench_since(t0);
  bench_report_u("alloc_churn", t, check);
  free(slot);
  return 0;
}
