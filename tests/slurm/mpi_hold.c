// The MPI program of tests/slurm/mpi-slurm-test.sh: a ring of blocking Send/Recv with an Allreduce
// every 3 steps, rank 0 printing one line a step.  At step HOLD (6) rank 0 creates the file
// `holding` and waits until the file `release` exists (a loop of 2 ms sleeps, a safe point), while
// the other ranks wait for it in MPI_Recv; the test signals the job there and creates `release`
// before the requeued run resumes, so where the checkpoint lands does not depend on timing.
#include <mpi.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#define STEPS 12
#define HOLD 6

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
  double value = 1.0 + rank;
  int right = (rank + 1) % size, left = (rank + size - 1) % size;
  for (int step = 1; step <= STEPS; ++step) {
    value = compute(value, 20000);
    if (step == HOLD && rank == 0) {
      FILE *f = fopen("holding", "w");
      if (f)
        fclose(f);
      while (access("release", F_OK) != 0) {
        struct timespec t = {0, 2000000};
        nanosleep(&t, NULL);
      }
    }
    double got;
    if (rank == 0) {
      MPI_Send(&value, 1, MPI_DOUBLE, right, step, MPI_COMM_WORLD);
      MPI_Recv(&got, 1, MPI_DOUBLE, left, step, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    } else {
      MPI_Recv(&got, 1, MPI_DOUBLE, left, step, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      MPI_Send(&value, 1, MPI_DOUBLE, right, step, MPI_COMM_WORLD);
    }
    value = 0.5 * (value + got);
    if (step % 3 == 0) {
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
    printf("done %d steps on %d ranks\n", STEPS, size);
  MPI_Finalize();
  return 0;
}
