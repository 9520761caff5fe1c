/* The incremental-checkpoint benchmark's program (bench/incremental.py, docs/design.md R24): a
 * heap of MIB MiB in 64 MiB blocks, every page written once, then STEPS steps that each write
 * PCT percent of the pages (one word in each, the pages spread over the whole heap, all
 * distinct within a step) and then ask for a checkpoint with SIGUSR1 (run it with
 * AUTOCKPT_ON_SIGNAL=continue).  Prints "ready" before the first step and a checksum of the
 * whole heap at the end.
 *
 *     incremental MIB PCT STEPS
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define PAGE 4096
#define BLOCK (64ull << 20)

int main(int argc, char **argv) {
  uint64_t mib = argc > 1 ? strtoull(argv[1], NULL, 10) : 1024;
  double pct = argc > 2 ? atof(argv[2]) : 5;
  int steps = argc > 3 ? atoi(argv[3]) : 3;
  uint64_t blocks = (mib << 20) / BLOCK;
  if (blocks == 0)
    blocks = 1;
  uint64_t per_block = BLOCK / PAGE, pages = blocks * per_block;
  uint64_t **blk = malloc(blocks * sizeof *blk);
  if (!blk)
    return 1;
  for (uint64_t b = 0; b < blocks; b++) {
    blk[b] = malloc(BLOCK);
    if (!blk[b])
      return 1;
    for (uint64_t i = 0; i < BLOCK / 8; i++)
      blk[b][i] = b * 0x9e3779b97f4a7c15ull + i;
  }
  printf("ready %llu pages\n", (unsigned long long)pages);
  fflush(stdout);
  uint64_t n = (uint64_t)(pages * pct / 100);
  for (int step = 1; step <= steps; step++) {
    /* Page k*M + step mod pages, M odd: distinct pages (pages is a power of two), spread out. */
    for (uint64_t k = 0; k < n; k++) {
      uint64_t p = (k * 2654435761ull + (uint64_t)step * 7919) % pages;
      blk[p / per_block][(p % per_block) * (PAGE / 8)] += (uint64_t)step;
    }
    printf("step %d: %llu pages written\n", step, (unsigned long long)n);
    fflush(stdout);
    raise(SIGUSR1);
  }
  uint64_t sum = 0;
  for (uint64_t b = 0; b < blocks; b++)
    for (uint64_t i = 0; i < BLOCK / 8; i += 511)
      sum += blk[b][i];
  printf("done %llu\n", (unsigned long long)sum);
  return 0;
}
