// The least an interposition layer costs (bench/mpi/run.py --floor): linked into pingpong.c
// built plain, it defines the MPI calls pingpong.c makes and forwards them to PMPI_*.
//   -DFORWARD  forwarding alone: a call and the library's PMPI entry point.
//   -DTABLE    also what any layer that drains and re-posts must do at least (docs/design.md M2,
//              M4, M5): a virtual request (a slot of a table holding the library's request, and
//              a receive's arguments and its place among the receives posted, to post it again
//              after a restart), a count of messages sent to each peer and received from each,
//              and waits that stay safe points (the library's requests tested until done, a
//              flag looked at between tests, where autockpt's layer looks at its protocol).
// autockpt's layer does more per call (the protocol's messages every 64th call, slots handed
// back and reused, handles checked, persistent and internal requests); these builds show what no
// layer can go below.
#include <mpi.h>

#if defined(TABLE)
enum { kSlots = 4096, kPeers = 64 };
struct slot {
  MPI_Request real;
  void *buf;  // a receive's arguments
  int count, peer, tag;
  MPI_Datatype type;
  MPI_Comm comm;
  unsigned long posted;
};
static struct slot slots[kSlots];
static unsigned next_slot;
static unsigned long posts;
static long sent[kPeers], received[kPeers];
static volatile int stop;  // where a layer's wait would look at its protocol

static MPI_Request virtual_request(unsigned k) { return (MPI_Request)(long)(k + 1); }
static struct slot *slot_of(MPI_Request r) { return &slots[(long)r - 1]; }

int MPI_Isend(const void *buf, int count, MPI_Datatype type, int dest, int tag, MPI_Comm comm,
              MPI_Request *request) {
  unsigned k = next_slot++ % kSlots;
  slots[k].posted = 0;  // a send
  int rc = PMPI_Isend(buf, count, type, dest, tag, comm, &slots[k].real);
  ++sent[dest % kPeers];
  *request = virtual_request(k);
  return rc;
}

int MPI_Irecv(void *buf, int count, MPI_Datatype type, int source, int tag, MPI_Comm comm,
              MPI_Request *request) {
  unsigned k = next_slot++ % kSlots;
  struct slot *q = &slots[k];
  q->buf = buf;
  q->count = count;
  q->type = type;
  q->peer = source;
  q->tag = tag;
  q->comm = comm;
  q->posted = ++posts;
  int rc = PMPI_Irecv(buf, count, type, source, tag, comm, &q->real);
  *request = virtual_request(k);
  return rc;
}

int MPI_Waitall(int count, MPI_Request *requests, MPI_Status *statuses) {
  MPI_Request reals[256];
  MPI_Status st[256];
  if (count > 256)
    return MPI_ERR_COUNT;
  for (int i = 0; i < count; ++i)
    reals[i] = requests[i] == MPI_REQUEST_NULL ? MPI_REQUEST_NULL : slot_of(requests[i])->real;
  int rc, done = 0;
  while ((rc = PMPI_Testall(count, reals, &done, st)) == MPI_SUCCESS && !done)
    if (stop)
      return MPI_ERR_OTHER;
  for (int i = 0; i < count; ++i) {
    if (requests[i] != MPI_REQUEST_NULL && slot_of(requests[i])->posted && st[i].MPI_SOURCE >= 0)
      ++received[st[i].MPI_SOURCE % kPeers];
    if (statuses != MPI_STATUSES_IGNORE)
      statuses[i] = st[i];
    requests[i] = MPI_REQUEST_NULL;
  }
  return rc;
}

int MPI_Send(const void *buf, int count, MPI_Datatype type, int dest, int tag, MPI_Comm comm) {
  ++sent[dest % kPeers];
  return PMPI_Send(buf, count, type, dest, tag, comm);
}

int MPI_Recv(void *buf, int count, MPI_Datatype type, int source, int tag, MPI_Comm comm,
             MPI_Status *status) {
  MPI_Request r;
  MPI_Status st;
  int rc = PMPI_Irecv(buf, count, type, source, tag, comm, &r), done = 0;
  if (rc != MPI_SUCCESS)
    return rc;
  while ((rc = PMPI_Test(&r, &done, &st)) == MPI_SUCCESS && !done)
    if (stop)
      return MPI_ERR_OTHER;
  if (st.MPI_SOURCE >= 0)
    ++received[st.MPI_SOURCE % kPeers];
  if (status != MPI_STATUS_IGNORE)
    *status = st;
  return rc;
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

int MPI_Recv(void *buf, int count, MPI_Datatype type, int source, int tag, MPI_Comm comm,
             MPI_Status *status) {
  return PMPI_Recv(buf, count, type, source, tag, comm, status);
}
#else
#error "build with -DFORWARD or -DTABLE"
#endif

int MPI_Sendrecv(const void *sbuf, int scount, MPI_Datatype stype, int dest, int stag, void *rbuf,
                 int rcount, MPI_Datatype rtype, int source, int rtag, MPI_Comm comm,
                 MPI_Status *status) {
  return PMPI_Sendrecv(sbuf, scount, stype, dest, stag, rbuf, rcount, rtype, source, rtag, comm,
                       status);
}
