/* Indirect calls, and a comparator called back by the C library's qsort: a safe point reached
 * through qsort's frame must not unwind (the checkpoint waits for the next safe point). */
#include <stdio.h>
#include <stdlib.h>

static long compares;

static int by_value(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  unsigned h = (unsigned)x;
  for (int i = 0; i < 40; i++) /* a loop: the comparator itself polls */
    h = h * 2654435761u + (unsigned)i;
  compares += h & 1;
  return (x > y) - (x < y);
}

static long sum_every(const int *a, int n, int step) {
  long s = 0;
  for (int i = 0; i < n; i += step)
    s += a[i] % 1000;
  return s;
}

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 12;
  long (*reduce)(const int *, int, int) = sum_every; /* an indirect call */
  unsigned seed = 7;
  long check = 0;
  for (int round = 1; round <= rounds; round++) {
    int n = 50000;
    int *a = malloc(n * sizeof *a);
    for (int i = 0; i < n; i++)
      a[i] = (int)((seed = seed * 1103515245u + 12345u) >> 8);
    qsort(a, n, sizeof *a, by_value);
    check += reduce(a, n, 997);
    free(a);
    printf("round %d check %ld compares %ld\n", round, check, compares);
    fflush(stdout);
  }
  printf("done %ld %ld\n", check, compares);
  return 0;
}
