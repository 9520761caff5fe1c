// What a checkpoint of a whole job costs beside writing the images (bench/mpi/coord.py): every
// rank updates a small array (a little work a step), passes a value round a ring with Sendrecv
// and sums with an Allreduce; rank 0 asks for a checkpoint (SIGUSR1 to itself, with
// AUTOCKPT_ON_SIGNAL=continue) every few steps.  Rank 0 prints a checksum at the end.
// Arguments: steps, steps between checkpoints (0: none), doubles per rank.
#include <mpi.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int steps = argc > 1 ? atoi(argv[1]) : 200;
  int every = argc > 2 ? atoi(argv[2]) : 20;
  int n = argc > 3 ? atoi(argv[3]) : 16384;
  double *u = malloc(sizeof(double) * n), sum = 0;
  for (int i = 0; i < n; ++i)
    u[i] = rank + i * 1e-3;
  int right = (rank + 1) % size, left = (rank + size - 1) % size;
  for (int step = 1; step <= steps; ++step) {
    double local = 0;
    for (int i = 0; i < n; ++i) {
      u[i] = u[i] * 0.999 + 1e-4 * (i % 7);
      local += u[i];
    }
    if (every && rank == 0 && step % every == 0)
      raise(SIGUSR1);
    double got;
    MPI_Sendrecv(&local, 1, MPI_DOUBLE, right, 1, &got, 1, MPI_DOUBLE, left, 1, MPI_COMM_WORLD,
                 MPI_STATUS_IGNORE);
    local += 1e-3 * got;
    MPI_Allreduce(&local, &sum, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    u[step % n] += 1e-6 * sum;
  }
  if (rank == 0)
    printf("BENCH check=%.6f\n", sum);
  free(u);
  MPI_Finalize();
  return 0;
}
