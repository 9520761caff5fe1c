// Makes the MPI call its argument names, before MPI_Init (a refusal stops the program at the call,
// so nothing of MPI is needed): calls the layer does not wrap (refused by the pass, M18) and
// calls it wraps only to refuse them by name (M9).  Prints "not refused" if the call returns.
#include <mpi.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
  const char *call = argc > 1 ? argv[1] : "";
  MPI_Comm comm = MPI_COMM_WORLD, out;
  MPI_Group group = MPI_GROUP_EMPTY, gout;
  MPI_Request req;
  int rank, x = 0, y = 0;
  if (!strcmp(call, "set_info"))
    MPI_Comm_set_info(comm, MPI_INFO_NULL);
  else if (!strcmp(call, "pmpi"))
    PMPI_Comm_rank(comm, &rank);
  else if (!strcmp(call, "keyval"))
    MPI_Comm_create_keyval(MPI_COMM_NULL_COPY_FN, MPI_COMM_NULL_DELETE_FN, &rank, NULL);
  else if (!strcmp(call, "win")) {
    MPI_Win win;
    MPI_Win_create(&x, sizeof x, 1, MPI_INFO_NULL, comm, &win);
  } else if (!strcmp(call, "file")) {
    MPI_File f;
    MPI_File_open(comm, "f", MPI_MODE_RDONLY, MPI_INFO_NULL, &f);
  } else if (!strcmp(call, "spawn"))
    MPI_Comm_spawn("x", MPI_ARGV_NULL, 1, MPI_INFO_NULL, 0, comm, &out, MPI_ERRCODES_IGNORE);
  else if (!strcmp(call, "create_group"))
    MPI_Comm_create_group(comm, group, 0, &out);
  else if (!strcmp(call, "union"))
    MPI_Group_union(group, group, &gout);
  else if (!strcmp(call, "igather"))
    MPI_Igather(&x, 1, MPI_INT, &y, 1, MPI_INT, 0, comm, &req);
  printf("%s: not refused\n", call);
  return 0;
}
