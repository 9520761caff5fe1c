/* A loop with the ordered clause: refused by autockpt with a message (docs/design.md O8). */
#include <stdio.h>

int main(void) {
  long s = 0;
#pragma omp parallel for ordered schedule(dynamic) reduction(+ : s)
  for (int i = 0; i < 100; i++) {
#pragma omp ordered
    s += i;
  }
  printf("%ld\n", s);
  return 0;
}
