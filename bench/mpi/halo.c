// A halo-exchange kernel (bench/mpi/run.py): Jacobi sweeps of a 2-D grid split into bands of rows
// over the ranks (a ring: the first band's upper neighbour is the last band).  Each step posts
// Irecvs of both ghost rows, Isends both edge rows, Waitalls, and updates the band with the
// 5-point stencil; every 10th step an Allreduce sums the change.  The computing loops are
// instrumented too (the compiler's polls), so the ratio is what a stencil code pays in all.
// Prints milliseconds a step of a second, timed pass, and a checksum the builds must agree on.
// Arguments: steps, columns, rows of each band, and extra sweeps the last rank makes each step (a
// load imbalance: the others wait for it in every Waitall; its extra sweeps change nothing).
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

static void sweep(const double *restrict in, double *restrict out, int nx, int rows) {
  for (int i = 1; i <= rows; ++i)
    for (int j = 0; j < nx; ++j) {
      int l = j == 0 ? nx - 1 : j - 1, r = j == nx - 1 ? 0 : j + 1;
      out[i * nx + j] = 0.25 * (in[(i - 1) * nx + j] + in[(i + 1) * nx + j] + in[i * nx + l] +
                                in[i * nx + r]);
    }
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  long steps = argc > 1 ? atol(argv[1]) : 1000;
  int nx = argc > 2 ? atoi(argv[2]) : 512;
  int rows = argc > 3 ? atoi(argv[3]) : 128;
  int extra = argc > 4 && rank == size - 1 ? atoi(argv[4]) : 0;
  int up = (rank + size - 1) % size, down = (rank + 1) % size;
  size_t cells = (size_t)nx * (rows + 2);
  double *a = malloc(cells * sizeof *a), *b = malloc(cells * sizeof *b);
  double change = 0.0, ms = 0.0;
  for (int pass = 0; pass < 2; ++pass) {  // the first pass warms up
    for (size_t k = 0; k < cells; ++k)
      a[k] = b[k] = (double)((k * 7919 + (size_t)rank * 104729) % 1000) / 1000.0;
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime();
    for (long s = 0; s < steps; ++s) {
      MPI_Request r[4];
      MPI_Irecv(&a[0], nx, MPI_DOUBLE, up, 1, MPI_COMM_WORLD, &r[0]);
      MPI_Irecv(&a[(size_t)(rows + 1) * nx], nx, MPI_DOUBLE, down, 0, MPI_COMM_WORLD, &r[1]);
      MPI_Isend(&a[(size_t)nx], nx, MPI_DOUBLE, up, 0, MPI_COMM_WORLD, &r[2]);
      MPI_Isend(&a[(size_t)rows * nx], nx, MPI_DOUBLE, down, 1, MPI_COMM_WORLD, &r[3]);
      MPI_Waitall(4, r, MPI_STATUSES_IGNORE);
      for (int e = 0; e <= extra; ++e)
        sweep(a, b, nx, rows);
      if (s % 10 == 9) {
        double mine = 0.0;
        for (size_t k = (size_t)nx; k < (size_t)nx * (rows + 1); ++k)
          mine += fabs(b[k] - a[k]);
        MPI_Allreduce(&mine, &change, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
      }
      double *t = a;
      a = b;
      b = t;
    }
    ms = (MPI_Wtime() - t0) * 1e3 / (double)steps;
  }
  if (rank == 0)
    printf("BENCH halo_ms=%.4f check=%.9e\n", ms, change);
  free(a);
  free(b);
  MPI_Finalize();
  return 0;
}
