/* The stack: a variable-length array and alloca() (the dynamic stack area is saved and
 * re-allocated at the same addresses), a 256 MiB local array, and pointers from the heap and
 * from globals into all of them. */
#include <alloca.h>
#include <stdio.h>
#include <stdlib.h>

static double *g_into_stack;

static double smooth(int n, int rounds) {
  double vla[n];
  double *tmp = alloca(n * sizeof(double));
  for (int i = 0; i < n; i++) {
    vla[i] = i;
    tmp[i] = 2.0 * i;
  }
  double s = 0;
  for (int r = 0; r < rounds; r++)
    for (int i = 0; i < n; i++) {
      vla[i] = vla[i] * 0.999 + tmp[(i * 7) % n] * 0.001;
      s += vla[i];
    }
  return s;
}

int main(int argc, char **argv) {
  static const size_t big_n = (256u << 20) / sizeof(double);
  double big[big_n];
  (void)argv;
  for (size_t i = 0; i < big_n; i += 4096)
    big[i] = (double)i;
  g_into_stack = &big[4096 * 3];
  double **on_heap = malloc(sizeof *on_heap);
  *on_heap = &big[4096 * 5];
  double t = 0;
  for (int round = 1; round <= 12; round++) {
    t += smooth(1000 + round + argc, 2000);
    big[(size_t)round * 4096] += t;
    printf("round %d %.3f\n", round, t);
    fflush(stdout);
  }
  printf("done %.3f %.1f %.1f\n", t, *g_into_stack, **on_heap);
  return 0;
}
