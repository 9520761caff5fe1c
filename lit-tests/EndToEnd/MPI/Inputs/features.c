// Many MPI features a step (issue 11's list): a blocking ring of Send/Recv, Sendrecv, Bcast from
// a rotating root, Alltoall, Allreduce on a communicator made by MPI_Comm_split, a vector
// datatype, ANY_SOURCE receives with Probe, a user-defined reduction, Waitany, a communicator
// made by MPI_Comm_dup, and two Irecvs of the same source and tag always pending across steps
// (the tokens of the next two steps, which the left rank cannot have sent before this rank's
// Sendrecv: at a cut in the step's work both are taken back, and every other step the later one
// holds the lower request slot; each must still match the earlier token).  Nonblocking
// collectives: an Iallreduce on the dup communicator pending across the whole step (through its
// blocking calls and collectives), an Ibarrier started before the Reduce and waited for after it.
// The column of the vector datatype goes to rank 0 by MPI_Bsend, from a buffer attached at the
// start.  The datatypes of docs/design.md M18 (indexed, hvector, subarray, resized, dup), each
// sent around the ring by Sendrecv every step, the subarray also by MPI_Sendrecv_replace (only
// its elements are replaced); MPI_Type_get_extent; MPI_Reduce_scatter; MPI_Pack and MPI_Unpack;
// a running sum kept in memory of MPI_Alloc_mem (the arena's, so in the image); two info objects
// made at the start (one a dup) and read every step (M19).  Rank 0 prints a checksum a step.  Arguments: steps, work.
// ASK_EVERY=N (instrumented runs): rank (step / N) % size raises SIGUSR1 every N steps.
#include <mpi.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void maxabs(void *in, void *inout, int *len, MPI_Datatype *type) {
  (void)type;
  double *a = in, *b = inout;
  for (int i = 0; i < *len; ++i)
    b[i] = (a[i] > 0 ? a[i] : -a[i]) > (b[i] > 0 ? b[i] : -b[i]) ? a[i] : b[i];
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int steps = argc > 1 ? atoi(argv[1]) : 20;
  long work = argc > 2 ? atol(argv[2]) : 20000;
  int period = getenv("ASK_EVERY") ? atoi(getenv("ASK_EVERY")) : 0;
  MPI_Comm half, dup;
  MPI_Comm_split(MPI_COMM_WORLD, rank % 2, -rank, &half);
  MPI_Comm_dup(MPI_COMM_WORLD, &dup);
  int hrank;
  MPI_Comm_rank(half, &hrank);
  MPI_Datatype column;  // every other double of an 8-array
  MPI_Type_vector(4, 1, 2, MPI_DOUBLE, &column);
  MPI_Type_commit(&column);
  MPI_Op op;
  MPI_Op_create(maxabs, 1, &op);
  MPI_Datatype idx, hvec, sub, pair, pairs, column2, hidx, iblock;
  int ibl[2] = {1, 2}, idisp[2] = {0, 4};
  MPI_Type_indexed(2, ibl, idisp, MPI_DOUBLE, &idx);
  MPI_Type_create_hvector(2, 1, 3 * sizeof(double), MPI_DOUBLE, &hvec);
  int sizes[2] = {4, 4}, subsizes[2] = {2, 2}, starts[2] = {1, 1};
  MPI_Type_create_subarray(2, sizes, subsizes, starts, MPI_ORDER_C, MPI_DOUBLE, &sub);
  MPI_Type_contiguous(2, MPI_DOUBLE, &pair);
  MPI_Type_create_resized(pair, 0, 3 * sizeof(double), &pairs);  // two doubles every three
  MPI_Type_set_name(pairs, "pairs");  // named again at a restart
  MPI_Type_dup(column, &column2);
  MPI_Aint hdisp[2] = {sizeof(double), 6 * sizeof(double)};
  MPI_Type_create_hindexed(2, ibl, hdisp, MPI_DOUBLE, &hidx);
  int bdisp[3] = {2, 7, 12};
  MPI_Type_create_indexed_block(3, 2, bdisp, MPI_DOUBLE, &iblock);
  enum { kKinds = 7 };
  MPI_Datatype kinds[kKinds] = {idx, hvec, sub, pairs, column2, hidx, iblock};
  for (int k = 0; k < kKinds; ++k)
    MPI_Type_commit(&kinds[k]);
  MPI_Aint lb, extent, true_lb, true_extent;
  MPI_Type_get_extent(pairs, &lb, &extent);
  MPI_Type_get_true_extent(sub, &true_lb, &true_extent);
  int packed_size;
  MPI_Pack_size(2, pairs, MPI_COMM_WORLD, &packed_size);
  double *kept;  // a running sum, in MPI_Alloc_mem's memory
  MPI_Alloc_mem(16 * sizeof(double), MPI_INFO_NULL, &kept);
  memset(kept, 0, 16 * sizeof(double));
  MPI_Info hints, copy;  // kept across the steps, read every step: a restart keeps them (M19)
  MPI_Info_create(&hints);
  MPI_Info_set(hints, "sweeps", "3");
  MPI_Info_set(hints, "scratch", "x");
  MPI_Info_set(hints, "sweeps", "4");  // replaced
  MPI_Info_delete(hints, "scratch");
  MPI_Info_dup(hints, &copy);
  MPI_Info_set(copy, "rank", rank % 2 ? "odd" : "even");
  int bsize = 1 << 16;
  void *bbuf = malloc(bsize);
  MPI_Buffer_attach(bbuf, bsize);
  int right = (rank + 1) % size, left = (rank + size - 1) % size;
  double x = rank + 1;
  // The tokens from the left, (step sent at, sender's x): ahead[older] is for this step's.
  double ahead_buf[2][2];
  MPI_Request ahead[2];
  int older = 0;
  MPI_Irecv(ahead_buf[0], 2, MPI_DOUBLE, left, 1000, dup, &ahead[0]);
  MPI_Irecv(ahead_buf[1], 2, MPI_DOUBLE, left, 1000, dup, &ahead[1]);
  for (int step = 1; step <= steps; ++step) {
    for (long i = 0; i < work; ++i)
      x = x * 0.999999 + 1e-7 * (double)(i % 5);
    if (period && step % period == 0 && rank == (step / period) % size)
      raise(SIGUSR1);
    // Pending until the end of the step (x does not change until then).
    double isum;
    MPI_Request coll;
    MPI_Iallreduce(&x, &isum, 1, MPI_DOUBLE, MPI_SUM, dup, &coll);
    // Blocking ring.
    double got;
    if (rank == 0) {
      MPI_Send(&x, 1, MPI_DOUBLE, right, step, MPI_COMM_WORLD);
      MPI_Recv(&got, 1, MPI_DOUBLE, left, step, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    } else {
      MPI_Recv(&got, 1, MPI_DOUBLE, left, step, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      MPI_Send(&x, 1, MPI_DOUBLE, right, step, MPI_COMM_WORLD);
    }
    // Sendrecv the other way.
    double back;
    MPI_Sendrecv(&x, 1, MPI_DOUBLE, left, 7, &back, 1, MPI_DOUBLE, right, 7, MPI_COMM_WORLD,
                 MPI_STATUS_IGNORE);
    // The tokens: this step's goes right; the older receive completes with the left's, and is
    // posted again for the step after next (the newer one now).
    double mine[2] = {step, x};
    MPI_Send(mine, 2, MPI_DOUBLE, right, 1000, dup);
    // Waited for as a pair, the older first: posted in the right order, the newer receive can
    // complete only after the older one (MPI's order of matching), so Waitany returns index 0
    // with this step's token.  Posted again in the wrong order after a cut, the newer one takes
    // this step's token: index 1, or the older one with the next step's (waiting for the older
    // alone would hang instead: the next token comes only after this step).
    MPI_Request pair[2] = {ahead[older], ahead[!older]};
    int which;
    MPI_Waitany(2, pair, &which, MPI_STATUS_IGNORE);
    if (which != 0 || ahead_buf[older][0] != step) {
      fprintf(stderr, "rank %d step %d: the %s receive took the token of step %g (receives out "
              "of order)\n", rank, step, which == 0 ? "older" : "newer",
              ahead_buf[which == 0 ? older : !older][0]);
      MPI_Abort(MPI_COMM_WORLD, 3);
    }
    double token = ahead_buf[older][1];
    MPI_Irecv(ahead_buf[older], 2, MPI_DOUBLE, left, 1000, dup, &ahead[older]);
    older = !older;
    // Bcast from a rotating root.
    double b = x;
    MPI_Bcast(&b, 1, MPI_DOUBLE, step % size, MPI_COMM_WORLD);
    // Alltoall.
    double *out = malloc(sizeof(double) * size), *in = malloc(sizeof(double) * size);
    for (int k = 0; k < size; ++k)
      out[k] = x + k;
    MPI_Alltoall(out, 1, MPI_DOUBLE, in, 1, MPI_DOUBLE, MPI_COMM_WORLD);
    double a2a = 0;
    for (int k = 0; k < size; ++k)
      a2a += in[k];
    free(out);
    free(in);
    // Allreduce on the split communicator.
    double hsum;
    MPI_Allreduce(&x, &hsum, 1, MPI_DOUBLE, MPI_SUM, half);
    // A vector datatype: every rank sends rank 0 a column, ANY_SOURCE, sized by Probe.
    double arr[8], col = 0;
    for (int k = 0; k < 8; ++k)
      arr[k] = x * (k + 1);
    if (rank != 0) {
      MPI_Bsend(arr, 1, column, 0, 50, MPI_COMM_WORLD);
    } else {
      // Summed in rank order, not in the order they came: the sum must not depend on timing.
      double part[64] = {0};
      for (int k = 1; k < size; ++k) {
        MPI_Status st;
        MPI_Probe(MPI_ANY_SOURCE, 50, MPI_COMM_WORLD, &st);
        int n;
        MPI_Get_count(&st, MPI_DOUBLE, &n);
        double recv[8] = {0};
        MPI_Recv(recv, 1, column, st.MPI_SOURCE, 50, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        part[st.MPI_SOURCE % 64] = n + recv[0] + recv[2] + recv[4] + recv[6] + recv[1];
      }
      for (int k = 1; k < size; ++k)
        col += part[k % 64];
    }
    // The user-defined reduction.
    double mx, v = (rank % 2 ? -1 : 1) * x * (rank + 1);
    MPI_Request bar;
    MPI_Ibarrier(MPI_COMM_WORLD, &bar);
    MPI_Reduce(&v, &mx, 1, MPI_DOUBLE, op, 0, MPI_COMM_WORLD);
    MPI_Wait(&bar, MPI_STATUS_IGNORE);
    MPI_Wait(&coll, MPI_STATUS_IGNORE);
    // The M18 datatypes around the ring; the subarray of the left's array replaces ours.
    double cells[16], from_left[kKinds][16], types_sum = 0;
    for (int k = 0; k < 16; ++k)
      cells[k] = x + k;
    for (int t = 0; t < kKinds; ++t) {
      memset(from_left[t], 0, sizeof from_left[t]);
      MPI_Status st;
      int elements;
      MPI_Sendrecv(cells, t == 3 ? 2 : 1, kinds[t], right, 60 + t, from_left[t], t == 3 ? 2 : 1,
                   kinds[t], left, 60 + t, MPI_COMM_WORLD, &st);
      MPI_Get_elements(&st, kinds[t], &elements);
      for (int k = 0; k < 16; ++k)
        types_sum += (t + 1) * from_left[t][k] * (k + 1);
      types_sum += elements;
    }
    MPI_Sendrecv_replace(cells, 1, sub, right, 70, left, 70, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    for (int k = 0; k < 16; ++k)
      types_sum += cells[k] * (k + 1) * 1e-3;
    double *contrib = malloc(sizeof(double) * size), scattered;
    int *ones = malloc(sizeof(int) * size);
    for (int k = 0; k < size; ++k) {
      contrib[k] = x * (k + 1);
      ones[k] = 1;
    }
    MPI_Reduce_scatter(contrib, &scattered, ones, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    free(contrib);
    free(ones);
    char packed[64];
    int pos = 0, got_step = 0;
    double got_x = 0;
    MPI_Pack(&step, 1, MPI_INT, packed, sizeof packed, &pos, dup);
    MPI_Pack(&x, 1, MPI_DOUBLE, packed, sizeof packed, &pos, dup);
    pos = 0;
    MPI_Unpack(packed, sizeof packed, &pos, &got_step, 1, MPI_INT, dup);
    MPI_Unpack(packed, sizeof packed, &pos, &got_x, 1, MPI_DOUBLE, dup);
    double local_max = x;
    MPI_Reduce_local(&scattered, &local_max, 1, MPI_DOUBLE, op);  // the user-defined operation
    kept[step % 16] += types_sum * 1e-6 + scattered * 1e-3 + (got_x == x) * got_step +
                       local_max * 1e-4;
    double kept_sum = 0;
    for (int k = 0; k < 16; ++k)
      kept_sum += kept[k];
    x = 0.25 * (x + got) + 0.25 * (back + token) + 1e-3 * (b + a2a + hsum + isum) / (size * 4.0);
    char tname[MPI_MAX_OBJECT_NAME];
    int tlen = 0;
    MPI_Type_get_name(pairs, tname, &tlen);
    char sweeps[16] = "", parity[16] = "";
    int flag = 0, flag2 = 0, nkeys = 0;
    MPI_Info_get(hints, "sweeps", sizeof sweeps - 1, sweeps, &flag);
    MPI_Info_get(copy, "rank", sizeof parity - 1, parity, &flag2);
    MPI_Info_get_nkeys(copy, &nkeys);
    if (rank == 0)
      printf("step %d x %.9f col %.6f max %.6f half %.6f kept %.6f extents %ld %ld %ld packed %d "
             "%.*s info %s %s %d %d\n", step, x, col, mx, hsum, kept_sum, (long)(extent - lb),
             (long)true_lb, (long)true_extent, packed_size >= 4 * (int)sizeof(double), tlen, tname,
             sweeps, parity, flag + flag2, nkeys);
    fflush(stdout);
  }
  for (int k = 0; k < 2; ++k) {
    MPI_Cancel(&ahead[k]);
    MPI_Wait(&ahead[k], MPI_STATUS_IGNORE);
  }
  MPI_Info_free(&hints);
  MPI_Info_free(&copy);
  MPI_Buffer_detach(&bbuf, &bsize);
  free(bbuf);
  MPI_Op_free(&op);
  for (int k = 0; k < kKinds; ++k)
    MPI_Type_free(&kinds[k]);
  MPI_Type_free(&pair);
  MPI_Free_mem(kept);
  MPI_Type_free(&column);
  MPI_Comm_free(&dup);
  MPI_Comm_free(&half);
  if (rank == 0)
    printf("done %d steps\n", steps);
  MPI_Finalize();
  return 0;
}
