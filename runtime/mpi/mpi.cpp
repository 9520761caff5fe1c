// The MPI layer (DESIGN D9, docs/design.md M1-M14): the MPI calls instrumented code makes
// (include/autockpt/redirects_mpi.def) come here and go on to the library through PMPI.  It
// makes every rank of a job stop at one consistent cut, drains the messages in flight into the
// receivers' images, and at a restart initialises MPI again and re-posts what was pending.  It
// leaves the image itself to the core (a Job: every rank writes, rank 0 commits last).
// Compiled once per MPI family against its own mpi.h (handles are ints in MPICH, pointers in
// OpenMPI): libautockpt-mpi-openmpi.a, libautockpt-mpi-mpich.a.
#define OMPI_SKIP_MPICXX 1  // the C API only
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include "autockpt/abi.h"
#include "control.h"
#include "files.h"
#include "image/format.h"
#include "image/meta.h"
#include "layers.h"
#include "log.h"
#include "state.h"
#include "trigger.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <cerrno>
#include <csignal>
#include <ctime>
#include <sched.h>
#include <string>
#include <type_traits>
#include <vector>

namespace autockpt::mpi {

namespace {

// ---- Handles ------------------------------------------------------------------------------------

template <class H>
uintptr_t bits(H h) {
  if constexpr (std::is_pointer_v<H>)
    return reinterpret_cast<uintptr_t>(h);
  else
    return uintptr_t(unsigned(h));
}
template <class H>
H handle(uintptr_t v) {
  if constexpr (std::is_pointer_v<H>)
    return reinterpret_cast<H>(v);
  else
    return H(v);
}

// A request the program holds is virtual (M4): kRequestBase + its index in g.reqs.  It stays
// valid across a checkpoint and a restart, where the real request behind it is made again.
constexpr uintptr_t kRequestBase = 0x5a000000;

// ---- State --------------------------------------------------------------------------------------

// Where this rank stands in the protocol of the current checkpoint (M2).  Invariant: a rank
// stops (unwinds) only in Stopping, and only at a safe point outside any collective.
enum class Phase : int {
  Idle,      // no checkpoint under way
  Reported,  // told rank 0 how many collectives it has started on each communicator
  RunOn,     // knows the target: runs on until it has started exactly that many
  Reached,   // at the target: waits at the entry of any further collective
  Stopping,  // every rank has reached its target: stop at the next safe point
};

// Messages of the protocol, on the private communicator `ctl` (tags).
enum Tag : int { kReq = 1, kIntent, kReport, kTarget, kReached, kStop, kRaise };

// How a communicator of the program's own was made, to make it again at a restart (M10).
// CartSub: MPI_Cart_sub (its remain_dims in dims).  MPI_Comm_split_type is recorded as the Split
// that makes the same members in the same order (M18).
enum class Made : int32_t { Predefined, Dup, Split, Cart, Create, CartSub };

struct Comm {
  MPI_Comm handle{};  // what the program holds (predefined: the library's own)
  MPI_Comm real{};
  Made made = Made::Predefined;
  int32_t parent = -1, color = 0, key = 0;  // Create: color is the group's index
  bool freed = false;
  int size = 0;
  std::vector<int> world;  // world rank of each member
  int64_t seq = 0;         // collectives started on it (M3)
  std::vector<int64_t> sent, received;  // messages, per member (M5)
  std::vector<int32_t> dims, periods;   // MPI_Cart_create's grid
  int32_t reorder = 0;
  // The error handler the program gave it, or that it inherited from its parent (M18): the
  // program's handle (a virtual one, or a predefined one of the library's).
  bool errh_set = false;
  uintptr_t errh = 0;
  std::string name;  // MPI_Comm_set_name's, set again at a restart (M18); empty: none set
};

// Inactive: a persistent request not started, or completed and waited for (M14).
enum class ReqState : uint8_t { Free, Pending, Done, Inactive };
// How a persistent send is started: MPI_Send_init and _Rsend_init with Isend, _Ssend_init with
// Issend.
enum class SendMode : uint8_t { Standard, Synchronous, Buffered };
struct Request {
  ReqState state = ReqState::Free;
  bool recv = false;
  bool internal = false;  // the layer's own (the send half of a Sendrecv)
  bool persistent = false;  // made by MPI_*_init: the arguments below are kept for MPI_Start
  bool collective = false;  // a nonblocking collective (M15): completed before the frames are saved
  SendMode mode = SendMode::Standard;
  int comm = 0;
  uintptr_t buf = 0;
  int count = 0;
  uintptr_t type = 0;
  int peer = 0, tag = 0;
  uint64_t posted = 0;  // a receive: when it was posted (M4: posted again in that order)
  MPI_Request real = MPI_REQUEST_NULL;  // not saved
  MPI_Status status{};
  bool cancel_asked = false;  // the program called MPI_Cancel on it (completed() asks then)
};
// Plain bytes, so that emptying a slot (on every request handed back) is a copy of kEmptyRequest:
// what a Sendrecv_replace sends is kept beside the table (State::copies).  A copy, not
// `q = Request{}`, which GCC builds on the stack with rep stos first.
static_assert(std::is_trivially_copyable_v<Request>);
const Request kEmptyRequest{};

// A message drained at the cut: delivered before anything new, in the order it came (M5).
struct Drained {
  int comm, source, tag;
  std::string bytes;
};

// A derived datatype or a reduction operation of the program's (M10): virtual handles,
// kTypeBase / kOpBase + index, made again at a restart by replaying how they were made.
// Indexed and Hindexed: blocklengths and displacements (in elements, in bytes); IndexedBlock:
// blocklength and displacements; Hvector: the stride in bytes is displacements[0]; Subarray:
// blocklengths holds sizes, subsizes and starts, blocklength the order; Resized: displacements
// holds lb and extent (M18).
enum class TypeKind : int32_t {
  Contiguous, Vector, Struct, Indexed, Hindexed, IndexedBlock, Hvector, Subarray, Resized, Dup
};
constexpr int32_t kLastTypeKind = int32_t(TypeKind::Dup);
struct Type {
  TypeKind kind;
  int32_t count = 0, blocklength = 0, stride = 0;
  std::vector<int32_t> blocklengths;
  std::vector<int64_t> displacements;
  std::vector<uintptr_t> bases;  // the program's handles of the types it is made of
  bool committed = false, freed = false;
  std::string name;  // MPI_Type_set_name's, set again at a restart; empty: none set
  MPI_Datatype real = MPI_DATATYPE_NULL;
};
struct Op {
  uintptr_t fn = 0;  // the program's function: same address after a restart (D3)
  int32_t commute = 1;
  bool freed = false;
  MPI_Op real = MPI_OP_NULL;
};
constexpr uintptr_t kCommBase = 0x5b000000, kTypeBase = 0x5c000000, kOpBase = 0x5d000000;

// A group of the program's (M16): kGroupBase + index, made again at a restart by replaying how
// it was made: a communicator's group, or some ranks of another group, included or excluded.
enum class GroupKind : int32_t { OfComm, Incl, Excl };
struct Group {
  GroupKind kind = GroupKind::OfComm;
  int32_t from = 0;  // OfComm: the communicator's index; Incl, Excl: the group's
  std::vector<int32_t> ranks;
  bool freed = false;
  MPI_Group real = MPI_GROUP_NULL;
};
constexpr uintptr_t kGroupBase = 0x5e000000;

// An error handler of MPI_Comm_create_errhandler's (M18): kErrhBase + index, made again at a
// restart from the function, which is at the same address (D3).  refs: the program's handles to
// it (made, or returned by MPI_Comm_get_errhandler, less those freed); at 0 the library's is freed
// (a communicator it is set on keeps it, as MPI says).
struct Errh {
  uintptr_t fn = 0;
  int32_t refs = 1;
  MPI_Errhandler real = MPI_ERRHANDLER_NULL;
};
constexpr uintptr_t kErrhBase = 0x5f000000;

// An info object (M19): kInfoBase + index, its pairs kept here and set again on a new object at a
// restart (the library's handle is stale after one).
struct Info {
  std::vector<std::pair<std::string, std::string>> pairs;
  bool freed = false;
  MPI_Info real = MPI_INFO_NULL;
};
constexpr uintptr_t kInfoBase = 0x59000000;

struct Msg {
  int src, tag;
  std::vector<long long> data;
};

struct State {
  bool initialised = false, finalized = false;
  int rank = 0, size = 1;
  int thread_level = MPI_THREAD_SINGLE;
  MPI_Comm ctl = MPI_COMM_NULL;  // the protocol's messages
  MPI_Comm cut = MPI_COMM_NULL;  // the collectives made while every rank is stopped
  MPI_Comm fin = MPI_COMM_NULL;  // the barrier of MPI_Finalize
  std::vector<Comm> comms;
  std::vector<Type> types;
  std::vector<Op> ops;
  std::vector<Group> groups;
  std::vector<Errh> errhs;
  std::vector<Info> infos;
  std::vector<Request> reqs;
  // The send half of a Sendrecv_replace: request index and a copy of what it sends, until that
  // send completes (not saved: it completes at the cut).
  std::vector<std::pair<long, std::vector<char>>> copies;
  size_t req_cursor = 0;  // where new_request looks first: after the slot it handed out last
  std::deque<Drained> drained;
  Phase phase = Phase::Idle;
  std::vector<int64_t> target;
  long long target_version = 0;  // of the targets this rank has (they may be raised: M2)
  long long raised_c = -1, raised_to = 0;  // the last raise this rank asked for
  bool req_sent = false;
  bool in_collective = false;
  int64_t rounds = 0;  // checkpoints this job has taken
  std::deque<Msg> inbox;  // messages to self
  std::vector<MPI_Request> ctl_sends;
  // Rank 0, coordinating.
  bool coordinating = false, finalizing = false;
  int reports = 0, reached = 0;
  std::vector<std::vector<long long>> report;  // per rank: seq then leader per communicator
  std::vector<std::vector<long long>> targets;  // per rank, and their versions
  std::vector<long long> versions;
  std::vector<char> has_reached;
  // Rank 0's clock of the checkpoint under way (M13): when it saw the request, when it sent stop.
  uint64_t t_request = 0, t_stop_sent = 0;
  // MPI_Finalize's barrier, kept over a checkpoint in the same process.
  bool repost_due = false;  // receives taken back at the cut wait to be posted again
  uint64_t posts = 0;        // receives posted so far (Request::posted)
  bool fin_started = false;
  MPI_Request fin_req = MPI_REQUEST_NULL;
  uint64_t generation = 0;  // the one this process restarted from
  // The buffer of MPI_Buffer_attach (M17): the program's memory, attached again at a restart.
  uintptr_t attached = 0;
  int32_t attached_size = 0;
  unsigned calls = 0;
  // Bumped whenever the library's requests behind virtual ones may have changed other than by
  // completing: the protocol looked at (the cut may follow), receives taken back or posted again.
  unsigned epoch = 0;
};

// Never destroyed: MPI calls may come from exit handlers.  A reference to a static object (not to
// one made by new), so that the compiler finds the state at a fixed address, not through a pointer
// loaded anew after every call into the library.
union Holder {
  State state;
  Holder() : state() {}
  ~Holder() {}
} holder;
State &g = holder.state;

// The library's handle behind what the program holds (a virtual one, or a predefined one).
inline MPI_Datatype rt(MPI_Datatype t) {
  uintptr_t k = bits(t) - kTypeBase;
  return k < g.types.size() ? g.types[k].real : t;
}
MPI_Op rop(MPI_Op o) {
  uintptr_t k = bits(o) - kOpBase;
  return k < g.ops.size() ? g.ops[k].real : o;
}
MPI_Group rg(MPI_Group v) {
  uintptr_t k = bits(v) - kGroupBase;
  return k < g.groups.size() ? g.groups[k].real : v;
}
MPI_Errhandler re(MPI_Errhandler v) {
  uintptr_t k = bits(v) - kErrhBase;
  return k < g.errhs.size() ? g.errhs[k].real : v;
}
Info *info_of(MPI_Info v) {  // null for the library's own (MPI_INFO_ENV, MPI_INFO_NULL)
  uintptr_t k = bits(v) - kInfoBase;
  return k < g.infos.size() ? &g.infos[k] : nullptr;
}
MPI_Info ri(MPI_Info v) {
  const Info *in = info_of(v);
  return in ? in->real : v;
}

int env_int(const char *const *names, int fallback) {
  for (const char *const *n = names; *n; ++n)
    if (const char *v = getenv(*n); v && *v)
      return atoi(v);
  return fallback;
}

// Before MPI_Init (the runtime's first constructor decides which image to read): from the
// launcher's environment.  mpirun (OpenMPI), hydra (MPICH), PMIx, Slurm's srun.
int env_rank() {
  static const char *const names[] = {"OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK",
                                      "SLURM_PROCID", nullptr};
  return env_int(names, 0);
}
int env_size() {
  static const char *const names[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "SLURM_NTASKS",
                                      nullptr};
  return env_int(names, 1);
}

// Plain data, constant-initialised: the core asks before the layer's own globals are constructed.
bool g_ready;
int g_rank, g_size;
int job_rank() { return g_ready ? g_rank : env_rank(); }
int job_size() { return g_ready ? g_size : env_size(); }

// The core's collectives over the job (while every rank is stopped: the generation's number, the
// images written, the commit) wait sleeping: they wait for ranks writing to the disk, mostly
// rank 0 committing.  A blocking MPI_Allreduce spins, and where ranks outnumber cores the spinning
// ranks took the cores from rank 0 (M13: the commit of 4 OpenMPI ranks on 2 cores took 138 ms);
// yielding (sched_yield) still left 8 ranks 37-50 ms beyond the write, sleeping 9-22.
void wait_yielding(MPI_Request *r) {
  for (unsigned spins = 0;; ++spins) {
    int done = 0;
    PMPI_Test(r, &done, MPI_STATUS_IGNORE);
    if (done)
      return;
    if (spins >= 64) {  // rank 0 writes to the disk meanwhile: sleep, not sched_yield
      timespec t = {0, 20000};
      nanosleep(&t, nullptr);
    }
  }
}
void job_max(uint64_t *v, int n) {
  MPI_Request r;
  PMPI_Iallreduce(MPI_IN_PLACE, v, n, MPI_UINT64_T, MPI_MAX, g.cut, &r);
  wait_yielding(&r);
}
bool job_all(bool ok) {
  int in = ok, out = 0;
  MPI_Request r;
  PMPI_Iallreduce(&in, &out, 1, MPI_INT, MPI_LAND, g.cut, &r);
  wait_yielding(&r);
  return out != 0;
}

// The poke (M11): while a checkpoint is under way, the rank's main thread gets its request bit
// raised every millisecond, so that a rank computing between MPI calls (or waiting in a loop of
// its own) reaches arrive() at its next poll and answers the protocol there, instead of at its
// next MPI call, which may be seconds away or never come before others need its answer.  A timer
// of libc's thread, armed from the rank's own request (async-signal-safe) or once the protocol
// reaches the rank, disarmed once the rank has stopped; nothing runs between checkpoints.
timer_t g_poke;
bool g_poke_made;
int g_poke_on;
unsigned long long *g_main_word;  // the state word of the thread that called MPI_Init

void on_poke(union sigval) {
  if (__atomic_load_n(&g_poke_on, __ATOMIC_ACQUIRE) && g_main_word)
    state::raise(g_main_word);
}

void make_poke() {
  g_main_word = &__autockpt_state;
  if (g_poke_made)
    return;
  struct sigevent ev;
  memset(&ev, 0, sizeof ev);
  ev.sigev_notify = SIGEV_THREAD;
  ev.sigev_notify_function = on_poke;
  if (timer_create(CLOCK_MONOTONIC, &ev, &g_poke) != 0)
    return warn("cannot create the timer that keeps a computing rank answering checkpoints: %s "
                "(a rank answers at its next MPI call instead)", strerror(errno));
  g_poke_made = true;
}

void poke_start() {  // async-signal-safe
  if (!g_poke_made || __atomic_exchange_n(&g_poke_on, 1, __ATOMIC_ACQ_REL))
    return;
  struct itimerspec its = {};
  its.it_value.tv_nsec = its.it_interval.tv_nsec = 1000000;
  timer_settime(g_poke, 0, &its, nullptr);
}

void poke_stop() {
  if (!g_poke_made || !__atomic_exchange_n(&g_poke_on, 0, __ATOMIC_ACQ_REL))
    return;
  struct itimerspec its = {};
  timer_settime(g_poke, 0, &its, nullptr);
}

void request() {  // the core's request hook: from a signal handler or a timer's thread
  if (g_ready)
    poke_start();
}

uint64_t now_ns() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return uint64_t(t.tv_sec) * 1000000000u + uint64_t(t.tv_nsec);
}

// Spinning in a wait: yield the core now and then (ranks are often oversubscribed).
void backoff(unsigned *spins) {
  if (++*spins < 64)
    return;
  if (*spins < 4096) {
    sched_yield();
    return;
  }
  timespec t = {0, 50000};
  nanosleep(&t, nullptr);
}

// ---- Communicators ------------------------------------------------------------------------------

inline int comm_index(MPI_Comm c) {
  for (size_t k = 0; k < g.comms.size(); ++k)
    if (g.comms[k].handle == c)
      return int(k);
  return -1;
}

[[noreturn]] void unsupported(const char *call, const char *what) {
  fatal("%s: %s cannot be checkpointed by autockpt yet; build this program without autockpt, or "
        "avoid %s", call, what, call);
}

[[noreturn]] void unknown_comm(const char *call) {
  fatal("%s on a communicator autockpt does not know (made by a call it does not wrap); "
        "checkpoints of this program are not supported", call);
}

void add_comm(MPI_Comm handle, MPI_Comm real, Comm c = Comm{}) {
  c.handle = handle;
  c.real = real;
  if (real == MPI_COMM_NULL) {  // not a member (MPI_UNDEFINED): kept, so indices agree
    g.comms.push_back(std::move(c));
    return;
  }
  PMPI_Comm_size(real, &c.size);
  MPI_Group world, mine;
  PMPI_Comm_group(MPI_COMM_WORLD, &world);
  PMPI_Comm_group(real, &mine);
  std::vector<int> local(c.size);
  for (int k = 0; k < c.size; ++k)
    local[k] = k;
  c.world.resize(c.size);
  PMPI_Group_translate_ranks(mine, c.size, local.data(), world, c.world.data());
  PMPI_Group_free(&world);
  PMPI_Group_free(&mine);
  c.sent.assign(c.size, 0);
  c.received.assign(c.size, 0);
  g.comms.push_back(std::move(c));
}

// ---- The protocol (M2) ----------------------------------------------------------------------------

void post(int dest, int tag, std::vector<long long> data) {
  if (dest == g.rank) {
    g.inbox.push_back({g.rank, tag, std::move(data)});
    return;
  }
  MPI_Request r;
  PMPI_Isend(data.data(), int(data.size()), MPI_LONG_LONG, dest, tag, g.ctl, &r);
  // Small messages: the library has copied them once Isend returns (eager); keep the request.
  g.ctl_sends.push_back(r);
}

void check_reached() {
  if (g.phase != Phase::RunOn || g.in_collective)
    return;
  for (size_t c = 0; c < g.comms.size(); ++c)
    if (g.comms[c].seq < g.target[c])
      return;
  g.phase = Phase::Reached;
  log(3, "reached the cut's collectives");
  post(0, kReached, {g.target_version});
}

// Whether this rank has yet to start collectives on some communicator to reach the cut.
bool behind() {
  for (size_t c = 0; c < g.comms.size(); ++c)
    if (g.comms[c].seq < g.target[c])
      return true;
  return false;
}

void send_target(int r) {
  std::vector<long long> t{++g.versions[r]};
  t.insert(t.end(), g.targets[r].begin(), g.targets[r].end());
  post(r, kTarget, std::move(t));
}

// Rank 0: every rank has reported; the target of a communicator is the most collectives any of
// its members has started on it (communicators made by one split share an index: their leader,
// the world rank of their rank 0, tells them apart).
void send_targets() {
  size_t nc = g.comms.size();
  g.targets.assign(g.size, std::vector<long long>(nc, 0));
  g.versions.assign(g.size, 0);
  g.has_reached.assign(g.size, 0);
  for (int r = 0; r < g.size; ++r) {
    for (size_t c = 0; c < nc; ++c)
      for (int q = 0; q < g.size; ++q)
        if (g.report[q][nc + c] == g.report[r][nc + c] && g.report[q][c] > g.targets[r][c])
          g.targets[r][c] = g.report[q][c];
    send_target(r);
  }
}

// Rank 0: a rank waits at the entry of a collective on communicator c, at its target there, but
// must still start collectives on another one to reach the cut (it is ordered after this one in
// its program): every member of c is given one more collective on c (M2).
void raise_target(int src, size_t c, long long to) {
  size_t nc = g.comms.size();
  if (c >= nc)
    return;
  for (int r = 0; r < g.size; ++r)
    if (g.report[r][nc + c] == g.report[src][nc + c] && g.targets[r][c] < to) {
      g.targets[r][c] = to;
      if (g.has_reached[r]) {
        g.has_reached[r] = 0;
        --g.reached;
      }
      send_target(r);
    }
}

void handle(Msg &m) {
  log(3, "protocol: message %d from rank %d (phase %d)", m.tag, m.src, int(g.phase));
  switch (m.tag) {
    case kReq:  // rank 0
      if (g.coordinating || g.finalizing || (!m.data.empty() && m.data[0] < g.rounds))
        break;  // served by the checkpoint under way or just taken; none once finalizing
      g.coordinating = true;
      g.t_request = now_ns();
      g.reports = g.reached = 0;
      g.report.assign(g.size, {});
      for (int r = 0; r < g.size; ++r)
        post(r, kIntent, {});
      break;
    case kIntent: {
      std::vector<long long> rep;
      for (const Comm &c : g.comms)
        rep.push_back(c.seq);
      for (const Comm &c : g.comms)
        rep.push_back(c.world.empty() ? -1 - (long long)g.rank : c.world[0]);
      g.phase = Phase::Reported;
      post(0, kReport, std::move(rep));
      break;
    }
    case kReport:  // rank 0
      if (m.data.size() != 2 * g.comms.size())
        fatal("rank %d has made %zu communicators, rank 0 %zu: checkpoints need every rank to "
              "make the same communicators in the same order", m.src, m.data.size() / 2,
              g.comms.size());
      g.report[m.src] = std::move(m.data);
      if (++g.reports == g.size)
        send_targets();
      break;
    case kTarget:
      g.target_version = m.data[0];
      g.target.assign(m.data.begin() + 1, m.data.end());
      g.phase = Phase::RunOn;
      check_reached();
      break;
    case kReached:  // rank 0; one sent before its targets were raised does not count
      if (m.data[0] != g.versions[m.src] || g.has_reached[m.src])
        break;
      g.has_reached[m.src] = 1;
      if (++g.reached == g.size) {
        for (int r = 0; r < g.size; ++r)
          post(r, kStop, {});
        g.t_stop_sent = now_ns();
      }
      break;
    case kRaise:  // rank 0
      raise_target(m.src, size_t(m.data[0]), m.data[1]);
      break;
    case kStop:
      g.phase = Phase::Stopping;
      state::raise(&__autockpt_state);  // the next poll stops too
      break;
  }
}

// Answers the protocol: called from every wait of the layer, at polls while a checkpoint is
// requested, and while the program is halted.  Also turns a request of this rank's own (a
// signal, the timer, a poll count) into a request to rank 0.
void service() {
  if (!g.initialised || g.finalized)
    return;
  RuntimeHeap heap;
  ++g.epoch;
  if (g.phase == Phase::Idle && !g.req_sent && control::request_pending()) {
    g.req_sent = true;
    post(0, kReq, {g.rounds});
  }
  for (size_t k = 0; k < g.ctl_sends.size();) {
    int done = 0;
    PMPI_Test(&g.ctl_sends[k], &done, MPI_STATUS_IGNORE);
    if (done) {
      g.ctl_sends[k] = g.ctl_sends.back();
      g.ctl_sends.pop_back();
    } else {
      ++k;
    }
  }
  for (;;) {
    Msg m;
    if (!g.inbox.empty()) {
      m = std::move(g.inbox.front());
      g.inbox.pop_front();
    } else {
      int flag = 0;
      MPI_Status st;
      PMPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, g.ctl, &flag, &st);
      if (!flag)
        break;
      int n = 0;
      PMPI_Get_count(&st, MPI_LONG_LONG, &n);
      m.src = st.MPI_SOURCE;
      m.tag = st.MPI_TAG;
      m.data.resize(n);
      PMPI_Recv(m.data.data(), n, MPI_LONG_LONG, m.src, m.tag, g.ctl, MPI_STATUS_IGNORE);
    }
    handle(m);
  }
  if (g.phase != Phase::Idle || g.req_sent)
    poke_start();
}

// A wrapper that may stop here (a safe point, outside any collective): whether it must return
// at once because the calling thread is now unwinding.
bool stop_here() {
  if (g.phase != Phase::Stopping)
    return false;
  ++g.epoch;
  state::raise(&__autockpt_state);
  return __autockpt_poll_slow() != 0;
}

// Between the calls that do not wait: look at the protocol now and then, so that a rank that
// never waits still takes part.
inline void now_and_then() {
  if ((++g.calls & 63) == 0 || ((state::flag() & state::kRequestBit) && g.phase == Phase::Idle &&
                                 !g.req_sent))
    service();
}

// In a wait whose first test found it not done, the protocol is looked at: after that first
// test only now and then (every 64th call, or at once for this rank's own request), then every
// 16th test (a rank that waits answers it).  A look is a probe of the protocol's communicator,
// a run of the library's progress: 100-200 ns under MPICH, in every blocking receive of a
// ping-pong whose message was not there at the first test.
inline void waiting(bool first, unsigned tests) {
  if (first)
    now_and_then();
  else if ((tests & 15) == 0)
    service();
}

// ---- Point to point --------------------------------------------------------------------------------

void count_sent(int c, int dest) {
  if (dest != MPI_PROC_NULL && c >= 0)
    ++g.comms[c].sent[dest];
}
void count_received(int c, const MPI_Status &st) {
  if (st.MPI_SOURCE >= 0 && c >= 0)
    ++g.comms[c].received[st.MPI_SOURCE];
}

// The first drained message that a receive of (source, tag) on comm c matches, in the order
// they came; -1 if none.
long find_drained(int c, int source, int tag) {
  for (size_t k = 0; k < g.drained.size(); ++k) {
    const Drained &d = g.drained[k];
    if (d.comm == c && (source == MPI_ANY_SOURCE || source == d.source) &&
        (tag == MPI_ANY_TAG || tag == d.tag))
      return long(k);
  }
  return -1;
}

void drained_status(const Drained &d, MPI_Status *st) {
  st->MPI_SOURCE = d.source;
  st->MPI_TAG = d.tag;
  st->MPI_ERROR = MPI_SUCCESS;
  PMPI_Status_set_elements(st, MPI_BYTE, int(d.bytes.size()));
  PMPI_Status_set_cancelled(st, 0);
}

// Delivers drained message k into the receive buffer and removes it.
int deliver(long k, void *buf, int count, MPI_Datatype type, MPI_Status *status) {
  Drained d = std::move(g.drained[k]);
  g.drained.erase(g.drained.begin() + k);
  int pos = 0, rc = MPI_SUCCESS;
  int size = 0;
  PMPI_Type_size(rt(type), &size);
  int n = size ? int(d.bytes.size()) / size : 0;
  if (n > count) {
    rc = MPI_ERR_TRUNCATE;
    n = count;
  }
  if (n > 0)
    PMPI_Unpack(d.bytes.data(), int(d.bytes.size()), &pos, buf, n, rt(type), g.comms[d.comm].real);
  if (status != MPI_STATUS_IGNORE)
    drained_status(d, status);
  return rc;
}

// A new slot at the end of the table (out of line: find_request's loop then keeps to few
// registers).
[[gnu::noinline]] int grow_requests() {
  g.reqs.emplace_back();
  g.req_cursor = g.reqs.size();
  return int(g.reqs.size() - 1);
}

// A free slot of the request table.  The search goes on from the slot handed out last, so that a
// program that keeps a window of requests in flight and waits for them all finds a free one at
// once (from the start, each search passed every request still in flight: 128 in a window of 64
// sends and receives, bench/mpi's message rate).  The slot after the last one handed out is
// looked at inline (free in such a window); the search is out of line.
[[gnu::noinline]] int find_request() {
  const size_t n = g.reqs.size();
  size_t k = g.req_cursor < n ? g.req_cursor : 0;
  for (size_t i = 0; i < n; ++i, k = k + 1 == n ? 0 : k + 1) {
    Request &q = g.reqs[k];
    if (q.internal && q.state == ReqState::Done)  // a send the program freed, completed
      q = kEmptyRequest;
    if (q.state == ReqState::Free) {
      g.req_cursor = k + 1;
      return int(k);
    }
  }
  return grow_requests();
}

inline int new_request() {
  const size_t k = g.req_cursor;  // may be the table's size: find_request starts over then
  if (k < g.reqs.size() && g.reqs[k].state == ReqState::Free) {
    g.req_cursor = k + 1;
    return int(k);
  }
  return find_request();
}

inline long request_index(MPI_Request r) {
  uintptr_t v = bits(r);
  if (v < kRequestBase || v >= kRequestBase + g.reqs.size())
    return -1;
  return long(v - kRequestBase);
}

// Request q's library request has completed with status st: a receive counts its message.
inline void completed(Request &q, const MPI_Status &st) {
  int cancelled = 0;
  if (q.recv && (!q.cancel_asked || (PMPI_Test_cancelled(&st, &cancelled), !cancelled)))
    count_received(q.comm, st);
  q.status = st;
  q.state = ReqState::Done;
}

// Whether virtual request k has completed (its status is then kept in it).
bool test_request(long k) {
  Request &q = g.reqs[k];
  if (q.state != ReqState::Pending)
    return true;
  if (q.real == MPI_REQUEST_NULL)
    return false;  // taken back at the cut, not posted again yet (M4)
  int done = 0;
  MPI_Status st;
  PMPI_Test(&q.real, &done, &st);
  if (!done)
    return false;
  completed(q, st);
  return true;
}

// Whether every request of the program's array (null ones aside) has completed: those pending
// are tested together, with one MPI_Testsome, which runs the library's progress once (a test of
// each ran it once per request: 128 times a pass in a window of 64 sends and receives).  With
// `again`, a wait's next pass over the same array: the library's requests gathered by the pass
// before are tested again as they are (MPI_Testsome nulls those it completes), unless g.epoch
// moved since (at the cut a pending receive is taken back, and its library request freed):
// scanning the program's array on every pass was an eighth of a receiving rank's time in a
// window of 64 receives (bench/mpi's message rate, perf).
bool test_requests(int count, const MPI_Request *requests, const char *call, bool again = false) {
  static std::vector<MPI_Request> reals;  // one thread calls the layer at a time (like g)
  static std::vector<long> which;
  static std::vector<int> indices;
  static std::vector<MPI_Status> statuses;
  static size_t left;          // of reals, not completed yet
  static bool waiting;         // a receive taken back at the cut, not posted again yet (M4)
  static unsigned epoch;       // g.epoch when reals was gathered
  static int gathered;          // how many (the arrays are at least count long)
  if (!again || epoch != g.epoch) {
    if (reals.size() < size_t(count)) {
      reals.resize(size_t(count));
      which.resize(size_t(count));
      indices.resize(size_t(count));
      statuses.resize(size_t(count));
    }
    // Into locals, not through the vectors: their stores would make every value be loaded again.
    MPI_Request *out = reals.data();
    long *out_k = which.data();
    int n = 0;
    bool w = false;
    for (int i = 0; i < count; ++i) {
      if (requests[i] == MPI_REQUEST_NULL)
        continue;
      long k = request_index(requests[i]);
      if (k < 0)
        unsupported(call, "a request autockpt did not make");
      const Request &q = g.reqs[size_t(k)];
      if (q.state != ReqState::Pending)
        continue;
      if (q.real == MPI_REQUEST_NULL) {
        w = true;
        continue;
      }
      out[n] = q.real;
      out_k[n++] = k;
    }
    gathered = n;
    left = size_t(n);
    waiting = w;
    epoch = g.epoch;
  }
  if (left == 0)
    return !waiting;
  int n = 0;
  PMPI_Testsome(gathered, reals.data(), &n, indices.data(), statuses.data());
  if (n == MPI_UNDEFINED)
    n = 0;
  for (int j = 0; j < n; ++j) {
    Request &q = g.reqs[which[size_t(indices[j])]];
    q.real = MPI_REQUEST_NULL;
    completed(q, statuses[j]);
  }
  left -= size_t(n);
  return !waiting && left == 0;
}

void empty_status(MPI_Status *st) {
  if (st == MPI_STATUS_IGNORE)
    return;
  st->MPI_SOURCE = MPI_ANY_SOURCE;
  st->MPI_TAG = MPI_ANY_TAG;
  st->MPI_ERROR = MPI_SUCCESS;
  PMPI_Status_set_elements(st, MPI_BYTE, 0);
}

// Hands completed request *r back to the program: its status, and MPI_REQUEST_NULL; a persistent
// request becomes inactive instead and the program keeps it (an inactive one: an empty status).
inline void release(MPI_Request *r, MPI_Status *status) {
  long k = request_index(*r);
  Request &q = g.reqs[k];
  if (q.state == ReqState::Inactive)
    empty_status(status);
  else if (status != MPI_STATUS_IGNORE)
    *status = q.status;
  if (q.persistent) {
    q.state = ReqState::Inactive;
    q.status = MPI_Status{};
    return;
  }
  q = kEmptyRequest;
  *r = MPI_REQUEST_NULL;
}

// Whether request r counts in Waitany, Testany and Waitsome: neither null nor an inactive
// persistent one (MPI treats those alike).
bool active(MPI_Request r) {
  if (r == MPI_REQUEST_NULL)
    return false;
  long k = request_index(r);
  return k < 0 || g.reqs[k].state != ReqState::Inactive;
}

// Waits for a message matching (source, tag, comm) and receives it; a safe point while none
// has come.  Returns false when it stopped instead (the caller returns at once).  The library's
// own receive is posted and tested (its fast path: the message lands in buf as it arrives),
// looking at the protocol every 16th test; at the cut it is taken back (cancelled) before the
// rank stops, as a pending Irecv is (M4), and one that completed meanwhile is simply received
// (M12).
bool receive(void *buf, int count, MPI_Datatype type, int source, int tag, int c,
             MPI_Status *status, int *rc) {
  if (!g.drained.empty())
    if (long k = find_drained(c, source, tag); k >= 0) {
      *rc = deliver(k, buf, count, type, status);
      return true;
    }
  MPI_Comm comm = g.comms[c].real;
  MPI_Request r;
  MPI_Status st;
  if ((*rc = PMPI_Irecv(buf, count, rt(type), source, tag, comm, &r)) != MPI_SUCCESS)
    return true;
  auto received = [&] {
    count_received(c, st);
    if (status != MPI_STATUS_IGNORE)
      *status = st;
    return true;
  };
  unsigned spins = 0;
  for (unsigned tests = 0;; ++tests) {
    int done = 0;
    *rc = PMPI_Test(&r, &done, &st);
    if (done || *rc != MPI_SUCCESS)
      return received();
    waiting(tests == 0, tests);
    if (g.phase == Phase::Stopping) {
      PMPI_Cancel(&r);
      PMPI_Wait(&r, &st);
      int cancelled = 0;
      PMPI_Test_cancelled(&st, &cancelled);
      if (!cancelled)
        return received();  // it came first: this rank stops at its next safe point
      if (stop_here())
        return false;
      *rc = PMPI_Irecv(buf, count, rt(type), source, tag, comm, &r);  // not stopping after all
      if (*rc != MPI_SUCCESS)
        return true;
    }
    backoff(&spins);
  }
}


// Waits for virtual request k without stopping (a send that must complete: M5).
void finish_request(long k) {
  unsigned spins = 0;
  while (!test_request(k)) {
    service();
    backoff(&spins);
  }
}

void repost();
// At the entry of every wrapper: the receives taken back at the cut are posted again once the
// frames are back.
inline void enter();

// ---- Collectives (M3) --------------------------------------------------------------------------------

// At the entry of a collective on comm c: whether it may start.  False when the rank stopped
// here instead (the caller returns at once; the call is made again after the checkpoint).  A
// rank at its target waits here, taking part in the protocol, until the cut.
bool collective_gate(int c) {
  unsigned spins = 0;
  for (;;) {
    service();
    switch (g.phase) {
      case Phase::Idle:
        return true;
      case Phase::RunOn:
        if (g.comms[c].seq < g.target[c])
          return true;
        if (behind() && (g.raised_c != c || g.raised_to != g.comms[c].seq + 1)) {
          g.raised_c = c;
          g.raised_to = g.comms[c].seq + 1;
          post(0, kRaise, {c, g.raised_to});
        }
        break;
      case Phase::Stopping:
        if (stop_here())
          return false;
        break;
      case Phase::Reported:
      case Phase::Reached:
        break;
    }
    backoff(&spins);
  }
}

// Completes a started collective: never stops inside it (every member will start it too).
int collective_wait(MPI_Request r, int rc) {
  if (rc != MPI_SUCCESS)
    return rc;
  g.in_collective = true;
  unsigned spins = 0;
  for (;;) {
    int done = 0;
    rc = PMPI_Test(&r, &done, MPI_STATUS_IGNORE);
    if (done || rc != MPI_SUCCESS)
      break;
    service();
    backoff(&spins);
  }
  g.in_collective = false;
  check_reached();
  return rc;
}

template <class Start>
int collective(MPI_Comm comm, const char *name, Start start) {
  RuntimeHeap heap;
  enter();
  int c = comm_index(comm);
  if (c < 0)
    unknown_comm(name);
  if (!collective_gate(c))
    return MPI_SUCCESS;  // stopped: unwinding
  ++g.comms[c].seq;
  MPI_Request r;
  int rc = start(g.comms[c].real, &r);
  return collective_wait(r, rc);
}

// Started like a blocking collective (the entry is a safe point where a rank at its target waits,
// M2; one more on the communicator's count, M3), into a virtual request the program waits for.
template <class Start>
int icollective(MPI_Comm comm, const char *name, MPI_Request *request, Start start) {
  RuntimeHeap heap;
  enter();
  int c = comm_index(comm);
  if (c < 0)
    unknown_comm(name);
  if (!collective_gate(c))
    return MPI_SUCCESS;  // stopped: unwinding
  int k = new_request();
  Request &q = g.reqs[k];
  int rc = start(g.comms[c].real, &q.real);
  if (rc != MPI_SUCCESS) {
    q = kEmptyRequest;
    return rc;
  }
  ++g.comms[c].seq;
  q.state = ReqState::Pending;
  q.collective = true;
  q.comm = c;
  *request = handle<MPI_Request>(kRequestBase + k);
  check_reached();
  return rc;
}

// ---- The cut (M5) ----------------------------------------------------------------------------------

// Receives every message that has come on the program's communicators into the drained list.
void drain_available() {
  for (size_t c = 0; c < g.comms.size(); ++c)
    for (;;) {
      if (g.comms[c].real == MPI_COMM_NULL)
        break;
      int flag = 0;
      MPI_Message msg;
      MPI_Status st;
      PMPI_Improbe(MPI_ANY_SOURCE, MPI_ANY_TAG, g.comms[c].real, &flag, &msg, &st);
      if (!flag)
        break;
      int n = 0;
      PMPI_Get_count(&st, MPI_BYTE, &n);
      Drained d{int(c), st.MPI_SOURCE, st.MPI_TAG, std::string(size_t(n), '\0')};
      PMPI_Mrecv(d.bytes.data(), n, MPI_BYTE, &msg, &st);
      count_received(int(c), st);
      g.drained.push_back(std::move(d));
    }
}

void progress_requests() {
  for (size_t k = 0; k < g.reqs.size(); ++k)
    if (g.reqs[k].state == ReqState::Pending)
      test_request(long(k));
}

// Every rank is stopped: exchanges how many messages each sent to each, and receives those
// not received yet.  Afterwards no message is in flight and every send has completed.
void drain() {
  size_t nc = g.comms.size(), n = size_t(g.size);
  std::vector<long long> sent(nc * n, 0), to_me(nc * n, 0);
  for (size_t c = 0; c < nc; ++c)
    for (int m = 0; m < g.comms[c].size; ++m)
      sent[size_t(g.comms[c].world[m]) * nc + c] = g.comms[c].sent[m];
  MPI_Request r;
  PMPI_Ialltoall(sent.data(), int(nc), MPI_LONG_LONG, to_me.data(), int(nc), MPI_LONG_LONG,
                 g.cut, &r);
  unsigned spins = 0;
  for (int done = 0;;) {
    PMPI_Test(&r, &done, MPI_STATUS_IGNORE);
    if (done)
      break;
    drain_available();  // a rank still sending to this one may be in a blocking send
    progress_requests();
    backoff(&spins);
  }
  auto missing = [&] {
    for (size_t c = 0; c < nc; ++c)
      for (int m = 0; m < g.comms[c].size; ++m)
        if (g.comms[c].received[m] < to_me[size_t(g.comms[c].world[m]) * nc + c])
          return true;
    for (const Request &q : g.reqs)
      if (q.state == ReqState::Pending && !q.recv)
        return true;
    return false;
  };
  spins = 0;
  while (missing()) {
    progress_requests();
    drain_available();
    backoff(&spins);
  }
  // No barrier here: the core's first collective of the checkpoint (the generation, M20) comes
  // next, and once it completes every rank has drained.  A rank that is through waits there: it
  // has received all that was sent to it, and each of its sends is complete, so no other rank's
  // drain needs it to act.
  if (!g.drained.empty())
    log(2, "%zu messages in flight drained into the image", g.drained.size());
}

// Before the frames are saved: no receive may stay posted, or the library could write into a
// frame's memory after it was saved (and before it is re-entered).  Each pending receive is
// cancelled; one that has completed meanwhile is done (its data came before the save).  Those
// taken back are posted again once the frames are back (repost), and what they would have
// received is drained meanwhile (M4, M5).
void take_back_receives() {
  RuntimeHeap heap;
  ++g.epoch;
  for (Request &q : g.reqs) {
    if (q.state != ReqState::Pending || !q.recv || q.real == MPI_REQUEST_NULL)
      continue;
    PMPI_Cancel(&q.real);
    MPI_Status st;
    PMPI_Wait(&q.real, &st);
    int cancelled = 0;
    PMPI_Test_cancelled(&st, &cancelled);
    q.real = MPI_REQUEST_NULL;
    if (!cancelled) {
      count_received(q.comm, st);
      q.status = st;
      q.state = ReqState::Done;
    }
  }
}

// Before the frames are saved: every nonblocking collective started completes (M15).  It cannot
// be taken back like a receive (MPI cannot cancel a collective), and it could write its result
// into a frame after that frame was saved.  It does complete: every member has started it (each
// is at its target, M2), and every member comes here, or is waiting in the layer and comes here
// at its next look, before it stops.
void finish_collectives() {
  unsigned spins = 0;
  for (;;) {
    bool pending = false;
    for (size_t k = 0; k < g.reqs.size(); ++k)
      if (g.reqs[k].collective && g.reqs[k].state == ReqState::Pending && !test_request(long(k)))
        pending = true;
    if (!pending)
      return;
    service();
    backoff(&spins);
  }
}

// Once the frames are back (the first MPI call after a checkpoint or a restart): the receives
// taken back at the cut, in the order they were posted, each from the drained messages if one
// matches (the earlier a receive was posted, the earlier it matches), else posted again.  Not in
// the table's order: a freed slot is reused, so a later receive may sit before an earlier one.
void repost() {
  RuntimeHeap heap;
  ++g.epoch;
  g.repost_due = false;
  std::vector<Request *> taken;
  for (Request &q : g.reqs)
    if (q.state == ReqState::Pending && q.recv && q.real == MPI_REQUEST_NULL)
      taken.push_back(&q);
  std::sort(taken.begin(), taken.end(),
            [](const Request *a, const Request *b) { return a->posted < b->posted; });
  for (Request *p : taken) {
    Request &q = *p;
    MPI_Datatype type = handle<MPI_Datatype>(q.type);
    if (long d = find_drained(q.comm, q.peer, q.tag); d >= 0) {
      deliver(d, reinterpret_cast<void *>(q.buf), q.count, type, &q.status);
      q.state = ReqState::Done;
    } else {
      PMPI_Irecv(reinterpret_cast<void *>(q.buf), q.count, rt(type), q.peer, q.tag,
                 g.comms[q.comm].real, &q.real);
    }
  }
  log(3, "%zu receives taken back at the cut are posted again", taken.size());
}

inline void enter() {
  if (__builtin_expect(g.repost_due, 0) && state::mode() == AUTOCKPT_MODE_RUNNING)
    repost();
}

// ---- The layer's phases -----------------------------------------------------------------------------

bool arrive() {
  if (!g.initialised || g.finalized)
    return false;  // no job to stop with (before MPI_Init or after MPI_Finalize): no checkpoint
  if (g.phase == Phase::Idle && !g.req_sent && control::request_pending()) {  // its own
    RuntimeHeap heap;
    g.req_sent = true;
    post(0, kReq, {g.rounds});
  }
  service();
  if (g.phase == Phase::Stopping) {
    state::lower(&__autockpt_state);  // raised by kStop: not a new request once re-entered
    finish_collectives();
    take_back_receives();
    return true;
  }
  // A halted rank (AUTOCKPT_HALT_POLL) runs on while the job goes to the cut.
  if ((g.phase == Phase::RunOn || g.phase == Phase::Reached) && trigger::halted())
    state::raise(&__autockpt_state);
  return false;
}

bool stop() {
  if (g.initialised && !g.finalized) {
    RuntimeHeap heap;
    poke_stop();  // stopped: a poke now only costs a thread (M11)
    drain();
    files::library_fds_open_now();  // connections the library opened since
    // The cut's share of the checkpoint (M13; bench/mpi/coord.py reads this line): rank 0 is
    // stopped and drained (the others are once the core's first collective completes, M20).
    if (g.rank == 0 && g.t_request && g.t_stop_sent)
      log(2, "checkpoint round %lld: rank 0 saw the request and sent stop to all in %.3f ms; "
          "stopped and drained itself %.3f ms later", (long long)g.rounds,
          double(g.t_stop_sent - g.t_request) / 1e6, double(now_ns() - g.t_stop_sent) / 1e6);
    g.t_request = g.t_stop_sent = 0;
  }
  return true;
}

void resume() {
  poke_stop();
  g.repost_due = true;
  g.raised_c = -1;
  g.phase = Phase::Idle;
  g.req_sent = false;
  g.coordinating = false;
  ++g.rounds;
}

void idle() {
  service();
  if (g.phase == Phase::Stopping || g.phase == Phase::RunOn || g.phase == Phase::Reached)
    state::raise(&__autockpt_state);
}

// ---- Datatypes and error handlers (M10, M18) -------------------------------------------------------

// Makes the library's datatype that record t describes: when the program makes one, and again at
// a restart (the record is the replay).  MPI_ERR_INTERN if the record does not hold what its kind
// needs (a damaged image).
int make_type(Type &t) {
  std::vector<MPI_Datatype> bases;
  for (uintptr_t b : t.bases)
    bases.push_back(rt(handle<MPI_Datatype>(b)));
  size_t n = size_t(std::max(t.count, 0));
  const std::vector<int32_t> &bl = t.blocklengths;
  const std::vector<int64_t> &dl = t.displacements;
  std::vector<MPI_Aint> aint(dl.begin(), dl.end());
  std::vector<int> ints(dl.begin(), dl.end());
  if (bases.empty())
    return MPI_ERR_INTERN;
  switch (t.kind) {
    case TypeKind::Contiguous:
      return PMPI_Type_contiguous(t.count, bases[0], &t.real);
    case TypeKind::Vector:
      return PMPI_Type_vector(t.count, t.blocklength, t.stride, bases[0], &t.real);
    case TypeKind::Struct:
      if (bl.size() != bases.size() || dl.size() != bases.size())
        return MPI_ERR_INTERN;
      return PMPI_Type_create_struct(int(bases.size()), bl.data(), aint.data(), bases.data(),
                                     &t.real);
    case TypeKind::Indexed:
    case TypeKind::Hindexed:
      if (bl.size() != n || dl.size() != n)
        return MPI_ERR_INTERN;
      return t.kind == TypeKind::Indexed
                 ? PMPI_Type_indexed(t.count, bl.data(), ints.data(), bases[0], &t.real)
                 : PMPI_Type_create_hindexed(t.count, bl.data(), aint.data(), bases[0], &t.real);
    case TypeKind::IndexedBlock:
      if (dl.size() != n)
        return MPI_ERR_INTERN;
      return PMPI_Type_create_indexed_block(t.count, t.blocklength, ints.data(), bases[0],
                                            &t.real);
    case TypeKind::Hvector:
      if (dl.size() != 1)
        return MPI_ERR_INTERN;
      return PMPI_Type_create_hvector(t.count, t.blocklength, aint[0], bases[0], &t.real);
    case TypeKind::Subarray:
      if (bl.size() != 3 * n)
        return MPI_ERR_INTERN;
      return PMPI_Type_create_subarray(t.count, bl.data(), bl.data() + n, bl.data() + 2 * n,
                                       t.blocklength, bases[0], &t.real);
    case TypeKind::Resized:
      if (dl.size() != 2)
        return MPI_ERR_INTERN;
      return PMPI_Type_create_resized(bases[0], aint[0], aint[1], &t.real);
    case TypeKind::Dup:
      return PMPI_Type_dup(bases[0], &t.real);
  }
  return MPI_ERR_INTERN;
}

// Sets the error handler comm c's record names on its library communicator (M18).
void apply_errh(const Comm &c) {
  if (c.errh_set && c.real != MPI_COMM_NULL)
    PMPI_Comm_set_errhandler(c.real, re(handle<MPI_Errhandler>(c.errh)));
}

// ---- The image -----------------------------------------------------------------------------------

template <class T>
void put(std::string *out, const T &v) {
  out->append(reinterpret_cast<const char *>(&v), sizeof v);
}
void put_bytes(std::string *out, const std::string &s) {
  put(out, uint64_t(s.size()));
  out->append(s);
}

struct Reader {
  const std::string &s;
  size_t at = 0;
  bool ok = true;
  template <class T>
  T get() {
    T v{};
    if (s.size() - at < sizeof v) {
      ok = false;
      return v;
    }
    memcpy(&v, s.data() + at, sizeof v);
    at += sizeof v;
    return v;
  }
  std::string bytes() {
    uint64_t n = get<uint64_t>();
    if (!ok || n > s.size() - at) {
      ok = false;
      return {};
    }
    std::string v = s.substr(at, n);
    at += n;
    return v;
  }
};

constexpr uint32_t kSectionVersion = 9;  // 9: info objects (M19); 8 is read too

void save(image::ImageMeta *, std::string *out) {
  put(out, kSectionVersion);
  put(out, int32_t(g.size));
  put(out, int32_t(g.thread_level));
  put(out, g.rounds);
  put(out, uint32_t(g.comms.size()));
  for (const Comm &c : g.comms) {
    put(out, bits(c.handle));
    put(out, int32_t(c.made));
    put(out, c.parent);
    put(out, c.color);
    put(out, c.key);
    put(out, uint8_t(c.freed));
    put(out, c.seq);
    put(out, int32_t(c.size));
    for (int m = 0; m < c.size; ++m) {
      put(out, c.sent[m]);
      put(out, c.received[m]);
    }
    if (c.made == Made::Cart || c.made == Made::CartSub) {
      put(out, uint32_t(c.dims.size()));
      for (size_t d = 0; d < c.dims.size(); ++d) {
        put(out, c.dims[d]);
        put(out, c.periods[d]);
      }
      put(out, c.reorder);
    }
    put(out, uint8_t(c.errh_set));
    put(out, c.errh);
    put_bytes(out, c.name);
  }
  put(out, uint32_t(g.types.size()));
  for (const Type &t : g.types) {
    put(out, int32_t(t.kind));
    put(out, t.count);
    put(out, t.blocklength);
    put(out, t.stride);
    put(out, uint8_t(t.committed));
    put(out, uint8_t(t.freed));
    put(out, uint32_t(t.bases.size()));
    for (uintptr_t b : t.bases)
      put(out, b);
    put(out, uint32_t(t.blocklengths.size()));
    for (int32_t b : t.blocklengths)
      put(out, b);
    put(out, uint32_t(t.displacements.size()));
    for (int64_t d : t.displacements)
      put(out, d);
    put_bytes(out, t.name);
  }
  put(out, uint32_t(g.ops.size()));
  for (const Op &o : g.ops) {
    put(out, o.fn);
    put(out, o.commute);
    put(out, uint8_t(o.freed));
  }
  put(out, g.attached);
  put(out, g.attached_size);
  put(out, uint32_t(g.groups.size()));
  for (const Group &gr : g.groups) {
    put(out, int32_t(gr.kind));
    put(out, gr.from);
    put(out, uint8_t(gr.freed));
    put(out, uint32_t(gr.ranks.size()));
    for (int32_t r : gr.ranks)
      put(out, r);
  }
  put(out, uint32_t(g.errhs.size()));
  for (const Errh &e : g.errhs) {
    put(out, e.fn);
    put(out, e.refs);
  }
  put(out, uint32_t(g.infos.size()));
  for (const Info &in : g.infos) {
    put(out, uint8_t(in.freed));
    put(out, uint32_t(in.pairs.size()));
    for (const auto &[key, value] : in.pairs) {
      put_bytes(out, key);
      put_bytes(out, value);
    }
  }
  put(out, uint32_t(g.reqs.size()));
  for (const Request &q : g.reqs) {
    put(out, uint8_t(q.state));
    put(out, uint8_t(q.recv));
    put(out, uint8_t(q.internal));
    put(out, uint8_t(q.persistent));
    put(out, uint8_t(q.mode));
    put(out, int32_t(q.comm));
    put(out, q.buf);
    put(out, int32_t(q.count));
    put(out, q.type);
    put(out, int32_t(q.peer));
    put(out, int32_t(q.tag));
    put(out, q.posted);
    put(out, q.status);
  }
  put(out, uint32_t(g.drained.size()));
  for (const Drained &d : g.drained) {
    put(out, int32_t(d.comm));
    put(out, int32_t(d.source));
    put(out, int32_t(d.tag));
    put_bytes(out, d.bytes);
  }
}

// What the image holds, until restart() makes it real again.
struct Loaded {
  bool present = false;
  int size = 0;
  std::vector<Comm> comms;
  std::vector<Type> types;
  std::vector<Op> ops;
  std::vector<Group> groups;
  std::vector<Errh> errhs;
  std::vector<Info> infos;
};
Loaded &g_loaded = *new Loaded;

void load(const image::ImageMeta &meta, std::string section) {
  RuntimeHeap heap;
  Reader r{section};
  if (section.empty())
    return;  // the checkpoint was taken before MPI_Init: nothing to make again
  uint32_t version = r.get<uint32_t>();
  if (version != kSectionVersion && version != 8)
    fatal("the MPI section of the checkpoint has a version this runtime does not read");
  g_loaded.present = true;
  g_loaded.size = r.get<int32_t>();
  g.thread_level = r.get<int32_t>();
  g.rounds = r.get<int64_t>();
  uint32_t nc = r.get<uint32_t>();
  for (uint32_t k = 0; r.ok && k < nc && k < 4096; ++k) {
    Comm c;
    c.handle = handle<MPI_Comm>(r.get<uintptr_t>());
    c.made = Made(r.get<int32_t>());
    c.parent = r.get<int32_t>();
    c.color = r.get<int32_t>();
    c.key = r.get<int32_t>();
    c.freed = r.get<uint8_t>();
    if (c.made != Made::Predefined && (c.parent < 0 || uint32_t(c.parent) >= k))
      r.ok = false;
    c.seq = r.get<int64_t>();
    c.size = r.get<int32_t>();
    if (c.size < 0 || c.size > (1 << 24))
      r.ok = false;
    for (int m = 0; r.ok && m < c.size; ++m) {
      c.sent.push_back(r.get<int64_t>());
      c.received.push_back(r.get<int64_t>());
    }
    if (int32_t(c.made) > int32_t(Made::CartSub))
      r.ok = false;
    if (c.made == Made::Cart || c.made == Made::CartSub) {
      uint32_t nd = r.get<uint32_t>();
      for (uint32_t d = 0; r.ok && d < nd && d < 64; ++d) {
        c.dims.push_back(r.get<int32_t>());
        c.periods.push_back(r.get<int32_t>());
      }
      c.reorder = r.get<int32_t>();
    }
    c.errh_set = r.get<uint8_t>();
    c.errh = r.get<uintptr_t>();
    c.name = r.bytes();
    if (c.name.size() >= MPI_MAX_OBJECT_NAME)
      r.ok = false;
    g_loaded.comms.push_back(std::move(c));
  }
  uint32_t nt = r.get<uint32_t>();
  for (uint32_t k = 0; r.ok && k < nt && k < (1u << 20); ++k) {
    Type t;
    t.kind = TypeKind(r.get<int32_t>());
    t.count = r.get<int32_t>();
    t.blocklength = r.get<int32_t>();
    t.stride = r.get<int32_t>();
    t.committed = r.get<uint8_t>();
    t.freed = r.get<uint8_t>();
    if (int32_t(t.kind) < 0 || int32_t(t.kind) > kLastTypeKind)
      r.ok = false;
    uint32_t nb = r.get<uint32_t>();
    for (uint32_t b = 0; r.ok && b < nb && b < (1u << 20); ++b)
      t.bases.push_back(r.get<uintptr_t>());
    uint32_t nl = r.get<uint32_t>();
    for (uint32_t b = 0; r.ok && b < nl && b < (1u << 20); ++b)
      t.blocklengths.push_back(r.get<int32_t>());
    uint32_t ndisp = r.get<uint32_t>();
    for (uint32_t b = 0; r.ok && b < ndisp && b < (1u << 20); ++b)
      t.displacements.push_back(r.get<int64_t>());
    t.name = r.bytes();
    if (t.bases.empty() || t.name.size() >= MPI_MAX_OBJECT_NAME)
      r.ok = false;
    g_loaded.types.push_back(std::move(t));
  }
  uint32_t no = r.get<uint32_t>();
  for (uint32_t k = 0; r.ok && k < no && k < (1u << 20); ++k) {
    Op o;
    o.fn = r.get<uintptr_t>();
    o.commute = r.get<int32_t>();
    o.freed = r.get<uint8_t>();
    g_loaded.ops.push_back(o);
  }
  g.attached = r.get<uintptr_t>();
  g.attached_size = r.get<int32_t>();
  uint32_t ng = r.get<uint32_t>();
  for (uint32_t k = 0; r.ok && k < ng && k < (1u << 20); ++k) {
    Group gr;
    gr.kind = GroupKind(r.get<int32_t>());
    gr.from = r.get<int32_t>();
    gr.freed = r.get<uint8_t>();
    uint32_t n = r.get<uint32_t>();
    for (uint32_t i = 0; r.ok && i < n && i < (1u << 24); ++i)
      gr.ranks.push_back(r.get<int32_t>());
    if (int32_t(gr.kind) > 2 || gr.from < 0 || (gr.kind != GroupKind::OfComm && uint32_t(gr.from) >= k))
      r.ok = false;
    g_loaded.groups.push_back(std::move(gr));
  }
  uint32_t ne = r.get<uint32_t>();
  for (uint32_t k = 0; r.ok && k < ne && k < (1u << 20); ++k) {
    Errh e;
    e.fn = r.get<uintptr_t>();
    e.refs = r.get<int32_t>();
    g_loaded.errhs.push_back(e);
  }
  uint32_t ni = version >= 9 ? r.get<uint32_t>() : 0;
  for (uint32_t k = 0; r.ok && k < ni && k < (1u << 20); ++k) {
    Info in;
    in.freed = r.get<uint8_t>();
    uint32_t np = r.get<uint32_t>();
    for (uint32_t i = 0; r.ok && i < np && i < (1u << 16); ++i) {
      std::string key = r.bytes();
      std::string value = r.bytes();
      if (key.size() >= MPI_MAX_INFO_KEY || value.size() >= MPI_MAX_INFO_VAL)
        r.ok = false;
      in.pairs.emplace_back(std::move(key), std::move(value));
    }
    g_loaded.infos.push_back(std::move(in));
  }
  uint32_t nr = r.get<uint32_t>();
  for (uint32_t k = 0; r.ok && k < nr && k < (1u << 24); ++k) {
    Request q;
    q.state = ReqState(r.get<uint8_t>());
    q.recv = r.get<uint8_t>();
    q.internal = r.get<uint8_t>();
    q.persistent = r.get<uint8_t>();
    q.mode = SendMode(r.get<uint8_t>());
    if (uint8_t(q.state) > uint8_t(ReqState::Inactive) || uint8_t(q.mode) > 2)
      r.ok = false;
    q.comm = r.get<int32_t>();
    q.buf = r.get<uintptr_t>();
    q.count = r.get<int32_t>();
    q.type = r.get<uintptr_t>();
    q.peer = r.get<int32_t>();
    q.tag = r.get<int32_t>();
    q.posted = r.get<uint64_t>();
    q.status = r.get<MPI_Status>();
    g.posts = std::max(g.posts, q.posted);
    g.reqs.push_back(q);
  }
  uint32_t nd = r.get<uint32_t>();
  for (uint32_t k = 0; r.ok && k < nd; ++k) {
    Drained d;
    d.comm = r.get<int32_t>();
    d.source = r.get<int32_t>();
    d.tag = r.get<int32_t>();
    d.bytes = r.bytes();
    g.drained.push_back(std::move(d));
  }
  if (!r.ok)
    fatal("the MPI section of the checkpoint is damaged");
  g.generation = meta.generation;
}

void setup() {
  PMPI_Comm_rank(MPI_COMM_WORLD, &g.rank);
  PMPI_Comm_size(MPI_COMM_WORLD, &g.size);
  PMPI_Comm_dup(MPI_COMM_WORLD, &g.ctl);
  PMPI_Comm_dup(MPI_COMM_WORLD, &g.cut);
  PMPI_Comm_dup(MPI_COMM_WORLD, &g.fin);
  g.initialised = true;
  g_rank = g.rank;
  g_size = g.size;
  g_ready = true;
  if (g.comms.empty()) {
    add_comm(MPI_COMM_WORLD, MPI_COMM_WORLD);
    add_comm(MPI_COMM_SELF, MPI_COMM_SELF);
  }
  set_log_rank(g.size > 1 ? g.rank : -1);
  make_poke();
  files::library_fds_open_now();
}

// A restarted process: MPI again, the communicators and the pending receives made again, and
// every rank resumes from the same generation.
void restart() {
  if (!g_loaded.present)
    return;
  RuntimeHeap heap;
  int provided = 0;
  PMPI_Init_thread(nullptr, nullptr, g.thread_level, &provided);
  int size = 0;
  PMPI_Comm_size(MPI_COMM_WORLD, &size);
  if (size != g_loaded.size)
    fatal("the checkpoint was taken by a job of %d ranks; this job has %d", g_loaded.size, size);
  setup();
  // The program's groups, made again in the order they were made, as far as a communicator
  // made from one needs them (a group is made from an earlier communicator or group, M16).
  auto make_groups = [&](size_t upto) {
    while (g.groups.size() < std::min(upto, g_loaded.groups.size())) {
      Group gr = g_loaded.groups[g.groups.size()];
      if (gr.kind == GroupKind::OfComm) {
        if (size_t(gr.from) >= g.comms.size())
          fatal("the MPI section of the checkpoint is damaged (a group of communicator %d)",
                int(gr.from));
        PMPI_Comm_group(g.comms[gr.from].real, &gr.real);
      } else {
        (gr.kind == GroupKind::Incl ? PMPI_Group_incl : PMPI_Group_excl)(
            g.groups[gr.from].real, int(gr.ranks.size()), gr.ranks.data(), &gr.real);
      }
      g.groups.push_back(std::move(gr));
    }
  };
  // The program's error handlers first: communicators get theirs as each is made (M18).
  for (Errh &e : g_loaded.errhs) {
    PMPI_Comm_create_errhandler(reinterpret_cast<MPI_Comm_errhandler_function *>(e.fn), &e.real);
    g.errhs.push_back(e);
  }
  // Info objects (M19): the ones not freed, with their pairs in the order they were set.
  for (Info &in : g_loaded.infos) {
    if (!in.freed) {
      PMPI_Info_create(&in.real);
      for (const auto &[key, value] : in.pairs)
        PMPI_Info_set(in.real, key.c_str(), value.c_str());
    }
    g.infos.push_back(std::move(in));
  }
  // The program's communicators, datatypes and operations, made again in the order they were
  // made (each made from earlier ones), then freed where the program had freed them (M10).
  for (size_t k = 0; k < g_loaded.comms.size(); ++k) {
    Comm &l = g_loaded.comms[k];
    if (k >= g.comms.size()) {
      MPI_Comm parent = g.comms[l.parent].real, made = MPI_COMM_NULL;
      if (parent != MPI_COMM_NULL && l.made == Made::Dup)
        PMPI_Comm_dup(parent, &made);
      else if (parent != MPI_COMM_NULL && l.made == Made::Split)
        PMPI_Comm_split(parent, l.color, l.key, &made);
      else if (parent != MPI_COMM_NULL && l.made == Made::Cart)
        PMPI_Cart_create(parent, int(l.dims.size()), l.dims.data(), l.periods.data(), l.reorder,
                         &made);
      else if (parent != MPI_COMM_NULL && l.made == Made::CartSub)
        PMPI_Cart_sub(parent, l.dims.data(), &made);
      else if (parent != MPI_COMM_NULL && l.made == Made::Create) {
        make_groups(size_t(l.color) + 1);
        if (size_t(l.color) >= g.groups.size())
          fatal("the MPI section of the checkpoint is damaged (communicator %zu's group)", k);
        PMPI_Comm_create(parent, g.groups[l.color].real, &made);
      }
      add_comm(l.handle, made, l);
    }
    Comm &c = g.comms[k];
    if (c.handle != l.handle || c.size != int(l.sent.size()))
      fatal("communicator %zu of the checkpoint could not be made again as it was", k);
    c.seq = l.seq;
    c.sent = l.sent;
    c.received = l.received;
    c.errh_set = l.errh_set;
    c.errh = l.errh;
    apply_errh(c);
    c.name = l.name;
    if (!c.name.empty() && c.real != MPI_COMM_NULL)
      PMPI_Comm_set_name(c.real, c.name.c_str());
  }
  for (Type &t : g_loaded.types) {
    if (make_type(t) != MPI_SUCCESS)
      fatal("datatype %zu of the checkpoint could not be made again (kind %d)", g.types.size(),
            int(t.kind));
    if (t.committed)
      PMPI_Type_commit(&t.real);
    if (!t.name.empty())
      PMPI_Type_set_name(t.real, t.name.c_str());
    g.types.push_back(t);
  }
  for (Op &o : g_loaded.ops) {
    PMPI_Op_create(reinterpret_cast<MPI_User_function *>(o.fn), o.commute, &o.real);
    g.ops.push_back(o);
  }
  make_groups(g_loaded.groups.size());
  if (g.attached)
    PMPI_Buffer_attach(reinterpret_cast<void *>(g.attached), g.attached_size);
  for (Group &gr : g.groups)
    if (gr.freed)
      PMPI_Group_free(&gr.real);
  for (Comm &c : g.comms)
    if (c.freed && c.real != MPI_COMM_NULL)
      PMPI_Comm_free(&c.real);
  for (Type &t : g.types)
    if (t.freed)
      PMPI_Type_free(&t.real);
  for (Op &o : g.ops)
    if (o.freed)
      PMPI_Op_free(&o.real);
  for (Errh &e : g.errhs)
    if (e.refs <= 0)
      PMPI_Errhandler_free(&e.real);
  uint64_t lo = 0, hi = 0;
  PMPI_Allreduce(&g.generation, &hi, 1, MPI_UINT64_T, MPI_MAX, g.cut);
  PMPI_Allreduce(&g.generation, &lo, 1, MPI_UINT64_T, MPI_MIN, g.cut);
  if (lo != hi)
    fatal("the ranks of this job resume from different checkpoints (generations %llu to %llu): "
          "one rank's newest generation is damaged or missing. Remove the newer generations so "
          "that all ranks use the same, or remove the checkpoint directory to start over.",
          (unsigned long long)lo, (unsigned long long)hi);
  size_t taken = 0;
  for (Request &q : g.reqs) {
    q.real = MPI_REQUEST_NULL;
    taken += q.state == ReqState::Pending && q.recv;
  }
  g.repost_due = true;
  log(2, "MPI made again: %d ranks, %zu receives to post again, %zu drained messages", g.size,
      taken, g.drained.size());
}

const layers::Job kJob = {job_rank, job_size, job_max, job_all};

constexpr layers::Layer kLayer = {
    "mpi",   request, arrive, stop, resume, unsigned(image::SectionKind::Mpi),
    save,    load,    restart, nullptr, idle, &kJob,
};
AUTOCKPT_LAYER(kLayer);

// A record of a Sendrecv that stopped after its send was posted: made again, it only receives.
constexpr autockpt_u64 kSendrecvFid = 0x6d70692d73727276ull;  // "mpi-srrv"

}  // namespace

}  // namespace autockpt::mpi

using namespace autockpt;
using namespace autockpt::mpi;

namespace {

// MPI_Isend and MPI_Issend: `post` is the PMPI call; the request is virtual and the message
// counted as sent to `dest` (drain, M3).
template <class Post>
int post_send(const char *what, Post post, const void *buf, int count, MPI_Datatype type,
              int dest, int tag, MPI_Comm comm, MPI_Request *request) {
  RuntimeHeap heap;
  enter();
  int c = comm_index(comm);
  if (c < 0)
    unknown_comm(what);
  now_and_then();
  int k = new_request();
  Request &q = g.reqs[k];
  int rc = post(buf, count, rt(type), dest, tag, g.comms[c].real, &q.real);
  if (rc != MPI_SUCCESS)
    return rc;
  count_sent(c, dest);
  q.state = ReqState::Pending;
  q.comm = c;
  *request = handle<MPI_Request>(kRequestBase + k);
  return rc;
}

}  // namespace

extern "C" {

int __autockpt_MPI_Init(int *argc, char ***argv) {
  RuntimeHeap heap;
  enter();
  int rc = PMPI_Init(argc, argv);
  if (rc == MPI_SUCCESS)
    setup();
  return rc;
}

int __autockpt_MPI_Init_thread(int *argc, char ***argv, int required, int *provided) {
  RuntimeHeap heap;
  enter();
  int rc = PMPI_Init_thread(argc, argv, required, provided);
  if (rc == MPI_SUCCESS) {
    g.thread_level = required;
    setup();
  }
  return rc;
}

// Every rank meets in a barrier of the layer's before the library finalises: no rank leaves
// while another may still need it for a checkpoint.  A checkpoint may stop it in the barrier.
int __autockpt_MPI_Finalize(void) {
  RuntimeHeap heap;
  enter();
  unsigned spins = 0;
  for (;;) {
    service();
    if (g.phase == Phase::Stopping) {
      if (stop_here())
        return MPI_SUCCESS;
    } else if (g.phase == Phase::Idle) {
      if (!g.fin_started) {
        if (g.rank == 0)
          g.finalizing = true;  // no checkpoint starts any more
        PMPI_Ibarrier(g.fin, &g.fin_req);
        g.fin_started = true;
      }
      int done = 0;
      PMPI_Test(&g.fin_req, &done, MPI_STATUS_IGNORE);
      if (done)
        break;
    }
    backoff(&spins);
  }
  g.finalized = true;
  poke_stop();
  return PMPI_Finalize();
}

int __autockpt_MPI_Isend(const void *buf, int count, MPI_Datatype type, int dest, int tag,
                         MPI_Comm comm, MPI_Request *request) {
  return post_send("MPI_Isend", PMPI_Isend, buf, count, type, dest, tag, comm, request);
}

int __autockpt_MPI_Issend(const void *buf, int count, MPI_Datatype type, int dest, int tag,
                          MPI_Comm comm, MPI_Request *request) {
  return post_send("MPI_Issend", PMPI_Issend, buf, count, type, dest, tag, comm, request);
}

int __autockpt_MPI_Irecv(void *buf, int count, MPI_Datatype type, int source, int tag,
                         MPI_Comm comm, MPI_Request *request) {
  RuntimeHeap heap;
  enter();
  int c = comm_index(comm);
  if (c < 0)
    unknown_comm("MPI_Irecv");
  now_and_then();
  int k = new_request();
  Request &q = g.reqs[k];
  q.recv = true;
  q.posted = ++g.posts;
  q.comm = c;
  q.buf = reinterpret_cast<uintptr_t>(buf);
  q.count = count;
  q.type = bits(type);
  q.peer = source;
  q.tag = tag;
  *request = handle<MPI_Request>(kRequestBase + k);
  if (!g.drained.empty())
    if (long d = find_drained(c, source, tag); d >= 0) {
      int rc = deliver(d, buf, count, type, &q.status);
      q.state = ReqState::Done;
      return rc;
    }
  int rc = PMPI_Irecv(buf, count, rt(type), source, tag, g.comms[c].real, &q.real);
  q.state = rc == MPI_SUCCESS ? ReqState::Pending : ReqState::Free;
  return rc;
}

// A blocking send completes, whatever the protocol does meanwhile: the receiver takes the
// message, or drains it at the cut (M5).
static int blocking_send(const char *name,
                         int (*isend)(const void *, int, MPI_Datatype, int, int, MPI_Comm,
                                      MPI_Request *),
                         const void *buf, int count, MPI_Datatype type, int dest, int tag,
                         MPI_Comm comm) {
  RuntimeHeap heap;
  enter();
  int c = comm_index(comm);
  if (c < 0)
    unknown_comm(name);
  int k = new_request();
  Request &q = g.reqs[k];
  int rc = isend(buf, count, rt(type), dest, tag, g.comms[c].real, &q.real);
  if (rc != MPI_SUCCESS) {
    q = kEmptyRequest;
    return rc;
  }
  count_sent(c, dest);
  q.state = ReqState::Pending;
  q.comm = c;
  q.internal = true;
  int done = 0;
  PMPI_Test(&g.reqs[k].real, &done, MPI_STATUS_IGNORE);
  if (done)
    g.reqs[k].state = ReqState::Done;
  else
    finish_request(k);
  g.reqs[k] = kEmptyRequest;
  return MPI_SUCCESS;
}

static int rsend_as_send(const void *buf, int count, MPI_Datatype type, int dest, int tag,
                         MPI_Comm comm, MPI_Request *r) {
  return PMPI_Isend(buf, count, rt(type), dest, tag, comm, r);
}

int __autockpt_MPI_Send(const void *buf, int count, MPI_Datatype type, int dest, int tag,
                        MPI_Comm comm) {
  return blocking_send("MPI_Send", PMPI_Isend, buf, count, type, dest, tag, comm);
}
int __autockpt_MPI_Ssend(const void *buf, int count, MPI_Datatype type, int dest, int tag,
                         MPI_Comm comm) {
  return blocking_send("MPI_Ssend", PMPI_Issend, buf, count, type, dest, tag, comm);
}
int __autockpt_MPI_Rsend(const void *buf, int count, MPI_Datatype type, int dest, int tag,
                         MPI_Comm comm) {
  return blocking_send("MPI_Rsend", rsend_as_send, buf, count, type, dest, tag, comm);
}

// Buffered mode (M17): counted like any send; the attached buffer is the program's memory, so it
// is in the image, and a restart attaches it again (the library's bookkeeping in it starts over).
int __autockpt_MPI_Bsend(const void *buf, int count, MPI_Datatype type, int dest, int tag,
                         MPI_Comm comm) {
  return blocking_send("MPI_Bsend", PMPI_Ibsend, buf, count, type, dest, tag, comm);
}
int __autockpt_MPI_Ibsend(const void *buf, int count, MPI_Datatype type, int dest, int tag,
                          MPI_Comm comm, MPI_Request *request) {
  return post_send("MPI_Ibsend", PMPI_Ibsend, buf, count, type, dest, tag, comm, request);
}
int __autockpt_MPI_Buffer_attach(void *buf, int size) {
  RuntimeHeap heap;
  enter();
  int rc = PMPI_Buffer_attach(buf, size);
  if (rc == MPI_SUCCESS) {
    g.attached = reinterpret_cast<uintptr_t>(buf);
    g.attached_size = size;
  }
  return rc;
}
// Blocks until the buffered messages have left (the library's own wait, not a safe point: they
// need no other rank to take part).
int __autockpt_MPI_Buffer_detach(void *buf, int *size) {
  RuntimeHeap heap;
  enter();
  int rc = PMPI_Buffer_detach(buf, size);
  if (rc == MPI_SUCCESS) {
    g.attached = 0;
    g.attached_size = 0;
  }
  return rc;
}

int __autockpt_MPI_Recv(void *buf, int count, MPI_Datatype type, int source, int tag,
                        MPI_Comm comm, MPI_Status *status) {
  RuntimeHeap heap;
  enter();
  int c = comm_index(comm);
  if (c < 0)
    unknown_comm("MPI_Recv");
  if (source == MPI_PROC_NULL)
    return PMPI_Recv(buf, count, rt(type), source, tag, g.comms[c].real, status);
  int rc = MPI_SUCCESS;
  receive(buf, count, type, source, tag, c, status, &rc);
  return rc;
}

// Drops the copy kept for request k's send, if any (Sendrecv_replace).
static void forget_copy(long k) {
  for (size_t i = 0; i < g.copies.size(); ++i)
    if (g.copies[i].first == k) {
      g.copies.erase(g.copies.begin() + long(i));
      return;
    }
}

// MPI_Sendrecv, and MPI_Sendrecv_replace with `replace`: what it sends is copied first (the
// bytes the datatype spans), and the copy is sent while the message received lands in the buffer.
static int sendrecv(const char *name, const void *sbuf, int scount, MPI_Datatype stype, int dest,
                    int stag, void *rbuf, int rcount, MPI_Datatype rtype, int source, int rtag,
                    MPI_Comm comm, MPI_Status *status, bool replace) {
  RuntimeHeap heap;
  enter();
  int c = comm_index(comm);
  if (c < 0)
    unknown_comm(name);
  long k = -1;
  if (state::mode() == AUTOCKPT_MODE_RESTORING) {  // made again: its send was made before
    auto *rec = static_cast<char *>(__autockpt_pop_frame(kSendrecvFid, 0));
    int64_t sent;
    memcpy(&sent, rec + sizeof(autockpt_frame_head), sizeof sent);
    if (sent >= 0 && size_t(sent) < g.reqs.size()) {
      g.reqs[sent] = kEmptyRequest;  // completed at the cut
      forget_copy(sent);
    }
    enter();
  } else if (dest != MPI_PROC_NULL) {
    k = new_request();
    Request &q = g.reqs[k];
    if (replace) {
      MPI_Aint lb = 0, extent = 0, true_lb = 0, true_extent = 0;
      PMPI_Type_get_extent(rt(stype), &lb, &extent);
      PMPI_Type_get_true_extent(rt(stype), &true_lb, &true_extent);
      size_t span = scount > 0 ? size_t((scount - 1) * extent + true_extent) : 0;
      const char *from = static_cast<const char *>(sbuf) + true_lb;
      g.copies.emplace_back(k, std::vector<char>(from, from + span));
      sbuf = g.copies.back().second.data() - true_lb;
    }
    int rc = PMPI_Isend(sbuf, scount, rt(stype), dest, stag, g.comms[c].real, &q.real);
    if (rc != MPI_SUCCESS) {
      q = kEmptyRequest;
      forget_copy(k);
      return rc;
    }
    count_sent(c, dest);
    q.state = ReqState::Pending;
    q.comm = c;
    q.internal = true;
  }
  int rc = MPI_SUCCESS;
  if (source == MPI_PROC_NULL) {
    empty_status(status);
  } else if (!receive(rbuf, rcount, rtype, source, rtag, c, status, &rc)) {
    int64_t sent = k;
    memcpy(static_cast<char *>(__autockpt_push_frame(kSendrecvFid, 1, 0, sizeof sent)), &sent,
           sizeof sent);
    return MPI_SUCCESS;  // stopped: unwinding
  }
  if (k >= 0) {
    finish_request(k);
    g.reqs[k] = kEmptyRequest;
    forget_copy(k);
  }
  return rc;
}

int __autockpt_MPI_Sendrecv(const void *sbuf, int scount, MPI_Datatype stype, int dest,
                            int stag, void *rbuf, int rcount, MPI_Datatype rtype, int source,
                            int rtag, MPI_Comm comm, MPI_Status *status) {
  return sendrecv("MPI_Sendrecv", sbuf, scount, stype, dest, stag, rbuf, rcount, rtype, source,
                  rtag, comm, status, false);
}

// Stopped while receiving, it has sent: the buffer still holds what it sent (nothing was received
// into it), and made again after the checkpoint it only receives, like MPI_Sendrecv.
int __autockpt_MPI_Sendrecv_replace(void *buf, int count, MPI_Datatype type, int dest, int stag,
                                    int source, int rtag, MPI_Comm comm, MPI_Status *status) {
  return sendrecv("MPI_Sendrecv_replace", buf, count, type, dest, stag, buf, count, type, source,
                  rtag, comm, status, true);
}

int __autockpt_MPI_Probe(int source, int tag, MPI_Comm comm, MPI_Status *status) {
  RuntimeHeap heap;
  enter();
  int c = comm_index(comm);
  if (c < 0)
    unknown_comm("MPI_Probe");
  unsigned spins = 0;
  for (;;) {
    if (long k = find_drained(c, source, tag); k >= 0) {
      if (status != MPI_STATUS_IGNORE)
        drained_status(g.drained[k], status);
      return MPI_SUCCESS;
    }
    int flag = 0;
    int rc = PMPI_Iprobe(source, tag, g.comms[c].real, &flag, status);
    if (flag || rc != MPI_SUCCESS)
      return rc;
    service();
    if (stop_here())
      return MPI_SUCCESS;
    backoff(&spins);
  }
}

int __autockpt_MPI_Iprobe(int source, int tag, MPI_Comm comm, int *flag, MPI_Status *status) {
  RuntimeHeap heap;
  enter();
  int c = comm_index(comm);
  if (c < 0)
    unknown_comm("MPI_Iprobe");
  now_and_then();
  if (long k = find_drained(c, source, tag); k >= 0) {
    *flag = 1;
    if (status != MPI_STATUS_IGNORE)
      drained_status(g.drained[k], status);
    return MPI_SUCCESS;
  }
  return PMPI_Iprobe(source, tag, g.comms[c].real, flag, status);
}

int __autockpt_MPI_Wait(MPI_Request *request, MPI_Status *status) {
  RuntimeHeap heap;
  enter();
  if (*request == MPI_REQUEST_NULL) {
    empty_status(status);
    return MPI_SUCCESS;
  }
  long k = request_index(*request);
  if (k < 0)
    return PMPI_Wait(request, status);
  unsigned spins = 0;
  for (bool first = true; !test_request(k); first = false) {
    waiting(first, spins);
    if (stop_here())
      return MPI_SUCCESS;
    backoff(&spins);
  }
  release(request, status);
  return MPI_SUCCESS;
}

int __autockpt_MPI_Test(MPI_Request *request, int *flag, MPI_Status *status) {
  RuntimeHeap heap;
  enter();
  now_and_then();
  if (*request == MPI_REQUEST_NULL) {
    *flag = 1;
    empty_status(status);
    return MPI_SUCCESS;
  }
  long k = request_index(*request);
  if (k < 0)
    return PMPI_Test(request, flag, status);
  *flag = test_request(k);
  if (*flag)
    release(request, status);
  return MPI_SUCCESS;
}

int __autockpt_MPI_Waitall(int count, MPI_Request *requests, MPI_Status *statuses) {
  RuntimeHeap heap;
  enter();
  unsigned spins = 0;
  for (bool first = true;; first = false) {
    if (test_requests(count, requests, "MPI_Waitall", !first))
      break;
    waiting(first, spins);
    if (stop_here())
      return MPI_SUCCESS;
    backoff(&spins);
  }
  for (int i = 0; i < count; ++i) {
    MPI_Status *st = statuses == MPI_STATUSES_IGNORE ? MPI_STATUS_IGNORE : &statuses[i];
    if (requests[i] == MPI_REQUEST_NULL)
      empty_status(st);
    else
      release(&requests[i], st);
  }
  return MPI_SUCCESS;
}

int __autockpt_MPI_Testall(int count, MPI_Request *requests, int *flag, MPI_Status *statuses) {
  RuntimeHeap heap;
  enter();
  now_and_then();
  bool all = test_requests(count, requests, "MPI_Testall");
  *flag = all;
  if (all)
    for (int i = 0; i < count; ++i) {
      MPI_Status *st = statuses == MPI_STATUSES_IGNORE ? MPI_STATUS_IGNORE : &statuses[i];
      if (requests[i] == MPI_REQUEST_NULL)
        empty_status(st);
      else
        release(&requests[i], st);
    }
  return MPI_SUCCESS;
}

// Index of the first completed request, MPI_UNDEFINED if all are null or inactive; -2 if none
// completed.
static int any_done(int count, MPI_Request *requests, const char *name) {
  bool some = false;
  for (int i = 0; i < count; ++i)
    if (active(requests[i])) {
      long k = request_index(requests[i]);
      if (k < 0)
        unsupported(name, "a request autockpt did not make");
      some = true;
      if (test_request(k))
        return i;
    }
  return some ? -2 : MPI_UNDEFINED;
}

int __autockpt_MPI_Waitany(int count, MPI_Request *requests, int *index, MPI_Status *status) {
  RuntimeHeap heap;
  enter();
  unsigned spins = 0;
  for (bool first = true;; first = false) {
    int i = any_done(count, requests, "MPI_Waitany");
    if (i != -2) {
      *index = i;
      if (i == MPI_UNDEFINED)
        empty_status(status);
      else
        release(&requests[i], status);
      return MPI_SUCCESS;
    }
    waiting(first, spins);
    if (stop_here())
      return MPI_SUCCESS;
    backoff(&spins);
  }
}

int __autockpt_MPI_Testany(int count, MPI_Request *requests, int *index, int *flag,
                           MPI_Status *status) {
  RuntimeHeap heap;
  enter();
  now_and_then();
  int i = any_done(count, requests, "MPI_Testany");
  *flag = i != -2;
  *index = i == -2 ? MPI_UNDEFINED : i;
  if (i >= 0)
    release(&requests[i], status);
  else if (i == MPI_UNDEFINED)
    empty_status(status);
  return MPI_SUCCESS;
}

int __autockpt_MPI_Waitsome(int incount, MPI_Request *requests, int *outcount, int *indices,
                            MPI_Status *statuses) {
  RuntimeHeap heap;
  enter();
  unsigned spins = 0;
  for (bool first = true;; first = false) {
    int i = any_done(incount, requests, "MPI_Waitsome");
    if (i == MPI_UNDEFINED) {
      *outcount = MPI_UNDEFINED;
      return MPI_SUCCESS;
    }
    if (i >= 0) {
      int n = 0;
      for (int j = 0; j < incount; ++j)
        if (active(requests[j]) && test_request(request_index(requests[j]))) {
          indices[n] = j;
          release(&requests[j], statuses == MPI_STATUSES_IGNORE ? MPI_STATUS_IGNORE
                                                                 : &statuses[n]);
          ++n;
        }
      *outcount = n;
      return MPI_SUCCESS;
    }
    waiting(first, spins);
    if (stop_here())
      return MPI_SUCCESS;
    backoff(&spins);
  }
}

int __autockpt_MPI_Testsome(int incount, MPI_Request *requests, int *outcount, int *indices,
                            MPI_Status *statuses) {
  RuntimeHeap heap;
  enter();
  now_and_then();
  if (any_done(incount, requests, "MPI_Testsome") == MPI_UNDEFINED) {
    *outcount = MPI_UNDEFINED;
    return MPI_SUCCESS;
  }
  int n = 0;
  for (int j = 0; j < incount; ++j)
    if (active(requests[j]) && test_request(request_index(requests[j]))) {
      indices[n] = j;
      release(&requests[j], statuses == MPI_STATUSES_IGNORE ? MPI_STATUS_IGNORE : &statuses[n]);
      ++n;
    }
  *outcount = n;
  return MPI_SUCCESS;
}

int __autockpt_MPI_Request_free(MPI_Request *request) {
  RuntimeHeap heap;
  enter();
  long k = request_index(*request);
  if (k < 0)
    return PMPI_Request_free(request);
  Request &q = g.reqs[k];
  if (q.state == ReqState::Pending && q.recv)
    unsupported("MPI_Request_free", "freeing a pending receive");
  if (q.state == ReqState::Pending) {
    q.internal = true;  // completes at the latest at the next cut; then it is let go
    q.persistent = false;
  } else {
    q = kEmptyRequest;
  }
  *request = MPI_REQUEST_NULL;
  return MPI_SUCCESS;
}

// ---- Persistent requests (M14): a record of the arguments; MPI_Start makes the nonblocking call.

static int persistent(const char *name, bool recv, SendMode mode, const void *buf, int count,
                      MPI_Datatype type, int peer, int tag, MPI_Comm comm, MPI_Request *request) {
  RuntimeHeap heap;
  enter();
  int c = comm_index(comm);
  if (c < 0)
    unknown_comm(name);
  int k = new_request();
  Request &q = g.reqs[k];
  q.state = ReqState::Inactive;
  q.persistent = true;
  q.recv = recv;
  q.mode = mode;
  q.comm = c;
  q.buf = reinterpret_cast<uintptr_t>(buf);
  q.count = count;
  q.type = bits(type);
  q.peer = peer;
  q.tag = tag;
  *request = handle<MPI_Request>(kRequestBase + k);
  return MPI_SUCCESS;
}

int __autockpt_MPI_Send_init(const void *buf, int count, MPI_Datatype type, int dest, int tag,
                             MPI_Comm comm, MPI_Request *request) {
  return persistent("MPI_Send_init", false, SendMode::Standard, buf, count, type, dest, tag,
                    comm, request);
}
int __autockpt_MPI_Rsend_init(const void *buf, int count, MPI_Datatype type, int dest, int tag,
                              MPI_Comm comm, MPI_Request *request) {
  return persistent("MPI_Rsend_init", false, SendMode::Standard, buf, count, type, dest, tag,
                    comm, request);
}
int __autockpt_MPI_Ssend_init(const void *buf, int count, MPI_Datatype type, int dest, int tag,
                              MPI_Comm comm, MPI_Request *request) {
  return persistent("MPI_Ssend_init", false, SendMode::Synchronous, buf, count, type, dest, tag,
                    comm, request);
}
int __autockpt_MPI_Bsend_init(const void *buf, int count, MPI_Datatype type, int dest, int tag,
                              MPI_Comm comm, MPI_Request *request) {
  return persistent("MPI_Bsend_init", false, SendMode::Buffered, buf, count, type, dest, tag,
                    comm, request);
}
int __autockpt_MPI_Recv_init(void *buf, int count, MPI_Datatype type, int source, int tag,
                             MPI_Comm comm, MPI_Request *request) {
  return persistent("MPI_Recv_init", true, SendMode::Standard, buf, count, type, source, tag,
                    comm, request);
}

// Starts persistent request *request as the nonblocking call it stands for: a receive is served
// from the drained messages first (as MPI_Irecv is) and numbered among the receives posted (M4).
static int start(MPI_Request *request) {
  long k = request_index(*request);
  if (k < 0)
    return PMPI_Start(request);
  Request &q = g.reqs[k];
  if (!q.persistent || q.state != ReqState::Inactive)
    return MPI_ERR_REQUEST;  // not persistent, or still active: erroneous
  q.cancel_asked = false;
  MPI_Datatype type = handle<MPI_Datatype>(q.type);
  void *buf = reinterpret_cast<void *>(q.buf);
  MPI_Comm comm = g.comms[q.comm].real;
  int rc;
  if (q.recv) {
    q.posted = ++g.posts;
    if (!g.drained.empty())
      if (long d = find_drained(q.comm, q.peer, q.tag); d >= 0) {
        rc = deliver(d, buf, q.count, type, &q.status);
        q.state = ReqState::Done;
        return rc;
      }
    rc = PMPI_Irecv(buf, q.count, rt(type), q.peer, q.tag, comm, &q.real);
  } else {
    rc = (q.mode == SendMode::Synchronous ? PMPI_Issend
          : q.mode == SendMode::Buffered  ? PMPI_Ibsend
                                          : PMPI_Isend)(buf, q.count, rt(type), q.peer, q.tag,
                                                        comm, &q.real);
    if (rc == MPI_SUCCESS)
      count_sent(q.comm, q.peer);
  }
  if (rc == MPI_SUCCESS)
    q.state = ReqState::Pending;
  return rc;
}

int __autockpt_MPI_Start(MPI_Request *request) {
  RuntimeHeap heap;
  enter();
  now_and_then();
  return start(request);
}

int __autockpt_MPI_Startall(int count, MPI_Request *requests) {
  RuntimeHeap heap;
  enter();
  now_and_then();
  for (int i = 0; i < count; ++i)
    if (int rc = start(&requests[i]); rc != MPI_SUCCESS)
      return rc;
  return MPI_SUCCESS;
}

int __autockpt_MPI_Cancel(MPI_Request *request) {
  RuntimeHeap heap;
  enter();
  long k = request_index(*request);
  if (k < 0)
    return PMPI_Cancel(request);
  Request &q = g.reqs[k];
  if (q.state != ReqState::Pending)
    return MPI_SUCCESS;
  q.cancel_asked = true;
  return PMPI_Cancel(&q.real);
}

int __autockpt_MPI_Barrier(MPI_Comm comm) {
  return collective(comm, "MPI_Barrier",
                    [&](MPI_Comm c, MPI_Request *r) { return PMPI_Ibarrier(c, r); });
}
int __autockpt_MPI_Bcast(void *buf, int count, MPI_Datatype type, int root, MPI_Comm comm) {
  return collective(comm, "MPI_Bcast", [&](MPI_Comm c, MPI_Request *r) {
    return PMPI_Ibcast(buf, count, rt(type), root, c, r);
  });
}
int __autockpt_MPI_Reduce(const void *sbuf, void *rbuf, int count, MPI_Datatype type, MPI_Op op,
                          int root, MPI_Comm comm) {
  return collective(comm, "MPI_Reduce", [&](MPI_Comm c, MPI_Request *r) {
    return PMPI_Ireduce(sbuf, rbuf, count, rt(type), rop(op), root, c, r);
  });
}
int __autockpt_MPI_Allreduce(const void *sbuf, void *rbuf, int count, MPI_Datatype type,
                             MPI_Op op, MPI_Comm comm) {
  return collective(comm, "MPI_Allreduce", [&](MPI_Comm c, MPI_Request *r) {
    return PMPI_Iallreduce(sbuf, rbuf, count, rt(type), rop(op), c, r);
  });
}
int __autockpt_MPI_Gather(const void *sbuf, int scount, MPI_Datatype stype, void *rbuf,
                          int rcount, MPI_Datatype rtype, int root, MPI_Comm comm) {
  return collective(comm, "MPI_Gather", [&](MPI_Comm c, MPI_Request *r) {
    return PMPI_Igather(sbuf, scount, rt(stype), rbuf, rcount, rt(rtype), root, c, r);
  });
}
int __autockpt_MPI_Gatherv(const void *sbuf, int scount, MPI_Datatype stype, void *rbuf,
                           const int *rcounts, const int *displs, MPI_Datatype rtype, int root,
                           MPI_Comm comm) {
  return collective(comm, "MPI_Gatherv", [&](MPI_Comm c, MPI_Request *r) {
    return PMPI_Igatherv(sbuf, scount, rt(stype), rbuf, rcounts, displs, rt(rtype), root, c, r);
  });
}
int __autockpt_MPI_Scatter(const void *sbuf, int scount, MPI_Datatype stype, void *rbuf,
                           int rcount, MPI_Datatype rtype, int root, MPI_Comm comm) {
  return collective(comm, "MPI_Scatter", [&](MPI_Comm c, MPI_Request *r) {
    return PMPI_Iscatter(sbuf, scount, rt(stype), rbuf, rcount, rt(rtype), root, c, r);
  });
}
int __autockpt_MPI_Scatterv(const void *sbuf, const int *scounts, const int *displs,
                            MPI_Datatype stype, void *rbuf, int rcount, MPI_Datatype rtype,
                            int root, MPI_Comm comm) {
  return collective(comm, "MPI_Scatterv", [&](MPI_Comm c, MPI_Request *r) {
    return PMPI_Iscatterv(sbuf, scounts, displs, rt(stype), rbuf, rcount, rt(rtype), root, c, r);
  });
}
int __autockpt_MPI_Allgather(const void *sbuf, int scount, MPI_Datatype stype, void *rbuf,
                             int rcount, MPI_Datatype rtype, MPI_Comm comm) {
  return collective(comm, "MPI_Allgather", [&](MPI_Comm c, MPI_Request *r) {
    return PMPI_Iallgather(sbuf, scount, rt(stype), rbuf, rcount, rt(rtype), c, r);
  });
}
int __autockpt_MPI_Allgatherv(const void *sbuf, int scount, MPI_Datatype stype, void *rbuf,
                              const int *rcounts, const int *displs, MPI_Datatype rtype,
                              MPI_Comm comm) {
  return collective(comm, "MPI_Allgatherv", [&](MPI_Comm c, MPI_Request *r) {
    return PMPI_Iallgatherv(sbuf, scount, rt(stype), rbuf, rcounts, displs, rt(rtype), c, r);
  });
}
int __autockpt_MPI_Alltoall(const void *sbuf, int scount, MPI_Datatype stype, void *rbuf,
                            int rcount, MPI_Datatype rtype, MPI_Comm comm) {
  return collective(comm, "MPI_Alltoall", [&](MPI_Comm c, MPI_Request *r) {
    return PMPI_Ialltoall(sbuf, scount, rt(stype), rbuf, rcount, rt(rtype), c, r);
  });
}
int __autockpt_MPI_Alltoallv(const void *sbuf, const int *scounts, const int *sdispls,
                             MPI_Datatype stype, void *rbuf, const int *rcounts,
                             const int *rdispls, MPI_Datatype rtype, MPI_Comm comm) {
  return collective(comm, "MPI_Alltoallv", [&](MPI_Comm c, MPI_Request *r) {
    return PMPI_Ialltoallv(sbuf, scounts, sdispls, rt(stype), rbuf, rcounts, rdispls, rt(rtype), c, r);
  });
}
int __autockpt_MPI_Scan(const void *sbuf, void *rbuf, int count, MPI_Datatype type, MPI_Op op,
                        MPI_Comm comm) {
  return collective(comm, "MPI_Scan", [&](MPI_Comm c, MPI_Request *r) {
    return PMPI_Iscan(sbuf, rbuf, count, rt(type), rop(op), c, r);
  });
}
int __autockpt_MPI_Exscan(const void *sbuf, void *rbuf, int count, MPI_Datatype type, MPI_Op op,
                          MPI_Comm comm) {
  return collective(comm, "MPI_Exscan", [&](MPI_Comm c, MPI_Request *r) {
    return PMPI_Iexscan(sbuf, rbuf, count, rt(type), rop(op), c, r);
  });
}
int __autockpt_MPI_Reduce_scatter(const void *sbuf, void *rbuf, const int *rcounts,
                                  MPI_Datatype type, MPI_Op op, MPI_Comm comm) {
  return collective(comm, "MPI_Reduce_scatter", [&](MPI_Comm c, MPI_Request *r) {
    return PMPI_Ireduce_scatter(sbuf, rbuf, rcounts, rt(type), rop(op), c, r);
  });
}
int __autockpt_MPI_Reduce_scatter_block(const void *sbuf, void *rbuf, int count,
                                        MPI_Datatype type, MPI_Op op, MPI_Comm comm) {
  return collective(comm, "MPI_Reduce_scatter_block", [&](MPI_Comm c, MPI_Request *r) {
    return PMPI_Ireduce_scatter_block(sbuf, rbuf, count, rt(type), rop(op), c, r);
  });
}

// ---- Nonblocking collectives (M15) --------------------------------------------------------------

int __autockpt_MPI_Ibarrier(MPI_Comm comm, MPI_Request *request) {
  return icollective(comm, "MPI_Ibarrier", request,
                     [&](MPI_Comm c, MPI_Request *r) { return PMPI_Ibarrier(c, r); });
}
int __autockpt_MPI_Ibcast(void *buf, int count, MPI_Datatype type, int root, MPI_Comm comm,
                          MPI_Request *request) {
  return icollective(comm, "MPI_Ibcast", request, [&](MPI_Comm c, MPI_Request *r) {
    return PMPI_Ibcast(buf, count, rt(type), root, c, r);
  });
}
int __autockpt_MPI_Iallreduce(const void *sbuf, void *rbuf, int count, MPI_Datatype type,
                              MPI_Op op, MPI_Comm comm, MPI_Request *request) {
  return icollective(comm, "MPI_Iallreduce", request, [&](MPI_Comm c, MPI_Request *r) {
    return PMPI_Iallreduce(sbuf, rbuf, count, rt(type), rop(op), c, r);
  });
}
int __autockpt_MPI_Ireduce(const void *sbuf, void *rbuf, int count, MPI_Datatype type, MPI_Op op,
                           int root, MPI_Comm comm, MPI_Request *request) {
  return icollective(comm, "MPI_Ireduce", request, [&](MPI_Comm c, MPI_Request *r) {
    return PMPI_Ireduce(sbuf, rbuf, count, rt(type), rop(op), root, c, r);
  });
}
int __autockpt_MPI_Iallgather(const void *sbuf, int scount, MPI_Datatype stype, void *rbuf,
                              int rcount, MPI_Datatype rtype, MPI_Comm comm,
                              MPI_Request *request) {
  return icollective(comm, "MPI_Iallgather", request, [&](MPI_Comm c, MPI_Request *r) {
    return PMPI_Iallgather(sbuf, scount, rt(stype), rbuf, rcount, rt(rtype), c, r);
  });
}
int __autockpt_MPI_Ialltoall(const void *sbuf, int scount, MPI_Datatype stype, void *rbuf,
                             int rcount, MPI_Datatype rtype, MPI_Comm comm, MPI_Request *request) {
  return icollective(comm, "MPI_Ialltoall", request, [&](MPI_Comm c, MPI_Request *r) {
    return PMPI_Ialltoall(sbuf, scount, rt(stype), rbuf, rcount, rt(rtype), c, r);
  });
}

// ---- Communicators, datatypes and operations of the program's own (M10) -----------------------

// A communicator is made by a collective on its parent: a barrier of the layer's, counted and
// waited in slices like any collective (M3), then the library's call, which every member then
// makes at once.  Returns false when the rank stopped at the barrier's entry instead.
static bool creation_barrier(MPI_Comm parent, const char *name) {
  collective(parent, name, [&](MPI_Comm c, MPI_Request *r) { return PMPI_Ibarrier(c, r); });
  return state::mode() != AUTOCKPT_MODE_UNWINDING;
}

// A new communicator of the program's, made from communicator `parent` (recorded in c): its
// entry in the table, and the handle the program gets (MPI_COMM_NULL if it is not a member).  It
// has its parent's error handler, as the library's has (M18).
static MPI_Comm add_made(MPI_Comm real, Comm c) {
  c.errh_set = g.comms[c.parent].errh_set;
  c.errh = g.comms[c.parent].errh;
  MPI_Comm handle = autockpt::mpi::handle<MPI_Comm>(kCommBase + g.comms.size());
  add_comm(handle, real, std::move(c));
  return real == MPI_COMM_NULL ? MPI_COMM_NULL : handle;
}

static MPI_Comm new_comm(MPI_Comm real, Made made, int parent, int color, int key) {
  Comm c;
  c.made = made;
  c.parent = parent;
  c.color = color;
  c.key = key;
  return add_made(real, std::move(c));
}

// What a constructor of communicators shares: the parent's entry, the creation barrier, then the
// library's call `make(parent's real communicator, &new real one)`.  `made` is false when the
// call failed (rc) or the rank stopped at the barrier for a checkpoint (rc is MPI_SUCCESS then).
struct Creation {
  int rc = MPI_SUCCESS;
  int parent = -1;
  MPI_Comm real = MPI_COMM_NULL;
  bool made = false;
};

extern "C++" {  // a template, in the wrappers' extern "C"
template <class Make>
static Creation create_comm(MPI_Comm comm, const char *call, Make make) {
  Creation n;
  n.parent = comm_index(comm);
  if (n.parent < 0)
    unknown_comm(call);
  if (!creation_barrier(comm, call))
    return n;
  n.rc = make(g.comms[n.parent].real, &n.real);
  n.made = n.rc == MPI_SUCCESS;
  return n;
}
}  // extern "C++"

int __autockpt_MPI_Comm_dup(MPI_Comm comm, MPI_Comm *out) {
  RuntimeHeap heap;
  enter();
  Creation n = create_comm(comm, "MPI_Comm_dup", [](MPI_Comm parent, MPI_Comm *real) {
    return PMPI_Comm_dup(parent, real);
  });
  if (n.made)
    *out = new_comm(n.real, Made::Dup, n.parent, 0, 0);
  return n.rc;
}

int __autockpt_MPI_Comm_split(MPI_Comm comm, int color, int key, MPI_Comm *out) {
  RuntimeHeap heap;
  enter();
  Creation n = create_comm(comm, "MPI_Comm_split", [&](MPI_Comm parent, MPI_Comm *real) {
    return PMPI_Comm_split(parent, color, key, real);
  });
  if (n.made)
    *out = new_comm(n.real, Made::Split, n.parent, color, key);
  return n.rc;
}

int __autockpt_MPI_Cart_create(MPI_Comm comm, int ndims, const int *dims, const int *periods,
                               int reorder, MPI_Comm *out) {
  RuntimeHeap heap;
  enter();
  Creation n = create_comm(comm, "MPI_Cart_create", [&](MPI_Comm parent, MPI_Comm *real) {
    return PMPI_Cart_create(parent, ndims, dims, periods, reorder, real);
  });
  if (!n.made)
    return n.rc;
  Comm c;
  c.made = Made::Cart;
  c.parent = n.parent;
  c.dims.assign(dims, dims + ndims);
  c.periods.assign(periods, periods + ndims);
  c.reorder = reorder;
  *out = add_made(n.real, std::move(c));
  return n.rc;
}

// A sub-grid: collective on the grid like a split, replayed with its remain_dims (M18).
int __autockpt_MPI_Cart_sub(MPI_Comm comm, const int *remain_dims, MPI_Comm *out) {
  RuntimeHeap heap;
  enter();
  int ndims = 0;
  Creation n = create_comm(comm, "MPI_Cart_sub", [&](MPI_Comm parent, MPI_Comm *real) {
    int rc = PMPI_Cartdim_get(parent, &ndims);
    return rc == MPI_SUCCESS ? PMPI_Cart_sub(parent, remain_dims, real) : rc;
  });
  if (!n.made)
    return n.rc;
  Comm c;
  c.made = Made::CartSub;
  c.parent = n.parent;
  c.dims.assign(remain_dims, remain_dims + ndims);
  c.periods.assign(size_t(ndims), 0);
  *out = add_made(n.real, std::move(c));
  return n.rc;
}

// Recorded as the MPI_Comm_split that makes the same members in the same order: colour the world
// rank of its first member, key the rank in it (M18).  A restart on other nodes makes the same
// communicator, whether or not its members still share a node (windows of shared memory, what
// MPI_COMM_TYPE_SHARED is for, are refused anyway).
int __autockpt_MPI_Comm_split_type(MPI_Comm comm, int split_type, int key, MPI_Info info,
                                   MPI_Comm *out) {
  RuntimeHeap heap;
  enter();
  Creation n = create_comm(comm, "MPI_Comm_split_type", [&](MPI_Comm parent, MPI_Comm *real) {
    return PMPI_Comm_split_type(parent, split_type, key, ri(info), real);
  });
  if (!n.made)
    return n.rc;
  int color = MPI_UNDEFINED, rank = 0;
  if (n.real != MPI_COMM_NULL) {
    MPI_Group world, mine;
    PMPI_Comm_group(MPI_COMM_WORLD, &world);
    PMPI_Comm_group(n.real, &mine);
    int zero = 0;
    PMPI_Group_translate_ranks(mine, 1, &zero, world, &color);
    PMPI_Group_free(&world);
    PMPI_Group_free(&mine);
    PMPI_Comm_rank(n.real, &rank);
  }
  *out = new_comm(n.real, Made::Split, n.parent, color, rank);
  return n.rc;
}

// ---- Groups and MPI_Comm_create (M16) -------------------------------------------------------------

static void new_group(Group gr, MPI_Group *out) {
  g.groups.push_back(std::move(gr));
  *out = autockpt::mpi::handle<MPI_Group>(kGroupBase + g.groups.size() - 1);
}

static long own_group(MPI_Group v, const char *call) {
  uintptr_t k = bits(v) - kGroupBase;
  if (k >= g.groups.size())
    unsupported(call, "a group autockpt did not make (MPI_GROUP_EMPTY, or one made by a call it "
                      "does not wrap)");
  return long(k);
}

int __autockpt_MPI_Comm_group(MPI_Comm comm, MPI_Group *out) {
  RuntimeHeap heap;
  enter();
  int c = comm_index(comm);
  if (c < 0)
    unknown_comm("MPI_Comm_group");
  Group gr;
  gr.kind = GroupKind::OfComm;
  gr.from = c;
  int rc = PMPI_Comm_group(g.comms[c].real, &gr.real);
  if (rc == MPI_SUCCESS)
    new_group(std::move(gr), out);
  return rc;
}

static int some_ranks(const char *call, GroupKind kind, MPI_Group group, int n, const int *ranks,
                      MPI_Group *out) {
  RuntimeHeap heap;
  enter();
  long k = own_group(group, call);
  Group gr;
  gr.kind = kind;
  gr.from = int32_t(k);
  gr.ranks.assign(ranks, ranks + n);
  int rc = (kind == GroupKind::Incl ? PMPI_Group_incl : PMPI_Group_excl)(g.groups[k].real, n,
                                                                          ranks, &gr.real);
  if (rc == MPI_SUCCESS)
    new_group(std::move(gr), out);
  return rc;
}

int __autockpt_MPI_Group_incl(MPI_Group group, int n, const int ranks[], MPI_Group *out) {
  return some_ranks("MPI_Group_incl", GroupKind::Incl, group, n, ranks, out);
}
int __autockpt_MPI_Group_excl(MPI_Group group, int n, const int ranks[], MPI_Group *out) {
  return some_ranks("MPI_Group_excl", GroupKind::Excl, group, n, ranks, out);
}

int __autockpt_MPI_Group_free(MPI_Group *group) {
  uintptr_t k = bits(*group) - kGroupBase;
  if (k >= g.groups.size())
    return PMPI_Group_free(group);
  g.groups[k].freed = true;
  *group = MPI_GROUP_NULL;
  return PMPI_Group_free(&g.groups[k].real);
}

int __autockpt_MPI_Group_size(MPI_Group group, int *size) {
  return PMPI_Group_size(rg(group), size);
}
int __autockpt_MPI_Group_rank(MPI_Group group, int *rank) {
  return PMPI_Group_rank(rg(group), rank);
}
int __autockpt_MPI_Group_translate_ranks(MPI_Group g1, int n, const int ranks1[], MPI_Group g2,
                                         int ranks2[]) {
  return PMPI_Group_translate_ranks(rg(g1), n, ranks1, rg(g2), ranks2);
}

// Collective on comm, like a split (M10): every member calls it, members of the group get the
// new communicator, the others MPI_COMM_NULL (an entry of the table all the same).
int __autockpt_MPI_Comm_create(MPI_Comm comm, MPI_Group group, MPI_Comm *out) {
  RuntimeHeap heap;
  enter();
  long k = own_group(group, "MPI_Comm_create");
  Creation n = create_comm(comm, "MPI_Comm_create", [&](MPI_Comm parent, MPI_Comm *real) {
    return PMPI_Comm_create(parent, g.groups[k].real, real);
  });
  if (n.made)
    *out = new_comm(n.real, Made::Create, n.parent, int(k), 0);
  return n.rc;
}

int __autockpt_MPI_Comm_free(MPI_Comm *comm) {
  RuntimeHeap heap;
  enter();
  int c = comm_index(*comm);
  if (c < 2)
    return PMPI_Comm_free(comm);  // predefined, or not the layer's: the library says what is wrong
  g.comms[c].freed = true;
  int rc = PMPI_Comm_free(&g.comms[c].real);
  *comm = MPI_COMM_NULL;
  return rc;
}

static MPI_Comm real_comm(MPI_Comm comm) {
  int c = comm_index(comm);
  return c < 0 ? comm : g.comms[c].real;
}

int __autockpt_MPI_Comm_rank(MPI_Comm comm, int *rank) {
  return PMPI_Comm_rank(real_comm(comm), rank);
}
int __autockpt_MPI_Comm_size(MPI_Comm comm, int *size) {
  return PMPI_Comm_size(real_comm(comm), size);
}
int __autockpt_MPI_Abort(MPI_Comm comm, int code) { return PMPI_Abort(real_comm(comm), code); }
int __autockpt_MPI_Cart_get(MPI_Comm comm, int maxdims, int *dims, int *periods, int *coords) {
  return PMPI_Cart_get(real_comm(comm), maxdims, dims, periods, coords);
}
int __autockpt_MPI_Cart_shift(MPI_Comm comm, int direction, int disp, int *source, int *dest) {
  return PMPI_Cart_shift(real_comm(comm), direction, disp, source, dest);
}
int __autockpt_MPI_Cart_coords(MPI_Comm comm, int rank, int maxdims, int *coords) {
  return PMPI_Cart_coords(real_comm(comm), rank, maxdims, coords);
}
int __autockpt_MPI_Cart_rank(MPI_Comm comm, const int *coords, int *rank) {
  return PMPI_Cart_rank(real_comm(comm), coords, rank);
}
int __autockpt_MPI_Cartdim_get(MPI_Comm comm, int *ndims) {
  return PMPI_Cartdim_get(real_comm(comm), ndims);
}

static MPI_Datatype new_type(Type t, int rc, MPI_Datatype *out) {
  if (rc != MPI_SUCCESS)
    return *out;
  g.types.push_back(std::move(t));
  *out = autockpt::mpi::handle<MPI_Datatype>(kTypeBase + g.types.size() - 1);
  return *out;
}

int __autockpt_MPI_Type_contiguous(int count, MPI_Datatype base, MPI_Datatype *out) {
  RuntimeHeap heap;
  enter();
  Type t;
  t.kind = TypeKind::Contiguous;
  t.count = count;
  t.bases = {bits(base)};
  int rc = PMPI_Type_contiguous(count, rt(base), &t.real);
  new_type(std::move(t), rc, out);
  return rc;
}

int __autockpt_MPI_Type_vector(int count, int blocklength, int stride, MPI_Datatype base,
                               MPI_Datatype *out) {
  RuntimeHeap heap;
  enter();
  Type t;
  t.kind = TypeKind::Vector;
  t.count = count;
  t.blocklength = blocklength;
  t.stride = stride;
  t.bases = {bits(base)};
  int rc = PMPI_Type_vector(count, blocklength, stride, rt(base), &t.real);
  new_type(std::move(t), rc, out);
  return rc;
}

int __autockpt_MPI_Type_create_struct(int count, const int *blocklengths,
                                      const MPI_Aint *displacements, const MPI_Datatype *types,
                                      MPI_Datatype *out) {
  RuntimeHeap heap;
  enter();
  Type t;
  t.kind = TypeKind::Struct;
  std::vector<MPI_Datatype> real;
  for (int k = 0; k < count; ++k) {
    t.bases.push_back(bits(types[k]));
    t.blocklengths.push_back(blocklengths[k]);
    t.displacements.push_back(displacements[k]);
    real.push_back(rt(types[k]));
  }
  int rc = PMPI_Type_create_struct(count, blocklengths, displacements, real.data(), &t.real);
  new_type(std::move(t), rc, out);
  return rc;
}

static Type *own_type(MPI_Datatype t) {
  uintptr_t k = bits(t) - kTypeBase;
  return k < g.types.size() ? &g.types[k] : nullptr;
}

int __autockpt_MPI_Type_commit(MPI_Datatype *type) {
  Type *t = own_type(*type);
  if (!t)
    return PMPI_Type_commit(type);
  t->committed = true;
  return PMPI_Type_commit(&t->real);
}

int __autockpt_MPI_Type_free(MPI_Datatype *type) {
  Type *t = own_type(*type);
  if (!t)
    return PMPI_Type_free(type);
  t->freed = true;
  *type = MPI_DATATYPE_NULL;
  return PMPI_Type_free(&t->real);
}

int __autockpt_MPI_Type_size(MPI_Datatype type, int *size) { return PMPI_Type_size(rt(type), size); }

int __autockpt_MPI_Get_count(const MPI_Status *status, MPI_Datatype type, int *count) {
  return PMPI_Get_count(status, rt(type), count);
}

int __autockpt_MPI_Op_create(MPI_User_function *fn, int commute, MPI_Op *out) {
  RuntimeHeap heap;
  enter();
  Op o;
  o.fn = reinterpret_cast<uintptr_t>(fn);
  o.commute = commute;
  int rc = PMPI_Op_create(fn, commute, &o.real);
  if (rc == MPI_SUCCESS) {
    g.ops.push_back(o);
    *out = autockpt::mpi::handle<MPI_Op>(kOpBase + g.ops.size() - 1);
  }
  return rc;
}

int __autockpt_MPI_Op_free(MPI_Op *op) {
  uintptr_t k = bits(*op) - kOpBase;
  if (k >= g.ops.size())
    return PMPI_Op_free(op);
  g.ops[k].freed = true;
  *op = MPI_OP_NULL;
  return PMPI_Op_free(&g.ops[k].real);
}

// ---- Calls that only look: the handles translated (M10, M18) -----------------------------------

// A communicator's name is recorded and set again at a restart (M18).
int __autockpt_MPI_Comm_set_name(MPI_Comm comm, const char *name) {
  RuntimeHeap heap;
  int c = comm_index(comm);
  if (c < 0)
    unknown_comm("MPI_Comm_set_name");
  int rc = PMPI_Comm_set_name(g.comms[c].real, name);
  if (rc == MPI_SUCCESS)
    g.comms[c].name = std::string(name).substr(0, MPI_MAX_OBJECT_NAME - 1);
  return rc;
}
int __autockpt_MPI_Comm_get_name(MPI_Comm comm, char *name, int *length) {
  return PMPI_Comm_get_name(real_comm(comm), name, length);
}

// A datatype's name, the same way (a predefined type's goes to the library only).
int __autockpt_MPI_Type_set_name(MPI_Datatype type, const char *name) {
  RuntimeHeap heap;
  Type *t = own_type(type);
  if (!t)
    return PMPI_Type_set_name(type, name);
  int rc = PMPI_Type_set_name(t->real, name);
  if (rc == MPI_SUCCESS)
    t->name = std::string(name).substr(0, MPI_MAX_OBJECT_NAME - 1);
  return rc;
}
int __autockpt_MPI_Type_get_name(MPI_Datatype type, char *name, int *length) {
  return PMPI_Type_get_name(rt(type), name, length);
}

int __autockpt_MPI_Comm_compare(MPI_Comm a, MPI_Comm b, int *result) {
  return PMPI_Comm_compare(real_comm(a), real_comm(b), result);
}
int __autockpt_MPI_Comm_test_inter(MPI_Comm comm, int *flag) {
  return PMPI_Comm_test_inter(real_comm(comm), flag);
}
int __autockpt_MPI_Topo_test(MPI_Comm comm, int *status) {
  return PMPI_Topo_test(real_comm(comm), status);
}
// The predefined attributes (MPI_TAG_UB, MPI_WTIME_IS_GLOBAL, ...); the program can make no keyval
// of its own (MPI_Comm_create_keyval is refused, M18).
int __autockpt_MPI_Comm_get_attr(MPI_Comm comm, int keyval, void *value, int *flag) {
  return PMPI_Comm_get_attr(real_comm(comm), keyval, value, flag);
}
int __autockpt_MPI_Attr_get(MPI_Comm comm, int keyval, void *value, int *flag) {
  return PMPI_Comm_get_attr(real_comm(comm), keyval, value, flag);
}
int __autockpt_MPI_Type_get_extent(MPI_Datatype type, MPI_Aint *lb, MPI_Aint *extent) {
  return PMPI_Type_get_extent(rt(type), lb, extent);
}
int __autockpt_MPI_Type_get_true_extent(MPI_Datatype type, MPI_Aint *lb, MPI_Aint *extent) {
  return PMPI_Type_get_true_extent(rt(type), lb, extent);
}
int __autockpt_MPI_Get_elements(const MPI_Status *status, MPI_Datatype type, int *count) {
  return PMPI_Get_elements(status, rt(type), count);
}
int __autockpt_MPI_Pack(const void *in, int count, MPI_Datatype type, void *out, int size,
                        int *position, MPI_Comm comm) {
  return PMPI_Pack(in, count, rt(type), out, size, position, real_comm(comm));
}
int __autockpt_MPI_Unpack(const void *in, int size, int *position, void *out, int count,
                          MPI_Datatype type, MPI_Comm comm) {
  return PMPI_Unpack(in, size, position, out, count, rt(type), real_comm(comm));
}
int __autockpt_MPI_Pack_size(int count, MPI_Datatype type, MPI_Comm comm, int *size) {
  return PMPI_Pack_size(count, rt(type), real_comm(comm), size);
}
int __autockpt_MPI_Reduce_local(const void *in, void *inout, int count, MPI_Datatype type,
                                MPI_Op op) {
  return PMPI_Reduce_local(in, inout, count, rt(type), rop(op));
}

// ---- Error handlers (M18) ---------------------------------------------------------------------
// The program's handle of each communicator's handler is in the communicator's record, made
// again at a restart; the library calls a handler with its own communicator (like a reduction's
// datatype, M10), which MPI_Abort, MPI_Comm_rank and the like take all the same.

int __autockpt_MPI_Comm_create_errhandler(MPI_Comm_errhandler_function *fn, MPI_Errhandler *out) {
  RuntimeHeap heap;
  enter();
  Errh e;
  e.fn = reinterpret_cast<uintptr_t>(fn);
  int rc = PMPI_Comm_create_errhandler(fn, &e.real);
  if (rc == MPI_SUCCESS) {
    g.errhs.push_back(e);
    *out = autockpt::mpi::handle<MPI_Errhandler>(kErrhBase + g.errhs.size() - 1);
  }
  return rc;
}
int __autockpt_MPI_Errhandler_create(MPI_Comm_errhandler_function *fn, MPI_Errhandler *out) {
  return __autockpt_MPI_Comm_create_errhandler(fn, out);
}

int __autockpt_MPI_Comm_set_errhandler(MPI_Comm comm, MPI_Errhandler errh) {
  RuntimeHeap heap;
  enter();
  int c = comm_index(comm);
  if (c < 0)
    unknown_comm("MPI_Comm_set_errhandler");
  int rc = PMPI_Comm_set_errhandler(g.comms[c].real, re(errh));
  if (rc == MPI_SUCCESS) {
    g.comms[c].errh_set = true;
    g.comms[c].errh = bits(errh);
  }
  return rc;
}
int __autockpt_MPI_Errhandler_set(MPI_Comm comm, MPI_Errhandler errh) {
  return __autockpt_MPI_Comm_set_errhandler(comm, errh);
}

// The program's own handler comes back as its handle (one more reference to free); a predefined
// one, or none set, is the library's answer.
int __autockpt_MPI_Comm_get_errhandler(MPI_Comm comm, MPI_Errhandler *out) {
  RuntimeHeap heap;
  enter();
  int c = comm_index(comm);
  if (c < 0)
    unknown_comm("MPI_Comm_get_errhandler");
  const Comm &cm = g.comms[c];
  if (uintptr_t k = cm.errh - kErrhBase; cm.errh_set && k < g.errhs.size()) {
    ++g.errhs[k].refs;
    *out = autockpt::mpi::handle<MPI_Errhandler>(cm.errh);
    return MPI_SUCCESS;
  }
  return PMPI_Comm_get_errhandler(cm.real, out);
}
int __autockpt_MPI_Errhandler_get(MPI_Comm comm, MPI_Errhandler *out) {
  return __autockpt_MPI_Comm_get_errhandler(comm, out);
}

int __autockpt_MPI_Errhandler_free(MPI_Errhandler *errh) {
  uintptr_t k = bits(*errh) - kErrhBase;
  if (k >= g.errhs.size())
    return PMPI_Errhandler_free(errh);
  *errh = MPI_ERRHANDLER_NULL;
  if (--g.errhs[k].refs == 0)
    return PMPI_Errhandler_free(&g.errhs[k].real);
  return MPI_SUCCESS;
}

// ---- Info objects (M19) -------------------------------------------------------------------------
// The program's handle is virtual and its pairs are kept here, so an info object made before a
// checkpoint means the same after a restart; reading one asks the library's object.

int __autockpt_MPI_Info_create(MPI_Info *out) {
  RuntimeHeap heap;
  Info in;
  int rc = PMPI_Info_create(&in.real);
  if (rc == MPI_SUCCESS) {
    g.infos.push_back(std::move(in));
    *out = autockpt::mpi::handle<MPI_Info>(kInfoBase + g.infos.size() - 1);
  }
  return rc;
}

int __autockpt_MPI_Info_set(MPI_Info info, const char *key, const char *value) {
  RuntimeHeap heap;
  int rc = PMPI_Info_set(ri(info), key, value);
  if (Info *in = info_of(info); in && rc == MPI_SUCCESS) {
    auto at = std::find_if(in->pairs.begin(), in->pairs.end(),
                           [&](const auto &p) { return p.first == key; });
    if (at != in->pairs.end())
      at->second = value;
    else
      in->pairs.emplace_back(key, value);
  }
  return rc;
}

int __autockpt_MPI_Info_delete(MPI_Info info, const char *key) {
  RuntimeHeap heap;
  int rc = PMPI_Info_delete(ri(info), key);
  if (Info *in = info_of(info); in && rc == MPI_SUCCESS)
    in->pairs.erase(std::remove_if(in->pairs.begin(), in->pairs.end(),
                                   [&](const auto &p) { return p.first == key; }),
                    in->pairs.end());
  return rc;
}

int __autockpt_MPI_Info_dup(MPI_Info info, MPI_Info *out) {
  RuntimeHeap heap;
  Info copy;
  int rc = PMPI_Info_dup(ri(info), &copy.real);
  if (rc != MPI_SUCCESS)
    return rc;
  if (const Info *in = info_of(info)) {
    copy.pairs = in->pairs;
  } else {  // MPI_INFO_ENV: its pairs, read from the copy
    int n = 0;
    PMPI_Info_get_nkeys(copy.real, &n);
    for (int k = 0; k < n; ++k) {
      char key[MPI_MAX_INFO_KEY + 1] = {}, value[MPI_MAX_INFO_VAL + 1] = {};
      int flag = 0;
      PMPI_Info_get_nthkey(copy.real, k, key);
      PMPI_Info_get(copy.real, key, MPI_MAX_INFO_VAL, value, &flag);
      if (flag)
        copy.pairs.emplace_back(key, value);
    }
  }
  g.infos.push_back(std::move(copy));
  *out = autockpt::mpi::handle<MPI_Info>(kInfoBase + g.infos.size() - 1);
  return rc;
}

int __autockpt_MPI_Info_free(MPI_Info *info) {
  Info *in = info_of(*info);
  if (!in)
    return PMPI_Info_free(info);
  int rc = PMPI_Info_free(&in->real);
  if (rc == MPI_SUCCESS) {
    in->freed = true;
    in->pairs.clear();
    *info = MPI_INFO_NULL;
  }
  return rc;
}

int __autockpt_MPI_Info_get(MPI_Info info, const char *key, int valuelen, char *value, int *flag) {
  return PMPI_Info_get(ri(info), key, valuelen, value, flag);
}
int __autockpt_MPI_Info_get_valuelen(MPI_Info info, const char *key, int *valuelen, int *flag) {
  return PMPI_Info_get_valuelen(ri(info), key, valuelen, flag);
}
int __autockpt_MPI_Info_get_nkeys(MPI_Info info, int *nkeys) {
  return PMPI_Info_get_nkeys(ri(info), nkeys);
}
int __autockpt_MPI_Info_get_nthkey(MPI_Info info, int n, char *key) {
  return PMPI_Info_get_nthkey(ri(info), n, key);
}
#if MPI_VERSION >= 4
int __autockpt_MPI_Info_get_string(MPI_Info info, const char *key, int *buflen, char *value,
                                   int *flag) {
  return PMPI_Info_get_string(ri(info), key, buflen, value, flag);
}
#endif

// ---- Groups of ranges (M18): recorded as the ranks they name, like MPI_Group_incl/_excl -------

static int ranges(const char *call, GroupKind kind, MPI_Group group, int n, int triples[][3],
                  MPI_Group *out) {
  RuntimeHeap heap;
  std::vector<int> ranks;
  for (int k = 0; k < n; ++k) {
    int first = triples[k][0], last = triples[k][1], stride = triples[k][2];
    if (stride == 0 || (stride > 0 ? first > last : first < last))
      return MPI_ERR_ARG;  // as the library would say
    for (int r = first; stride > 0 ? r <= last : r >= last; r += stride)
      ranks.push_back(r);
  }
  return some_ranks(call, kind, group, int(ranks.size()), ranks.data(), out);
}
int __autockpt_MPI_Group_range_incl(MPI_Group group, int n, int triples[][3], MPI_Group *out) {
  return ranges("MPI_Group_range_incl", GroupKind::Incl, group, n, triples, out);
}
int __autockpt_MPI_Group_range_excl(MPI_Group group, int n, int triples[][3], MPI_Group *out) {
  return ranges("MPI_Group_range_excl", GroupKind::Excl, group, n, triples, out);
}

// ---- More datatypes (M18): a record that make_type makes, now and at a restart ----------------

static int made_type(Type t, MPI_Datatype *out) {
  RuntimeHeap heap;
  enter();
  int rc = make_type(t);
  new_type(std::move(t), rc, out);
  return rc;
}

int __autockpt_MPI_Type_indexed(int count, const int *blocklengths, const int *displacements,
                                MPI_Datatype base, MPI_Datatype *out) {
  RuntimeHeap heap;
  Type t;
  t.kind = TypeKind::Indexed;
  t.count = count;
  t.blocklengths.assign(blocklengths, blocklengths + std::max(count, 0));
  t.displacements.assign(displacements, displacements + std::max(count, 0));
  t.bases = {bits(base)};
  return made_type(std::move(t), out);
}
int __autockpt_MPI_Type_create_hindexed(int count, const int *blocklengths,
                                        const MPI_Aint *displacements, MPI_Datatype base,
                                        MPI_Datatype *out) {
  RuntimeHeap heap;
  Type t;
  t.kind = TypeKind::Hindexed;
  t.count = count;
  t.blocklengths.assign(blocklengths, blocklengths + std::max(count, 0));
  t.displacements.assign(displacements, displacements + std::max(count, 0));
  t.bases = {bits(base)};
  return made_type(std::move(t), out);
}
int __autockpt_MPI_Type_create_indexed_block(int count, int blocklength, const int *displacements,
                                             MPI_Datatype base, MPI_Datatype *out) {
  RuntimeHeap heap;
  Type t;
  t.kind = TypeKind::IndexedBlock;
  t.count = count;
  t.blocklength = blocklength;
  t.displacements.assign(displacements, displacements + std::max(count, 0));
  t.bases = {bits(base)};
  return made_type(std::move(t), out);
}
int __autockpt_MPI_Type_create_hvector(int count, int blocklength, MPI_Aint stride,
                                       MPI_Datatype base, MPI_Datatype *out) {
  RuntimeHeap heap;
  Type t;
  t.kind = TypeKind::Hvector;
  t.count = count;
  t.blocklength = blocklength;
  t.displacements = {int64_t(stride)};
  t.bases = {bits(base)};
  return made_type(std::move(t), out);
}
int __autockpt_MPI_Type_create_subarray(int ndims, const int *sizes, const int *subsizes,
                                        const int *starts, int order, MPI_Datatype base,
                                        MPI_Datatype *out) {
  RuntimeHeap heap;
  Type t;
  t.kind = TypeKind::Subarray;
  t.count = ndims;
  t.blocklength = order;
  int n = std::max(ndims, 0);
  t.blocklengths.assign(sizes, sizes + n);
  t.blocklengths.insert(t.blocklengths.end(), subsizes, subsizes + n);
  t.blocklengths.insert(t.blocklengths.end(), starts, starts + n);
  t.bases = {bits(base)};
  return made_type(std::move(t), out);
}
int __autockpt_MPI_Type_create_resized(MPI_Datatype base, MPI_Aint lb, MPI_Aint extent,
                                       MPI_Datatype *out) {
  RuntimeHeap heap;
  Type t;
  t.kind = TypeKind::Resized;
  t.displacements = {int64_t(lb), int64_t(extent)};
  t.bases = {bits(base)};
  return made_type(std::move(t), out);
}
int __autockpt_MPI_Type_dup(MPI_Datatype base, MPI_Datatype *out) {
  RuntimeHeap heap;
  Type t;
  t.kind = TypeKind::Dup;
  t.bases = {bits(base)};
  return made_type(std::move(t), out);
}

// ---- MPI_Alloc_mem (M18): the program's heap, so that what it keeps there is in the image ------

int __autockpt_MPI_Alloc_mem(MPI_Aint size, MPI_Info, void *out) {
  void *p = __autockpt_malloc(autockpt_u64(size > 0 ? size : 1));
  if (!p)
    return MPI_ERR_NO_MEM;
  memcpy(out, &p, sizeof p);
  return MPI_SUCCESS;
}
int __autockpt_MPI_Free_mem(void *p) {
  __autockpt_free(p);
  return MPI_SUCCESS;
}

// ---- Not supported (docs/design.md M9): a message naming the call, never a wrong restart. --------

#define AUTOCKPT_MPI_UNSUPPORTED(name, what, ...)           \
  int __autockpt_##name(__VA_ARGS__) { unsupported(#name, what); }

AUTOCKPT_MPI_UNSUPPORTED(MPI_Win_create, "one-sided communication (windows)", void *, MPI_Aint,
                         int, MPI_Info, MPI_Comm, MPI_Win *)
AUTOCKPT_MPI_UNSUPPORTED(MPI_Win_allocate, "one-sided communication (windows)", MPI_Aint, int,
                         MPI_Info, MPI_Comm, void *, MPI_Win *)
AUTOCKPT_MPI_UNSUPPORTED(MPI_Win_allocate_shared, "one-sided communication (windows)", MPI_Aint,
                         int, MPI_Info, MPI_Comm, void *, MPI_Win *)
AUTOCKPT_MPI_UNSUPPORTED(MPI_Win_create_dynamic, "one-sided communication (windows)", MPI_Info,
                         MPI_Comm, MPI_Win *)
AUTOCKPT_MPI_UNSUPPORTED(MPI_File_open, "MPI-IO (files opened through MPI)", MPI_Comm,
                         const char *, int, MPI_Info, MPI_File *)
AUTOCKPT_MPI_UNSUPPORTED(MPI_Comm_spawn, "dynamic processes", const char *, char **, int,
                         MPI_Info, int, MPI_Comm, MPI_Comm *, int *)
AUTOCKPT_MPI_UNSUPPORTED(MPI_Comm_spawn_multiple, "dynamic processes", int, char **, char ***,
                         const int *, const MPI_Info *, int, MPI_Comm, MPI_Comm *, int *)
AUTOCKPT_MPI_UNSUPPORTED(MPI_Comm_create_group, "a communicator made by its group alone",
                         MPI_Comm, MPI_Group, int, MPI_Comm *)
AUTOCKPT_MPI_UNSUPPORTED(MPI_Group_union, "a group made of two groups", MPI_Group, MPI_Group,
                         MPI_Group *)
AUTOCKPT_MPI_UNSUPPORTED(MPI_Group_intersection, "a group made of two groups", MPI_Group,
                         MPI_Group, MPI_Group *)
AUTOCKPT_MPI_UNSUPPORTED(MPI_Group_difference, "a group made of two groups", MPI_Group,
                         MPI_Group, MPI_Group *)
#define AUTOCKPT_MPI_ICOLL "this nonblocking collective (Ibarrier, Ibcast, Ireduce, Iallreduce, " \
                           "Iallgather and Ialltoall are supported)"
AUTOCKPT_MPI_UNSUPPORTED(MPI_Igather, AUTOCKPT_MPI_ICOLL, const void *, int, MPI_Datatype, void *,
                         int, MPI_Datatype, int, MPI_Comm, MPI_Request *)
AUTOCKPT_MPI_UNSUPPORTED(MPI_Iscatter, AUTOCKPT_MPI_ICOLL, const void *, int, MPI_Datatype, void *,
                         int, MPI_Datatype, int, MPI_Comm, MPI_Request *)
AUTOCKPT_MPI_UNSUPPORTED(MPI_Iscan, AUTOCKPT_MPI_ICOLL, const void *, void *, int, MPI_Datatype,
                         MPI_Op, MPI_Comm, MPI_Request *)
AUTOCKPT_MPI_UNSUPPORTED(MPI_Iexscan, AUTOCKPT_MPI_ICOLL, const void *, void *, int, MPI_Datatype,
                         MPI_Op, MPI_Comm, MPI_Request *)

}  // extern "C"
