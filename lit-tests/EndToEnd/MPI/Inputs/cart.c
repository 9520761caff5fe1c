// A 2-D periodic grid of MPI_Cart_create (4 ranks: 2 x 2) and the requests completed in other
// ways than Wait/Waitall: each step every rank sends its value to its four neighbours (found with
// MPI_Cart_shift) and receives theirs; the receives are completed with MPI_Waitsome, the sends
// with a loop of MPI_Testall; then a token from the left neighbour is waited for with a loop of
// MPI_Iprobe and received after an MPI_Probe sized it; an Allreduce of every rank but rank 0 on
// a communicator of MPI_Comm_create (its group from MPI_Comm_group and MPI_Group_excl) and an
// Allreduce on the grid's communicator end the step.  Rank 0 prints a checksum a step.
// Arguments: steps, work.
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

static double compute(double x, long work) {
  for (long i = 0; i < work; ++i)
    x = x * 0.999999 + 1e-6 * (double)(i % 7);
  return x;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int size;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int steps = argc > 1 ? atoi(argv[1]) : 20;
  long work = argc > 2 ? atol(argv[2]) : 20000;
  int dims[2] = {0, 0}, periods[2] = {1, 1}, coords[2];
  MPI_Dims_create(size, 2, dims);
  MPI_Comm grid;
  MPI_Cart_create(MPI_COMM_WORLD, 2, dims, periods, 0, &grid);
  int rank, nb[4];
  MPI_Comm_rank(grid, &rank);
  MPI_Cart_get(grid, 2, dims, periods, coords);
  MPI_Cart_shift(grid, 0, 1, &nb[0], &nb[1]);
  MPI_Cart_shift(grid, 1, 1, &nb[2], &nb[3]);
  MPI_Group world, others;
  MPI_Comm_group(MPI_COMM_WORLD, &world);
  int zero = 0, nothers;
  MPI_Group_excl(world, 1, &zero, &others);
  MPI_Group_size(others, &nothers);
  MPI_Comm rest;  // MPI_COMM_NULL on rank 0
  MPI_Comm_create(MPI_COMM_WORLD, others, &rest);
  MPI_Group_free(&world);
  double value = 1.0 + rank, got[4], token = 0;
  for (int step = 1; step <= steps; ++step) {
    value = compute(value, work);
    MPI_Request rr[4], sr[4];
    for (int k = 0; k < 4; ++k)
      MPI_Irecv(&got[k], 1, MPI_DOUBLE, nb[k], 10 + k, grid, &rr[k]);
    for (int k = 0; k < 4; ++k)  // neighbour k receives it as its direction k ^ 1
      MPI_Isend(&value, 1, MPI_DOUBLE, nb[k], 10 + (k ^ 1), grid, &sr[k]);
    int left = 4, done[4];
    while (left > 0) {
      int n;
      MPI_Waitsome(4, rr, &n, done, MPI_STATUSES_IGNORE);
      left -= n;
    }
    for (int all = 0; !all;)
      MPI_Testall(4, sr, &all, MPI_STATUSES_IGNORE);
    value = 0.2 * (value + got[0] + got[1] + got[2] + got[3]);
    double mine = value + step;
    MPI_Send(&mine, 1, MPI_DOUBLE, nb[3], 20, grid);
    for (int flag = 0; !flag;)
      MPI_Iprobe(nb[2], 20, grid, &flag, MPI_STATUS_IGNORE);
    MPI_Status st;
    int n;
    MPI_Probe(nb[2], 20, grid, &st);
    MPI_Get_count(&st, MPI_DOUBLE, &n);
    MPI_Recv(&token, n, MPI_DOUBLE, st.MPI_SOURCE, 20, grid, MPI_STATUS_IGNORE);
    double rsum = 0;
    if (rest != MPI_COMM_NULL)
      MPI_Allreduce(&value, &rsum, 1, MPI_DOUBLE, MPI_SUM, rest);
    double sum, local = value + 1e-3 * token + 1e-4 * rsum / nothers;
    MPI_Allreduce(&local, &sum, 1, MPI_DOUBLE, MPI_SUM, grid);
    if (rank == 0)
      printf("step %d grid %dx%d sum %.9f\n", step, dims[0], dims[1], sum);
    fflush(stdout);
  }
  if (rank == 0)
    printf("done %d steps\n", steps);
  MPI_Comm_free(&grid);
  if (rest != MPI_COMM_NULL)
    MPI_Comm_free(&rest);
  MPI_Group_free(&others);
  MPI_Finalize();
  return 0;
}
