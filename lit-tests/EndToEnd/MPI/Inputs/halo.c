// A 1-D heat equation split over the ranks: each step every rank posts Irecv for its two ghost
// cells, Isends its edge cells, updates its interior while the messages travel (so a
// checkpoint may come with requests pending), waits for all four with Waitall and updates its
// edges; an Allreduce of the total every 3 steps.  The even steps exchange through persistent
// requests instead (MPI_Recv_init and MPI_Send_init made once, MPI_Startall each even step,
// MPI_Request_free at the end).  Rank 0 prints one line a step.
// Arguments: steps, cells per rank.  ASK_EVERY=N (instrumented runs): rank (step / N) % size
// asks for a checkpoint itself every N steps.
#include <mpi.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int steps = argc > 1 ? atoi(argv[1]) : 30;
  int n = argc > 2 ? atoi(argv[2]) : 20000;
  int period = getenv("ASK_EVERY") ? atoi(getenv("ASK_EVERY")) : 0;
  double *u = malloc(sizeof(double) * (n + 2)), *v = malloc(sizeof(double) * (n + 2));
  for (int i = 0; i <= n + 1; ++i)
    u[i] = (rank * n + i) % 17 == 0 ? 100.0 : 0.0;
  int left = rank > 0 ? rank - 1 : MPI_PROC_NULL;
  int right = rank < size - 1 ? rank + 1 : MPI_PROC_NULL;
  // u and v swap every step, so every even step works on the array v is now.
  MPI_Request even[4];
  MPI_Recv_init(&v[0], 1, MPI_DOUBLE, left, 1, MPI_COMM_WORLD, &even[0]);
  MPI_Recv_init(&v[n + 1], 1, MPI_DOUBLE, right, 0, MPI_COMM_WORLD, &even[1]);
  MPI_Send_init(&v[1], 1, MPI_DOUBLE, left, 0, MPI_COMM_WORLD, &even[2]);
  MPI_Send_init(&v[n], 1, MPI_DOUBLE, right, 1, MPI_COMM_WORLD, &even[3]);
  for (int step = 1; step <= steps; ++step) {
    MPI_Request odd[4], *req = step % 2 ? odd : even;
    if (step % 2) {
      MPI_Irecv(&u[0], 1, MPI_DOUBLE, left, 1, MPI_COMM_WORLD, &odd[0]);
      MPI_Irecv(&u[n + 1], 1, MPI_DOUBLE, right, 0, MPI_COMM_WORLD, &odd[1]);
    } else {
      MPI_Startall(2, even);
    }
    // Asked here, before this rank sends, the cut finds its neighbours' receives pending.
    if (period && step % period == 0 && rank == (step / period) % size)
      raise(SIGUSR1);
    if (step % 2) {
      MPI_Isend(&u[1], 1, MPI_DOUBLE, left, 0, MPI_COMM_WORLD, &odd[2]);
      MPI_Isend(&u[n], 1, MPI_DOUBLE, right, 1, MPI_COMM_WORLD, &odd[3]);
    } else {
      MPI_Start(&even[2]);
      MPI_Start(&even[3]);
    }
    for (int i = 2; i < n; ++i)
      v[i] = u[i] + 0.25 * (u[i - 1] - 2 * u[i] + u[i + 1]);
    MPI_Waitall(4, req, MPI_STATUSES_IGNORE);
    v[1] = u[1] + 0.25 * (u[0] - 2 * u[1] + u[2]);
    v[n] = u[n] + 0.25 * (u[n - 1] - 2 * u[n] + u[n + 1]);
    double *t = u;
    u = v;
    v = t;
    u[0] = u[n + 1] = 0.0;
    double local = 0.0;
    for (int i = 1; i <= n; ++i)
      local += u[i] * (1 + (i % 3));
    if (step % 3 == 0) {
      double total;
      MPI_Allreduce(&local, &total, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
      if (rank == 0)
        printf("step %d total %.6f\n", step, total);
    } else if (rank == 0) {
      printf("step %d edge %.9f\n", step, u[n]);
    }
    fflush(stdout);
  }
  for (int k = 0; k < 4; ++k)
    MPI_Request_free(&even[k]);
  if (rank == 0)
    printf("done %d steps\n", steps);
  free(u);
  free(v);
  MPI_Finalize();
  return 0;
}
