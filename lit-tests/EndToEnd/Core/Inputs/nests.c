// Loop nests whose polls and calls are restored into the resume copy of their function (design
// P16): a blocked matrix multiply (loop invariants such as min(jj + B, n) live across the inner
// polls), a call inside a loop, a loop left by a break straight into the next loop, and a
// switch with two latches.  Every step prints a checksum of the whole state.
#include <stdio.h>
#include <stdlib.h>

enum { N = 72, B = 16, STEPS = 24 };

static double a[N][N], b[N][N], c[N][N];

__attribute__((noinline)) static long relax(double *row, int n, int step) {
  long touched = 0;
  for (int j = 1; j < n - 1; j++)
    for (int r = 0; r < 1 + (step & 1); r++) {  // a nest in a function called from a loop
      row[j] = 0.5 * row[j] + 0.25 * (row[j - 1] + row[j + 1]);
      touched++;
    }
  return touched;
}

static void matmul(int n) {
  for (int ii = 0; ii < n; ii += B)
    for (int kk = 0; kk < n; kk += B)
      for (int jj = 0; jj < n; jj += B) {
        int ie = ii + B < n ? ii + B : n, ke = kk + B < n ? kk + B : n, je = jj + B < n ? jj + B : n;
        for (int i = ii; i < ie; i++)
          for (int k = kk; k < ke; k++) {
            double aik = a[i][k];
            for (int j = jj; j < je; j++)
              c[i][j] += aik * b[k][j];
          }
      }
}

int main(int argc, char **argv) {
  int steps = argc > 1 ? atoi(argv[1]) : STEPS;
  for (int i = 0; i < N; i++)
    for (int j = 0; j < N; j++) {
      a[i][j] = (double)((i * 7 + j * 3) % 11) / 11.0;
      b[i][j] = (double)((i * 5 + j) % 13) / 13.0;
    }
  long touched = 0, state = 1;
  for (int step = 0; step < steps; step++) {
    matmul(N);
    for (int i = 0; i < N; i++)  // a call in a loop: its restore re-issues the call in the copy
      touched += relax(c[i], N, step);
    int i = 0;
    for (;; i++) {  // left by a break, straight into the next loop
      state = state * 6364136223846793005L + 1442695040888963407L;
      if ((state >> 33) % 17 == 0 || i > 1000)
        break;
    }
    for (int k = 0; k < i; k++) {  // two back edges
      switch (state >> 60) {
        case 3: state ^= k; continue;
        default: state += k; break;
      }
      touched ^= k;
    }
    double sum = 0;
    for (int x = 0; x < N; x++)
      for (int y = 0; y < N; y++)
        sum += c[x][y];
    printf("step %d sum %.6e touched %ld state %ld\n", step, sum, touched, state);
    for (int x = 0; x < N; x++)
      for (int y = 0; y < N; y++)
        c[x][y] *= 1e-3;
  }
  printf("done\n");
  return 0;
}
