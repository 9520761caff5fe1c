// A 2-D periodic grid of MPI_Cart_create (4 ranks: 2 x 2) and the requests completed in other
// ways than Wait/Waitall: each step every rank sends its value to its four neighbours (found with
// MPI_Cart_shift) and receives theirs; the receives are completed with MPI_Waitsome, the sends
// with a loop of MPI_Testall; then a token from the left neighbour is waited for with a loop of
// MPI_Iprobe and received after an MPI_Probe sized it; an Allreduce of every rank but rank 0 on
// a communicator of MPI_Comm_create (its group from MPI_Comm_group and MPI_Group_excl) and an
// Allreduce on the grid's communicator end the step.  Rank 0 prints a checksum a step.
// Also the calls of docs/design.md M18: the grid returns errors (MPI_ERRORS_RETURN) and its row, a
// sub-grid of MPI_Cart_sub, calls an error handler of the program's (MPI_Comm_create_errhandler,
// counted): each step makes an erroneous send on each, which aborts the job if the handlers were
// not set again after a restart; the row swaps values by MPI_Sendrecv_replace; the sends are
// completed by MPI_Testsome on even steps; Allreduces on the row, on a communicator of
// MPI_Comm_split_type and on one of the even ranks (MPI_Group_range_incl); MPI_Comm_compare and
// MPI_Comm_get_attr(MPI_TAG_UB) on the grid every step; the grid's name (MPI_Comm_set_name),
// printed every step.
// Arguments: steps, work.
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

static int errors;  // rank errors the row's handler was called with

static void count_error(MPI_Comm *comm, int *code, ...) {
  (void)comm;
  int cls;
  MPI_Error_class(*code, &cls);
  errors += cls == MPI_ERR_RANK;
}

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
  int range[1][3] = {{0, size - 1, 2}};
  MPI_Group evens_group;
  MPI_Group_range_incl(world, 1, range, &evens_group);
  MPI_Comm evens;  // MPI_COMM_NULL on the odd ranks
  MPI_Comm_create(MPI_COMM_WORLD, evens_group, &evens);
  MPI_Group_free(&evens_group);
  MPI_Group odds_group;  // the same ranks' complement, by MPI_Group_range_excl
  int odds_size;
  MPI_Group_range_excl(world, 1, range, &odds_group);
  MPI_Group_size(odds_group, &odds_size);
  MPI_Group_free(&odds_group);
  MPI_Group_free(&world);
  MPI_Comm_set_name(grid, "the grid");  // named again at a restart
  MPI_Comm_set_errhandler(grid, MPI_ERRORS_RETURN);
  MPI_Errhandler counting, got_errh;
  MPI_Comm_create_errhandler(count_error, &counting);
  int remain[2] = {0, 1}, row_left, row_right;
  MPI_Comm row;  // a row of the grid: inherits MPI_ERRORS_RETURN, then gets the counting handler
  MPI_Cart_sub(grid, remain, &row);
  MPI_Cart_shift(row, 0, 1, &row_left, &row_right);
  MPI_Comm_set_errhandler(row, counting);
  MPI_Comm_get_errhandler(row, &got_errh);
  if (got_errh != counting) {
    fprintf(stderr, "rank %d: MPI_Comm_get_errhandler gave another handler\n", rank);
    MPI_Abort(MPI_COMM_WORLD, 4);
  }
  MPI_Errhandler_free(&got_errh);
  MPI_Errhandler_free(&counting);  // the row keeps it
  MPI_Comm node;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node);
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
    if (step % 2) {
      for (int all = 0; !all;)
        MPI_Testall(4, sr, &all, MPI_STATUSES_IGNORE);
    } else {
      for (int unsent = 4; unsent > 0;) {
        int n;
        MPI_Testsome(4, sr, &n, done, MPI_STATUSES_IGNORE);
        unsent -= n == MPI_UNDEFINED ? unsent : n;
      }
    }
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
    // Erroneous sends (a rank that does not exist): an error code on the grid, the handler on the row.
    int bad = MPI_Send(&value, 1, MPI_DOUBLE, size + 1, 30, grid);
    MPI_Send(&value, 1, MPI_DOUBLE, size + 1, 30, row);
    int bad_class;
    MPI_Error_class(bad, &bad_class);
    double swapped = value, row_sum, node_sum, evens_sum = 0;
    MPI_Sendrecv_replace(&swapped, 1, MPI_DOUBLE, row_right, 40, row_left, 40, row,
                         MPI_STATUS_IGNORE);
    MPI_Allreduce(&swapped, &row_sum, 1, MPI_DOUBLE, MPI_SUM, row);
    MPI_Allreduce(&value, &node_sum, 1, MPI_DOUBLE, MPI_MAX, node);
    if (evens != MPI_COMM_NULL)
      MPI_Allreduce(&value, &evens_sum, 1, MPI_DOUBLE, MPI_SUM, evens);
    int same, *tag_ub, has_ub, topo, inter, *wtime_global, has_wtime, name_length;
    char name[MPI_MAX_OBJECT_NAME];
    MPI_Comm_get_name(grid, name, &name_length);
    MPI_Comm_compare(grid, MPI_COMM_WORLD, &same);
    MPI_Comm_get_attr(grid, MPI_TAG_UB, &tag_ub, &has_ub);
    MPI_Attr_get(row, MPI_WTIME_IS_GLOBAL, &wtime_global, &has_wtime);
    MPI_Topo_test(row, &topo);
    MPI_Comm_test_inter(grid, &inter);
    double sum, local = value + 1e-3 * token + 1e-4 * rsum / nothers + 1e-5 * (row_sum + evens_sum);
    MPI_Allreduce(&local, &sum, 1, MPI_DOUBLE, MPI_SUM, grid);
    if (rank == 0)
      printf("step %d %s %dx%d sum %.9f node %.6f errors %d/%s %s tag_ub %s/%d row %s%s odds %d\n",
             step, name, dims[0], dims[1], sum, node_sum, errors,
             bad_class == MPI_ERR_RANK ? "rank" : "other",
             same == MPI_CONGRUENT ? "congruent" : "not congruent",
             has_ub && *tag_ub >= 32767 ? "ok" : "none", has_wtime && *wtime_global >= 0,
             topo == MPI_CART ? "cart" : "not cart",
             inter ? " inter" : "", odds_size);
    fflush(stdout);
  }
  if (rank == 0)
    printf("done %d steps\n", steps);
  MPI_Comm_free(&row);
  MPI_Comm_free(&node);
  if (evens != MPI_COMM_NULL)
    MPI_Comm_free(&evens);
  MPI_Comm_free(&grid);
  if (rest != MPI_COMM_NULL)
    MPI_Comm_free(&rest);
  MPI_Group_free(&others);
  MPI_Finalize();
  return 0;
}
