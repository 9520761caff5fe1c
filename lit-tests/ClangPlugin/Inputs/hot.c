// A hand-tuned kernel the user keeps free of polls, next to a loop that keeps its poll; a fork
// for the wrapper's -Wno-autockpt-fork.
#include <unistd.h>

void hot(float *restrict y, const float *restrict x, float a, int n) {
#pragma autockpt nopoll
  for (int i = 0; i < n; i++)
    y[i] += a * x[i];
}

float sum(const float *x, int n) {
  float s = 0;
  for (int i = 0; i < n; i++)
    s += x[i] * x[i];
  return s;
}

int child(void) { return fork(); }
