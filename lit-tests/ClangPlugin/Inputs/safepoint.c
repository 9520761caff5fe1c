// The outer loop's only poll is where the pragma stands, in the middle of its body: every
// checkpoint is taken there and every restore re-enters there, with x, acc and s live across it.
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 2000;
  double x = 1.0;
  long acc = 0;
  for (int s = 0; s < n; s++) {
    for (int k = 0; k < 1000; k++)  // bounded: no poll of its own
      x = x * 1.0000001 + 1e-9;
    acc += (long)(x * 1000) % 7;
#pragma autockpt safepoint
    acc ^= s;
    if (s % 100 == 0)
      printf("%d %ld %.9f\n", s, acc, x);
  }
  printf("done %ld %.9f\n", acc, x);
  return 0;
}
