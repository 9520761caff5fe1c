/* A varargs function with arguments on the stack, checkpointed inside its va_arg loop. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static long inner = 12000000;  /* iterations per value: long enough to be interrupted there */

static double weighted(int n, ...) {
  va_list ap;
  va_start(ap, n);
  double s = 0;
  for (int i = 0; i < n; i++) {
    double v = va_arg(ap, double);
    for (long k = 0; k < inner; k++)
      s += v * (k % 3) * 1e-6;
  }
  va_end(ap);
  return s;
}

int main(int argc, char **argv) {
  if (argc > 1)
    inner = atol(argv[1]) * 1000;  /* in thousands */
  double t = 0;
  for (int round = 1; round <= 10; round++) {
    t += weighted(10, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0 * round);
    printf("round %d %.6f\n", round, t);
    fflush(stdout);
  }
  printf("done %.6f\n", t);
  return 0;
}
