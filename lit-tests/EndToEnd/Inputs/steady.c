/* A program whose live data never changes: a fixed heap, worked on forever (the harness kills
 * it).  It keeps a pointer getenv gave it at the start and checks it stays the same string, and
 * prints CHAIN_VAR whenever getenv's value differs from the last one it saw. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double *grid;
static const char *first, *last;
static char first_copy[64];

static double sweep(int n) {
  double s = 0;
  for (int i = 1; i < n - 1; i++) {
    grid[i] = 0.5 * grid[i] + 0.25 * (grid[i - 1] + grid[i + 1]);
    s += grid[i];
  }
  return s;
}

int main(void) {
  int n = 2048;
  grid = malloc(n * sizeof *grid);
  for (int i = 0; i < n; i++)
    grid[i] = i % 7;
  first = last = getenv("CHAIN_VAR");
  if (!first)
    return 2;
  snprintf(first_copy, sizeof first_copy, "%s", first);
  printf("CHAIN_VAR=%s\n", first);
  fflush(stdout);
  for (long step = 0;; step++) {
    double s = sweep(n);
    const char *now = getenv("CHAIN_VAR");
    if (!now || strcmp(first, first_copy) != 0) {
      printf("kept pointer broken at step %ld\n", step);
      return 3;
    }
    if (strcmp(now, last) != 0) {
      printf("CHAIN_VAR=%s\n", now);
      fflush(stdout);
      last = now;
    }
    if (s < 0)
      return 4;
  }
}
