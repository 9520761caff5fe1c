// Ping-pong latency between ranks 0 and 1 (8 bytes, blocking Send/Recv), and the rate of 8-byte
// messages (rank 0 Isends a window of 64 to rank 1, which Irecvs them; Waitall; repeated).
// Prints BENCH lines: microseconds per round trip, and per message.
// Arguments: round trips, windows.
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

#define WINDOW 64

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  long trips = argc > 1 ? atol(argv[1]) : 20000;
  long windows = argc > 2 ? atol(argv[2]) : 2000;
  double v = 1.0, buf[WINDOW];
  MPI_Request r[WINDOW];
  for (int pass = 0; pass < 2; ++pass) {  // the first pass warms up
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime();
    for (long i = 0; i < trips; ++i) {
      if (rank == 0) {
        MPI_Send(&v, 1, MPI_DOUBLE, 1, 0, MPI_COMM_WORLD);
        MPI_Recv(&v, 1, MPI_DOUBLE, 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      } else if (rank == 1) {
        MPI_Recv(&v, 1, MPI_DOUBLE, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        v += 1.0;
        MPI_Send(&v, 1, MPI_DOUBLE, 0, 0, MPI_COMM_WORLD);
      }
    }
    double t1 = MPI_Wtime();
    for (long w = 0; w < windows; ++w) {
      for (int k = 0; k < WINDOW; ++k) {
        buf[k] = (double)k;
        if (rank == 0)
          MPI_Isend(&buf[k], 1, MPI_DOUBLE, 1, k, MPI_COMM_WORLD, &r[k]);
        else if (rank == 1)
          MPI_Irecv(&buf[k], 1, MPI_DOUBLE, 0, k, MPI_COMM_WORLD, &r[k]);
      }
      if (rank <= 1)
        MPI_Waitall(WINDOW, r, MPI_STATUSES_IGNORE);
      if (rank <= 1)  // the receiver says it has the window: a send cannot run ahead forever
        MPI_Sendrecv(&v, 1, MPI_DOUBLE, 1 - rank, 99, &v, 1, MPI_DOUBLE, 1 - rank, 99,
                     MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    }
    double t2 = MPI_Wtime();
    if (pass == 1 && rank == 0)
      printf("BENCH pingpong_us=%.3f rate_us=%.4f check=%.0f\n", (t1 - t0) / trips * 1e6,
             (t2 - t1) / (windows * WINDOW) * 1e6, v);
  }
  MPI_Finalize();
  return 0;
}
