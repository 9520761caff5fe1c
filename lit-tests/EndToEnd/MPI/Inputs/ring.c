// A token ring with blocking Send/Recv, and an Allreduce every few steps: each step every rank
// computes a little, passes its value to the right and takes its left neighbour's.  Rank 0 prints
// one line a step.  Arguments: steps, work per step.  With ASK_EVERY=N in the environment (the
// instrumented runs only), rank (step / N) % size asks for a checkpoint itself (SIGUSR1) every
// N steps.
#include <mpi.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

static double compute(double x, long work) {
  for (long i = 0; i < work; ++i)
    x = x * 0.999999 + 1e-6 * (double)(i % 7);
  return x;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int steps = argc > 1 ? atoi(argv[1]) : 40;
  long work = argc > 2 ? atol(argv[2]) : 20000;
  int period = getenv("ASK_EVERY") ? atoi(getenv("ASK_EVERY")) : 0;
  double value = 1.0 + rank;
  int right = (rank + 1) % size, left = (rank + size - 1) % size;
  for (int step = 1; step <= steps; ++step) {
    value = compute(value, work);
    double got;
    if (rank == 0) {
      MPI_Send(&value, 1, MPI_DOUBLE, right, step, MPI_COMM_WORLD);
      MPI_Recv(&got, 1, MPI_DOUBLE, left, step, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    } else {
      MPI_Recv(&got, 1, MPI_DOUBLE, left, step, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      MPI_Send(&value, 1, MPI_DOUBLE, right, step, MPI_COMM_WORLD);
    }
    value = 0.5 * (value + got);
    if (period && step % period == 0 && rank == (step / period) % size)
      raise(SIGUSR1);
    if (step % 4 == 0) {
      double sum;
      MPI_Allreduce(&value, &sum, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
      if (rank == 0)
        printf("step %d sum %.9f\n", step, sum);
    } else if (rank == 0) {
      printf("step %d value %.9f\n", step, value);
    }
    fflush(stdout);
  }
  if (rank == 0)
    printf("done %d steps on %d ranks\n", steps, size);
  MPI_Finalize();
  return 0;
}
