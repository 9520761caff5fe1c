/* MPI calls of every family, declared here (no mpi.h needed): the scan names each call's family. */
int MPI_Init(int *, char ***);
int MPI_Send(const void *, int, int, int, int, int);
int MPI_Irecv(void *, int, int, int, int, int, int *);
int MPI_Waitall(int, int *, void *);
int MPI_Allreduce(const void *, void *, int, int, int, int);
int MPI_Iallreduce(const void *, void *, int, int, int, int, int *);
int MPI_Comm_split(int, int, int, int *);
int MPI_Type_contiguous(int, int, int *);

int main(void) {
  int req, comm, type;
  double x = 1, y;
  MPI_Init(0, 0);
  MPI_Comm_split(0, 0, 0, &comm);
  MPI_Type_contiguous(2, 0, &type);
  MPI_Irecv(&y, 1, 0, 0, 0, comm, &req);
  MPI_Send(&x, 1, 0, 0, 0, comm);
  MPI_Waitall(1, &req, 0);
  MPI_Allreduce(&x, &y, 1, 0, 0, comm);
  MPI_Iallreduce(&x, &y, 1, 0, 0, comm, &req);
  return 0;
}
