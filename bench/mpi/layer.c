// What an MPI layer costs per call, without the noise of a second rank (bench/mpi/run.py): one
// rank Isends to and Irecvs from MPI_PROC_NULL (the library completes them at once) in windows
// of 64 and a Waitall, a second pass timed.  Prints nanoseconds a call.  Argument: windows.
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  long windows = argc > 1 ? atol(argv[1]) : 100000;
  double buf[64];
  MPI_Request r[64];
  for (int pass = 0; pass < 2; ++pass) {
    double t0 = MPI_Wtime();
    for (long w = 0; w < windows; ++w) {
      for (int k = 0; k < 32; ++k) {
        MPI_Isend(&buf[k], 1, MPI_DOUBLE, MPI_PROC_NULL, k, MPI_COMM_WORLD, &r[k]);
        MPI_Irecv(&buf[32 + k], 1, MPI_DOUBLE, MPI_PROC_NULL, k, MPI_COMM_WORLD, &r[32 + k]);
      }
      MPI_Waitall(64, r, MPI_STATUSES_IGNORE);
    }
    double t1 = MPI_Wtime();
    if (pass == 1)
      printf("BENCH layer_ns=%.2f\n", (t1 - t0) / (windows * 64.0) * 1e9);
  }
  MPI_Finalize();
  return 0;
}
