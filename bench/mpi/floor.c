// The least an interposition layer costs (bench/mpi/run.py --floor): linked into pingpong.c
// built plain, it defines the MPI calls pingpong.c makes and forwards them to PMPI_*.
//   -DFORWARD  forwarding alone: a call and the library's PMPI entry point.
//   -DTABLE    also what any layer that can drain and re-post needs at least (docs/design.md M4,
//              M5): a virtual request (a slot of a table holding the library's request) and a
//              count of messages sent to each peer; Waitall translates the handles and waits.
// autockpt's layer does more per call (the protocol's checks, a receive's arguments kept to post
// it again, waits that stay safe points); these builds show what no layer can go below.
#include <mpi.h>

#if defined(TABLE)
enum { kSlots = 4096, kPeers = 64 };
static MPI_Request slots[kSlots];
static unsigned next_slot;
static long sent[kPeers];

static MPI_Request virtual_request(unsigned k) { return (MPI_Request)(long)(k + 1); }
static MPI_Request *real_request(MPI_Request r) { return &slots[(long)r - 1]; }

int MPI_Isend(const void *buf, int count, MPI_Datatype type, int dest, int tag, MPI_Comm comm,
              MPI_Request *request) {
  unsigned k = next_slot++ % kSlots;
  int rc = PMPI_Isend(buf, count, type, dest, tag, comm, &slots[k]);
  ++sent[dest % kPeers];
  *request = virtual_request(k);
  return rc;
}

int MPI_Irecv(void *buf, int count, MPI_Datatype type, int source, int tag, MPI_Comm comm,
              MPI_Request *request) {
  unsigned k = next_slot++ % kSlots;
  int rc = PMPI_Irecv(buf, count, type, source, tag, comm, &slots[k]);
  *request = virtual_request(k);
  return rc;
}

int MPI_Waitall(int count, MPI_Request *requests, MPI_Status *statuses) {
  MPI_Request reals[256];
  if (count > 256)
    return MPI_ERR_COUNT;
  for (int i = 0; i < count; ++i)
    reals[i] = requests[i] == MPI_REQUEST_NULL ? MPI_REQUEST_NULL : *real_request(requests[i]);
  int rc = PMPI_Waitall(count, reals, statuses);
  for (int i = 0; i < count; ++i)
    requests[i] = MPI_REQUEST_NULL;
  return rc;
}

int MPI_Send(const void *buf, int count, MPI_Datatype type, int dest, int tag, MPI_Comm comm) {
  ++sent[dest % kPeers];
  return PMPI_Send(buf, count, type, dest, tag, comm);
}
#elif defined(FORWARD)
int MPI_Isend(const void *buf, int count, MPI_Datatype type, int dest, int tag, MPI_Comm comm,
              MPI_Request *request) {
  return PMPI_Isend(buf, count, type, dest, tag, comm, request);
}

int MPI_Irecv(void *buf, int count, MPI_Datatype type, int source, int tag, MPI_Comm comm,
              MPI_Request *request) {
  return PMPI_Irecv(buf, count, type, source, tag, comm, request);
}

int MPI_Waitall(int count, MPI_Request *requests, MPI_Status *statuses) {
  return PMPI_Waitall(count, requests, statuses);
}

int MPI_Send(const void *buf, int count, MPI_Datatype type, int dest, int tag, MPI_Comm comm) {
  return PMPI_Send(buf, count, type, dest, tag, comm);
}
#else
#error "build with -DFORWARD or -DTABLE"
#endif

int MPI_Recv(void *buf, int count, MPI_Datatype type, int source, int tag, MPI_Comm comm,
             MPI_Status *status) {
  return PMPI_Recv(buf, count, type, source, tag, comm, status);
}

int MPI_Sendrecv(const void *sbuf, int scount, MPI_Datatype stype, int dest, int stag, void *rbuf,
                 int rcount, MPI_Datatype rtype, int source, int rtag, MPI_Comm comm,
                 MPI_Status *status) {
  return PMPI_Sendrecv(sbuf, scount, stype, dest, stag, rbuf, rcount, rtype, source, rtag, comm,
                       status);
}
