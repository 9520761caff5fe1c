/* Image write and restart benchmark: MIB MiB of heap in four arrays, every page written, then a
 * loop of short steps that prints one line per step.  run.py checkpoints it once with SIGUSR1
 * (the runtime logs the write time), then restarts it and times exec -> the first line the
 * resumed program prints.   Usage: bigheap [MIB [STEPS]]   (default 1024 MiB, 200000 steps) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define NPARTS 4

int main(int argc, char **argv) {
  long mib = argc > 1 ? atol(argv[1]) : 1024;
  long steps = argc > 2 ? atol(argv[2]) : 200000;
  long per = (mib << 20) / NPARTS / (long)sizeof(uint64_t);
  uint64_t *part[NPARTS];
  for (int k = 0; k < NPARTS; k++) {
    part[k] = malloc((size_t)per * sizeof(uint64_t));
    if (!part[k])
      return 1;
    for (long i = 0; i < per; i++)  // distinct, non-zero words: no page reads as zero
      part[k][i] = (uint64_t)i * 0x9E3779B97F4A7C15ull + (uint64_t)k + 1;
  }
  printf("ready %ld MiB\n", mib);
  fflush(stdout);
  double x = 1.0;
  for (long s = 0; s < steps; s++) {
    for (int r = 0; r < 20000; r++)  // about 50 us
      x = x * 1.0000001 + 1e-9;
    part[s % NPARTS][(s * 4099) % per] ^= (uint64_t)s;
    printf("step %ld\n", s);
    fflush(stdout);
  }
  uint64_t sum = 0;
  for (int k = 0; k < NPARTS; k++)
    for (long i = 0; i < per; i += 511)
      sum += part[k][i];
  printf("done %llx %.6f\n", (unsigned long long)sum, x);
  return 0;
}
