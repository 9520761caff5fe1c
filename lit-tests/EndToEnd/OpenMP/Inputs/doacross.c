/* A doacross loop (ordered(1) with depend): refused by autockpt with a message (docs/design.md
 * O8). */
#include <stdio.h>

int main(void) {
  static long a[100];
#pragma omp parallel for ordered(1)
  for (int i = 1; i < 100; i++) {
#pragma omp ordered depend(sink : i - 1)
    a[i] = a[i - 1] + i;
#pragma omp ordered depend(source)
  }
  printf("%ld\n", a[99]);
  return 0;
}
