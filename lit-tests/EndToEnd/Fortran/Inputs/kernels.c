/* C kernels of Inputs/mixed.f90, called through ISO_C_BINDING: a smoothing sweep over a Fortran
 * array, and a scratch buffer the C side allocates once and the Fortran side keeps (type(c_ptr))
 * across steps, so a restart must bring back both heaps' pointers. */
#include <stdlib.h>

double *kernel_scratch(int n) {
  double *p = malloc((size_t)n * sizeof *p);
  for (int i = 0; i < n; i++)
    p[i] = (double)(i % 5);
  return p;
}

double kernel_sweep(double *v, const double *scratch, int n, int reps) {
  double s = 0;
  for (int r = 0; r < reps; r++)
    for (int i = 1; i < n - 1; i++) {
      v[i] = 0.5 * v[i] + 0.2 * (v[i - 1] + v[i + 1]) + 0.01 * scratch[i];
      s += v[i];
    }
  return s;
}
