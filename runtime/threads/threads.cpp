// Threads the program starts (DESIGN D8, docs/design.md H1-H6): found by interposing
// pthread_create in the executable, each run from thread_entry on a stack at a fixed address,
// stopped together for a checkpoint (the last one to stop writes the image of all) and made
// again, in creation order, when a run restarts.  What it leaves to others: the core unwinds
// and re-enters each thread's frames (control.cpp); blocking calls are safe points in
// blocking.cpp.
#include "threads/threads.h"

#include "autockpt/abi.h"
#include "checkpoint.h"
#include "control.h"
#include "image/format.h"
#include "image/meta.h"
#include "layers.h"
#include "log.h"
#include "registry.h"
#include "state.h"
#include "symbols.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <dlfcn.h>
#include <csignal>
#include <elf.h>
#include <execinfo.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <link.h>
#include <sys/mman.h>
#include <thread>
#include <vector>

namespace autockpt::threads {

namespace {

// A thread's status, read and written across threads (an enum: clang's __atomic builtins take
// only integers and pointers).
Status load_status(const Thread *t) {
  return Status(__atomic_load_n(reinterpret_cast<const uint32_t *>(&t->status), __ATOMIC_ACQUIRE));
}
void store_status(Thread *t, Status s) {
  __atomic_store_n(reinterpret_cast<uint32_t *>(&t->status), uint32_t(s), __ATOMIC_RELEASE);
}

// ---- Where each thread's stack is --------------------------------------------------------------
// Slot k's stack ends at kStacksTop - k * kSlotSize, below a guard page: the same slot gives the
// same stack, hence the same frames, the same static TLS and the same pthread_t (glibc puts the
// thread's descriptor at the top of a stack the caller provides).
constexpr uint32_t kMaxThreads = 4096;                  // at once
constexpr uintptr_t kStacksTop = 0x2f0000000000ull;     // 64 GiB under the main stack's top
constexpr uint64_t kSlotSize = 64ull << 20;
constexpr uint64_t kPage = 4096;

using CreateFn = int (*)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
using JoinFn = int (*)(pthread_t, void **);
using ExitFn = void (*)(void *);

template <class Fn>
Fn next(const char *name) {
  auto fn = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
  if (!fn)
    fatal("cannot find the C library's %s: %s", name, dlerror());
  return fn;
}

CreateFn real_create() {
  static CreateFn fn = next<CreateFn>("pthread_create");
  return fn;
}
JoinFn real_join() {
  static JoinFn fn = next<JoinFn>("pthread_join");
  return fn;
}

// ---- State, under g_mu (plain pthread objects: constant-initialised, usable from the first
// constructor) --------------------------------------------------------------------------------

pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;
struct Lock {
  Lock() { pthread_mutex_lock(&g_mu); }
  ~Lock() { pthread_mutex_unlock(&g_mu); }
};

enum class Phase { Running, Stopping, Writing };
Phase g_phase = Phase::Running;
uint64_t g_epoch;       // +1 each time stopped threads are let go
unsigned g_live = 1;    // threads that take part in a checkpoint: main, and every thread started
                        // (from pthread_create on) that has not exited
unsigned g_arrived;     // of those, at a safe point for the checkpoint under way
uint64_t g_arrival_epoch;  // +1 each time all have arrived
uint64_t g_round;          // +1 at each checkpoint's first arrival
uint64_t g_given_up_round;  // the last round given up (a thread did not arrive in time)
uint64_t g_main_arrived;   // the round the main thread last arrived in
timespec g_round_deadline;  // CLOCK_REALTIME (g_cv's clock): when the round is given up
pthread_t g_main_handle;
// Old kernel thread id -> creation index (tid_index of the image), and creation index -> id now.
std::vector<std::pair<uint64_t, uint64_t>> *g_tid_index;
bool g_renamed;  // a restart gave the threads new ids
unsigned g_parked;      // of those, with their frames saved
unsigned g_reentering;  // threads to re-enter their frames after the image is written
unsigned g_reentered;
uint64_t g_reentry_epoch;
uint32_t g_next_index = 1;
uint32_t g_pool_started;  // pooled threads started (Thread::pool_index)
int g_requested;        // a request not yet served: a thread that starts now raises its flag

// Records by slot, read by request() from signal handlers: never freed, a slot's record is
// reused.  g_used: the slot's thread has not been joined (or reaped) yet.
Thread *g_slots[kMaxThreads];
bool g_used[kMaxThreads];
bool g_mapped[kMaxThreads];
uint32_t g_nslots;  // slots ever used

// A restart: threads made again wait until all are there.
unsigned g_ready;
bool g_go;

thread_local Thread *t_self;

// std::thread starts its threads at a function of libstdc++'s (execute_native_thread_routine)
// that runs the std::thread::_State it is given and deletes it.  That frame is not instrumented,
// so nothing under it could be unwound, and it would delete the state while its thread unwinds:
// the runtime runs the state itself, from this root, and deletes it when the thread ends.
bool from_libstdcxx(void *(*start)(void *)) {
  Dl_info info;
  return dladdr(reinterpret_cast<void *>(start), &info) && info.dli_fname &&
         strstr(info.dli_fname, "libstdc++");
}

// A thread that a library's pool starts for itself (libomp's workers): see Thread::pooled.
bool from_pool(void *(*start)(void *)) {
  Dl_info info;
  return dladdr(reinterpret_cast<void *>(start), &info) && info.dli_fname &&
         strstr(info.dli_fname, "libomp");
}

// A thread that a library starts for itself, not for the program: libmpi's and libpmix's
// progress threads, libevent's.  Its start routine lies in a shared library's text (not the
// executable's, not libstdc++'s: std::thread, not libomp's: its pool is the program's work,
// see from_pool).  It runs no instrumented code and never reaches a safe point; the library
// makes it again when it is initialised again (mpi/ at a restart), so it is not the runtime's.
bool library_thread(void *(*start)(void *)) {
  Dl_info info, self;
  if (!dladdr(reinterpret_cast<void *>(start), &info) || !info.dli_fname ||
      !dladdr(reinterpret_cast<void *>(&library_thread), &self))
    return false;
  return info.dli_fbase != self.dli_fbase && !strstr(info.dli_fname, "libstdc++") &&
         !strstr(info.dli_fname, "libomp");
}

// ---- Thread-local variables --------------------------------------------------------------------
// The instrumented modules' TLS variables are in the globals table at the main thread's
// addresses (docs/design.md P8).  Static TLS lies at a fixed offset from the thread pointer in
// every thread, so thread T's copy of a variable is at T's thread pointer + (main's address -
// main's thread pointer).

struct TlsVar {
  intptr_t offset;
  uint64_t size;
};
std::vector<TlsVar> *g_tls;  // found on the main thread, before the first thread starts
uint64_t g_tls_bytes;

uintptr_t thread_pointer() {
  uintptr_t tp;
  asm("mov %%fs:0, %0" : "=r"(tp));
  return tp;
}

void find_tls() {
  if (g_tls)
    return;
  g_main_handle = pthread_self();  // the first thread is started from main
  RuntimeHeap runtime_heap;
  struct Block {
    uintptr_t lo, hi;
  };
  std::vector<Block> blocks;
  dl_iterate_phdr(
      [](dl_phdr_info *info, size_t, void *arg) {
        if (!info->dlpi_tls_data)
          return 0;
        for (int k = 0; k < info->dlpi_phnum; ++k)
          if (info->dlpi_phdr[k].p_type == PT_TLS) {
            auto lo = reinterpret_cast<uintptr_t>(info->dlpi_tls_data);
            static_cast<std::vector<Block> *>(arg)->push_back({lo, lo + info->dlpi_phdr[k].p_memsz});
          }
        return 0;
      },
      &blocks);
  auto *vars = new std::vector<TlsVar>;
  uintptr_t tp = thread_pointer();
  for (const registry::Global &g : registry::globals()) {
    auto a = reinterpret_cast<uintptr_t>(g.addr);
    for (const Block &b : blocks)
      if (a >= b.lo && a + g.size <= b.hi) {
        vars->push_back({intptr_t(a - tp), g.size});
        g_tls_bytes += g.size;
      }
  }
  __atomic_store_n(&g_tls, vars, __ATOMIC_RELEASE);  // read without a lock (thread_local_bytes)
}

void save_tls(Thread *t) {
  RuntimeHeap runtime_heap;
  t->tls.resize(g_tls_bytes);
  uintptr_t tp = thread_pointer();
  uint64_t at = 0;
  for (const TlsVar &v : *g_tls) {
    memcpy(&t->tls[at], reinterpret_cast<void *>(tp + v.offset), v.size);
    at += v.size;
  }
}

void restore_tls(const Thread *t) {
  if (t->tls.size() != g_tls_bytes)
    fatal("thread %u: the checkpoint holds %zu bytes of thread-local variables, this program "
          "has %llu; the image does not match this program", t->index, t->tls.size(),
          (unsigned long long)g_tls_bytes);
  uintptr_t tp = thread_pointer();
  uint64_t at = 0;
  for (const TlsVar &v : *g_tls) {
    memcpy(reinterpret_cast<void *>(tp + v.offset), &t->tls[at], v.size);
    at += v.size;
  }
}

// ---- Stacks --------------------------------------------------------------------------------------

uint64_t page_round(uint64_t n) { return (n + kPage - 1) & ~(kPage - 1); }

// The stack of `slot`, `size` bytes (at most the slot less its guard page), mapped if need be.
uintptr_t stack_for(uint32_t slot, uint64_t size) {
  uintptr_t top = kStacksTop - uint64_t(slot) * kSlotSize;
  if (!g_mapped[slot]) {
    void *want = reinterpret_cast<void *>(top - kSlotSize);
    void *got = mmap(want, kSlotSize, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
    if (got != want)
      fatal("cannot map the stack of thread slot %u at %p: %s", slot, want, strerror(errno));
    mprotect(want, kPage, PROT_NONE);  // the guard page
    g_mapped[slot] = true;
  }
  return top - size;
}

uint64_t stack_size_for(uint64_t want) {
  return std::min(std::max(page_round(want), uint64_t(64 << 10)), kSlotSize - kPage);
}

// A slot whose thread is gone; under g_mu.
void release(Thread *t) {
  g_used[t->slot] = false;
  if (!t->user_stack)  // give its pages back; the mapping stays for the next thread of the slot
    madvise(reinterpret_cast<void *>(t->stack_addr), t->stack_size - kPage * 4, MADV_DONTNEED);
}

// Detached threads are started joinable and joined here once they have exited, so that their
// slot is reused only when glibc no longer runs on their stack.
void reap_detached() {
  std::vector<Thread *> done;
  {
    Lock lock;
    for (uint32_t k = 0; k < g_nslots; ++k)
      if (g_used[k] && g_slots[k]->detached && g_slots[k]->status == Status::Exited)
        done.push_back(g_slots[k]);
  }
  for (Thread *t : done) {
    real_join()(t->handle, nullptr);
    Lock lock;
    release(t);
  }
}

// ---- Stopping the world ------------------------------------------------------------------------

// Under g_mu: every thread is stopped; the caller writes.  Flags raised by the request, or for
// threads that started during the stop, are lowered: a request that comes while the image is
// written raises them again and is served next.
void begin_writing() {
  g_phase = Phase::Writing;
  __atomic_store_n(&g_requested, 0, __ATOMIC_SEQ_CST);
  for (uint32_t k = 0; k < g_nslots; ++k)
    if (Thread *t = g_slots[k]; t && t->state && t->status == Status::Running)
      state::lower(t->state);
}

void request_all() {
  __atomic_store_n(&g_requested, 1, __ATOMIC_SEQ_CST);
  uint32_t n = __atomic_load_n(&g_nslots, __ATOMIC_ACQUIRE);
  for (uint32_t k = 0; k < n; ++k) {
    Thread *t = __atomic_load_n(&g_slots[k], __ATOMIC_ACQUIRE);
    if (!t || load_status(t) == Status::Exited)
      continue;
    if (unsigned long long *w = __atomic_load_n(&t->state, __ATOMIC_ACQUIRE))
      state::raise(w);
  }
}

using symbols::function_name_at;
using symbols::where_is;

// Under g_mu: everyone has arrived; let them unwind.
void all_arrived() {
  if (uint64_t ns = control::take_request_age_ns())
    log(2, "all %u threads at safe points %.0f us after the request", g_live, double(ns) / 1e3);
  g_arrived = 0;
  ++g_arrival_epoch;
  pthread_cond_broadcast(&g_cv);
}

// Two rendezvous per checkpoint.  Every thread arrives at a safe point before any unwinds: a
// frame's saved bytes must not change after they are saved, and objects on one thread's stack
// (a queue in main's frame) are used by the others.  And none runs the program's code again
// before every thread has re-entered its frames (reentered()).
bool arrive() {
  Lock lock;
  Thread *self = t_self;
  if (g_phase == Phase::Running) {
    g_phase = Phase::Stopping;
    ++g_round;
    clock_gettime(CLOCK_REALTIME, &g_round_deadline);
    double t = control::stop_timeout_s();
    g_round_deadline.tv_sec += time_t(t);
    g_round_deadline.tv_nsec += long((t - double(time_t(t))) * 1e9);
    if (g_round_deadline.tv_nsec >= 1000000000) {
      g_round_deadline.tv_nsec -= 1000000000;
      ++g_round_deadline.tv_sec;
    }
  }
  uint64_t round = g_round;
  if (self)
    self->arrived_round = round;
  else
    g_main_arrived = round;
  log(3, "thread %u arrives (%u of %u)", self ? self->index : 0, g_arrived + 1, g_live);
  if (++g_arrived >= g_live) {
    all_arrived();
    return true;
  }
  uint64_t epoch = g_arrival_epoch;
  while (g_arrival_epoch == epoch && g_given_up_round != round) {
    if (pthread_cond_timedwait(&g_cv, &g_mu, &g_round_deadline) != ETIMEDOUT)
      continue;
    if (g_arrival_epoch != epoch || g_given_up_round == round)
      break;
    // Time is up: name the threads that did not come, and let the others go on.
    std::string why;
    auto add = [&](uint32_t index, pthread_t th, void *(*start)(void *)) {
      const char *name = start ? function_name_at(reinterpret_cast<uintptr_t>(start)) : nullptr;
      char head[160];
      snprintf(head, sizeof head, "%sthread %u%s%s%s did not reach a safe point in %g s; it is in ",
               why.empty() ? "" : "; ", index, name ? " (started at " : "", name ? name : "",
               name ? ")" : "", control::stop_timeout_s());
      why += head + where_is(th);
    };
    if (g_main_arrived != round)
      add(0, g_main_handle, nullptr);
    for (uint32_t k = 0; k < g_nslots; ++k)
      if (Thread *t = g_slots[k]; t && g_used[k] && t->status == Status::Running &&
                                  (!t->pooled || t->in_team) && t->arrived_round != round)
        add(t->index, t->handle, t->start);
    g_given_up_round = round;
    g_phase = Phase::Running;
    g_arrived = 0;
    begin_writing();  // lowers every thread's request bit: the request is served by this message
    g_phase = Phase::Running;
    pthread_cond_broadcast(&g_cv);
    pthread_mutex_unlock(&g_mu);
    control::abandon_checkpoint(why);
    pthread_mutex_lock(&g_mu);
    return false;
  }
  return g_given_up_round != round;
}

void reentered() {
  if (t_self && t_self->pooled)
    return;  // a team's worker: omp/ re-enters it, and the program's threads do not wait for it
  Lock lock;
  if (g_reentering == 0)
    return;  // the process was not stopped (a fresh start)
  if (++g_reentered >= g_reentering) {
    g_reentered = 0;
    g_reentering = 0;
    ++g_reentry_epoch;
    pthread_cond_broadcast(&g_cv);
    return;
  }
  uint64_t epoch = g_reentry_epoch;
  while (g_reentry_epoch == epoch)
    pthread_cond_wait(&g_cv, &g_mu);
}

bool stop_thread() {
  if (Thread *t = t_self)
    save_tls(t);
  Lock lock;
  ++g_parked;
  if (g_parked >= g_live) {
    begin_writing();
    return true;
  }
  uint64_t epoch = g_epoch;
  while (g_epoch == epoch)
    pthread_cond_wait(&g_cv, &g_mu);
  return false;
}

void resume_all() {
  Lock lock;
  g_phase = Phase::Running;
  g_parked = 0;
  g_reentering = g_live;
  ++g_epoch;
  pthread_cond_broadcast(&g_cv);
}

// ---- The image ---------------------------------------------------------------------------------

void save(image::ImageMeta *meta, std::string *bytes) {
  RuntimeHeap runtime_heap;
  if (g_tid_index)
    for (auto &[tid, index] : *g_tid_index)
      meta->tid_index.push_back({tid, index});
  meta->tid_index.push_back({uint64_t(getpid()), 0});  // the main thread's id
  for (uint32_t k = 0; k < g_nslots; ++k)
    if (g_used[k] && g_slots[k]->status == Status::Running)
      meta->tid_index.push_back({uint64_t(g_slots[k]->tid), g_slots[k]->index});
  std::vector<Thread *> all;
  for (uint32_t k = 0; k < g_nslots; ++k)
    if (g_used[k] && !g_slots[k]->pooled &&
        !(g_slots[k]->detached && g_slots[k]->status == Status::Exited))
      all.push_back(g_slots[k]);
  std::sort(all.begin(), all.end(), [](Thread *a, Thread *b) { return a->index < b->index; });
  for (Thread *t : all) {
    image::ThreadRecord r;
    r.index = t->index;
    r.slot = t->slot;
    r.status = uint32_t(t->status);
    r.detached = t->detached;
    r.handle = uint64_t(t->handle);
    r.start = reinterpret_cast<uintptr_t>(t->start);
    r.arg = reinterpret_cast<uintptr_t>(t->arg);
    r.retval = reinterpret_cast<uintptr_t>(t->retval);
    r.stack_addr = t->stack_addr;
    r.stack_size = t->stack_size;
    r.user_stack = t->user_stack;
    if (t->status != Status::Exited)
      checkpoint::describe_frames(t->frames, &r.frames);
    r.frames_offset = bytes->size();
    r.frames_size = t->status != Status::Exited ? t->frames.buffer.size() : 0;
    bytes->append(t->frames.buffer.data(), r.frames_size);
    r.tls_offset = bytes->size();
    r.tls_size = t->status != Status::Exited ? t->tls.size() : 0;
    bytes->append(t->tls.data(), r.tls_size);
    meta->threads.push_back(std::move(r));
  }
  auto name = [](std::vector<image::FrameRecord> &list) {
    for (image::FrameRecord &f : list)
      if (const char *n = f.function.empty() ? blocking_frame_name(f.fid) : nullptr)
        f.function = n;
  };
  name(meta->frames);
  for (image::ThreadRecord &r : meta->threads)
    name(r.frames);
}

void load(const image::ImageMeta &meta, std::string bytes) {
  RuntimeHeap runtime_heap;
  g_tid_index = new std::vector<std::pair<uint64_t, uint64_t>>;
  for (const image::TidRecord &r : meta.tid_index)
    g_tid_index->push_back({r.tid, r.index});
  g_renamed = !g_tid_index->empty();
  for (const image::ThreadRecord &r : meta.threads) {
    if (r.slot >= kMaxThreads || r.frames_offset + r.frames_size > bytes.size() ||
        r.tls_offset + r.tls_size > bytes.size())
      fatal("thread %u of the checkpoint is damaged (slot %u)", r.index, r.slot);
    Thread *t = g_slots[r.slot] ? g_slots[r.slot] : new Thread;
    t->index = r.index;
    t->slot = r.slot;
    t->status = Status(r.status);
    t->detached = r.detached;
    t->handle = pthread_t(r.handle);
    t->start = reinterpret_cast<void *(*)(void *)>(r.start);
    t->arg = reinterpret_cast<void *>(r.arg);
    t->retval = reinterpret_cast<void *>(r.retval);
    t->stack_addr = r.stack_addr;
    t->stack_size = r.stack_size;
    t->user_stack = r.user_stack;
    t->std_thread = from_libstdcxx(t->start);
    t->restored = true;
    std::vector<frames::Record> recs;
    for (const image::FrameRecord &f : r.frames)
      recs.push_back({f.fid, f.spid, f.layout, f.offset, f.size});
    std::vector<char> buf(bytes.data() + r.frames_offset,
                          bytes.data() + r.frames_offset + r.frames_size);
    frames::adopt(std::move(recs), std::move(buf), &t->frames);
    t->tls.assign(bytes.data() + r.tls_offset, r.tls_size);
    g_slots[r.slot] = t;
    g_used[r.slot] = true;
    g_nslots = std::max(g_nslots, r.slot + 1);
    g_next_index = std::max(g_next_index, r.index + 1);
  }
}

void *thread_entry(void *p);

// A restarted process: the threads of the image are made again in creation order, each on its
// own stack (hence with its own pthread_t), and none goes on before all are there.
void restart() {
  RuntimeHeap runtime_heap;
  find_tls();
  std::vector<Thread *> all;
  for (uint32_t k = 0; k < g_nslots; ++k)
    if (g_used[k])
      all.push_back(g_slots[k]);
  std::sort(all.begin(), all.end(), [](Thread *a, Thread *b) { return a->index < b->index; });
  for (Thread *t : all) {
    if (!t->user_stack)
      stack_for(t->slot, t->stack_size);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstack(&attr, reinterpret_cast<void *>(t->stack_addr), t->stack_size);
    pthread_t saved = t->handle, got;
    if (int rc = real_create()(&got, &attr, thread_entry, t); rc != 0)
      fatal("cannot start thread %u again: %s", t->index, strerror(rc));
    pthread_attr_destroy(&attr);
    if (got != saved)
      fatal("thread %u started again as %#lx, but it was %#lx: the program holds the old value; "
            "the C library or its thread-local storage changed since the checkpoint", t->index,
            (unsigned long)got, (unsigned long)saved);
    if (t->status != Status::Exited)
      ++g_live;
  }
  Lock lock;
  while (g_ready < all.size())
    pthread_cond_wait(&g_cv, &g_mu);
  g_reentering = g_live;
  g_go = true;
  pthread_cond_broadcast(&g_cv);
  log(2, "%zu threads started again", all.size());
}

// ---- Each thread ---------------------------------------------------------------------------------

// The frame a checkpoint unwinds a thread to (control::set_root).
[[gnu::noinline]] void thread_root() {
  Thread *t = t_self;
  t->retval = t->start(t->arg);
  if (state::mode() == AUTOCKPT_MODE_RUNNING) {  // it ended (not unwound for a checkpoint)
    run_thread_dtors(t->index);
    run_key_dtors(t->index);
  }
  asm volatile("" ::: "memory");  // not a tail call: this frame is the root
}

[[gnu::noinline]] void std_thread_root() {
  static_cast<std::thread::_State *>(t_self->arg)->_M_run();
  if (state::mode() == AUTOCKPT_MODE_RUNNING) {
    run_thread_dtors(t_self->index);
    run_key_dtors(t_self->index);
  }
  asm volatile("" ::: "memory");
}

// A thread that exits, or leaves by pthread_exit (its forced unwind runs this too).
// Under g_mu: one thread less takes part.  The others may all be waiting for this one: to go on
// unwinding, or to write.  Returns true if the caller is to write the image (after unlocking).
bool leave_locked() {
  --g_live;
  bool writer = false;
  if (g_phase == Phase::Stopping && g_live > 0) {
    if (g_arrived > 0 && g_arrived >= g_live)
      all_arrived();
    else if (g_arrived == 0 && g_parked >= g_live)
      writer = true;
  }
  if (writer)
    begin_writing();
  return writer;
}

struct ExitGuard {
  Thread *t;
  ~ExitGuard() {
    bool writer = false;
    {
      Lock lock;
      store_status(t, Status::Exited);
      if (!t->pooled || t->in_team)
        writer = leave_locked();
    }
    if (writer)
      control::write_checkpoint();
  }
};

void *thread_entry(void *p) {
  auto *t = static_cast<Thread *>(p);
  t_self = t;
  t->handle = pthread_self();
  t->tid = gettid();
  frames::set_current(&t->frames);
  void (*root)() = t->std_thread ? std_thread_root : thread_root;
  control::set_root(root);
  if (int bits = control::base_flags())
    state::raise(&__autockpt_state, bits);  // polls are counted on every thread
  __atomic_store_n(&t->state, &__autockpt_state, __ATOMIC_SEQ_CST);
  if (__atomic_load_n(&g_requested, __ATOMIC_SEQ_CST))
    state::raise(&__autockpt_state);
  bool restored = t->restored;
  if (restored) {
    if (t->status != Status::Exited)  // an exited one (not joined yet) kept no variables
      restore_tls(t);
    t->restored = false;
    Lock lock;
    ++g_ready;
    pthread_cond_broadcast(&g_cv);
    while (!g_go)
      pthread_cond_wait(&g_cv, &g_mu);
  }
  if (t->status == Status::Exited)
    return t->retval;  // it had exited and was not joined yet: exits again, with its value
  ExitGuard guard{t};
  bool had_started = !t->frames.records.empty();
  if (had_started) {
    frames::begin_restore();
    state::mode() = AUTOCKPT_MODE_RESTORING;
  } else if (restored) {
    // It had not started when the checkpoint was taken: it starts now, once all are back.
    store_status(t, Status::Running);
    reentered();
  } else {
    bool stopping;
    {
      Lock lock;
      store_status(t, Status::Running);
      stopping = g_phase != Phase::Running;
    }
    // It started while the others stop for a checkpoint: it stops before running anything.
    // (A pool's worker runs the library's code until it joins a team: omp/ counts it then.)
    if (stopping && !t->pooled && arrive()) {
      if (stop_thread())
        control::write_checkpoint();
      reentered();
    }
  }
  for (;;) {
    root();
    if (state::mode() != AUTOCKPT_MODE_UNWINDING)
      break;
    if (stop_thread())
      control::write_checkpoint();
    frames::begin_restore();
    state::mode() = AUTOCKPT_MODE_RESTORING;
  }
  if (t->std_thread) {
    delete static_cast<std::thread::_State *>(t->arg);
    t->retval = nullptr;
  }
  return t->retval;
}

Thread *find(pthread_t handle) {
  for (uint32_t k = 0; k < g_nslots; ++k)
    if (g_used[k] && g_slots[k]->handle == handle)
      return g_slots[k];
  return nullptr;
}

constexpr layers::Layer kLayer = {
    "threads",  request_all, arrive,  stop_thread, resume_all,
    unsigned(image::SectionKind::Threads), save, load, restart, reentered,
};
AUTOCKPT_LAYER(kLayer);

}  // namespace

Thread *self() { return t_self; }

void fix_owner(pthread_mutex_t *m) {
  if (!g_renamed)
    return;
  int kind = m->__data.__kind & 3;  // PTHREAD_MUTEX_KIND_MASK_NP
  pid_t owner = m->__data.__owner;
  if ((kind != PTHREAD_MUTEX_RECURSIVE && kind != PTHREAD_MUTEX_ERRORCHECK) || owner == 0 ||
      owner == gettid())
    return;
  Lock lock;
  for (auto &[tid, index] : *g_tid_index) {
    if (tid != uint64_t(owner))
      continue;
    pid_t now = 0;
    if (index == 0)
      now = getpid();
    else
      for (uint32_t k = 0; k < g_nslots; ++k)
        if (g_used[k] && g_slots[k]->index == index)
          now = g_slots[k]->tid;
    if (now)
      __atomic_store_n(&m->__data.__owner, now, __ATOMIC_RELAXED);
    return;
  }
}

// ---- The interposed functions ----------------------------------------------------------------

int create(pthread_t *out, const pthread_attr_t *attr, void *(*start)(void *), void *arg) {
  // The runtime's own threads (reading an image), and those made before the program runs.
  if (!autockpt_user_main_running || autockpt_runtime_heap || library_thread(start))
    return real_create()(out, attr, start, arg);
  RuntimeHeap runtime_heap;
  find_tls();
  reap_detached();
  pthread_attr_t a;
  if (attr)
    a = *attr;  // a copy of the program's: not destroyed, so nothing it points to is freed
  else
    pthread_attr_init(&a);
  int detach = PTHREAD_CREATE_JOINABLE;
  pthread_attr_getdetachstate(&a, &detach);
  void *user_addr = nullptr;
  size_t user_size = 0;
  pthread_attr_getstack(&a, &user_addr, &user_size);
  bool user_stack = user_addr && reinterpret_cast<uintptr_t>(user_addr) + user_size != 0;
  size_t want = 0;
  pthread_attr_getstacksize(&a, &want);

  Thread *t;
  {
    Lock lock;
    uint32_t slot = 0;
    while (slot < kMaxThreads && g_used[slot])
      ++slot;
    if (slot == kMaxThreads) {
      warn("more than %u threads at once: pthread_create fails with EAGAIN", kMaxThreads);
      return EAGAIN;
    }
    t = g_slots[slot] ? g_slots[slot] : new Thread;
    *t = Thread();
    t->slot = slot;
    t->index = g_next_index++;
    t->start = start;
    t->arg = arg;
    t->detached = detach == PTHREAD_CREATE_DETACHED;
    t->user_stack = user_stack;
    t->std_thread = from_libstdcxx(start);
    t->pooled = from_pool(start);
    if (t->pooled)
      t->pool_index = ++g_pool_started;
    if (user_stack) {
      t->stack_addr = reinterpret_cast<uintptr_t>(user_addr);
      t->stack_size = user_size;
    } else {
      t->stack_size = stack_size_for(want);
      t->stack_addr = stack_for(slot, t->stack_size);
    }
    g_used[slot] = true;
    __atomic_store_n(&g_slots[slot], t, __ATOMIC_RELEASE);
    if (slot + 1 > g_nslots)
      __atomic_store_n(&g_nslots, slot + 1, __ATOMIC_RELEASE);
    if (!t->pooled)
      ++g_live;
  }
  pthread_attr_setdetachstate(&a, PTHREAD_CREATE_JOINABLE);
  if (!user_stack)
    pthread_attr_setstack(&a, reinterpret_cast<void *>(t->stack_addr), t->stack_size);
  int rc = real_create()(out, &a, thread_entry, t);
  if (!attr)
    pthread_attr_destroy(&a);
  if (rc != 0) {
    Lock lock;
    if (!t->pooled)
      --g_live;
    t->status = Status::Exited;
    release(t);
    return rc;
  }
  t->handle = *out;
  return 0;
}

bool team_enter(bool deferring) {
  Thread *t = t_self;
  if (!t)
    return true;  // a thread the runtime does not know (made before the program ran)
  Lock lock;
  if (g_phase == Phase::Writing || (g_phase == Phase::Stopping && !deferring))
    return false;
  t->in_team = true;
  ++g_live;
  if (__atomic_load_n(&g_requested, __ATOMIC_SEQ_CST))
    state::raise(&__autockpt_state);
  return true;
}

void team_leave() {
  Thread *t = t_self;
  if (!t)
    return;
  bool writer;
  {
    Lock lock;
    t->in_team = false;
    writer = leave_locked();
  }
  if (writer)
    control::write_checkpoint();
}

std::vector<std::pair<uint32_t, pthread_t>> pooled_threads() {
  RuntimeHeap runtime_heap;
  std::vector<std::pair<uint32_t, pthread_t>> out;
  Lock lock;
  for (uint32_t k = 0; k < g_nslots; ++k)
    if (Thread *t = g_slots[k]; t && g_used[k] && t->pooled && t->status == Status::Running)
      out.push_back({t->pool_index, t->handle});
  return out;
}

// glibc on x86-64: a thread's pthread_t is its thread pointer.
std::string tls_of(pthread_t th) {
  RuntimeHeap runtime_heap;
  find_tls();
  std::string out(g_tls_bytes, '\0');
  uint64_t at = 0;
  for (const TlsVar &v : *g_tls) {
    memcpy(&out[at], reinterpret_cast<void *>(uintptr_t(th) + v.offset), v.size);
    at += v.size;
  }
  return out;
}

void set_own_tls(const std::string &bytes) {
  find_tls();
  if (bytes.size() != g_tls_bytes)
    fatal("the checkpoint holds %zu bytes of thread-local variables for an OpenMP worker, this "
          "program has %llu; the image does not match this program", bytes.size(),
          (unsigned long long)g_tls_bytes);
  uintptr_t tp = thread_pointer();
  uint64_t at = 0;
  for (const TlsVar &v : *g_tls) {
    memcpy(reinterpret_cast<void *>(tp + v.offset), &bytes[at], v.size);
    at += v.size;
  }
}

uint64_t thread_local_bytes() {  // at every nested fork: no lock
  return __atomic_load_n(&g_tls, __ATOMIC_ACQUIRE) ? g_tls_bytes : 0;  // found at the first start
}

bool running_phase() {
  Lock lock;
  return g_phase == Phase::Running;
}

void joined(pthread_t th) {
  Lock lock;
  if (Thread *t = find(th))
    release(t);
}

int join(pthread_t th, void **ret) {
  int rc = real_join()(th, ret);
  if (rc == 0)
    joined(th);
  return rc;
}

int detach(pthread_t th) {
  Lock lock;
  Thread *t = find(th);
  if (!t) {
    static auto fn = next<int (*)(pthread_t)>("pthread_detach");
    return fn(th);
  }
  if (t->detached)
    return EINVAL;
  t->detached = true;  // reaped (joined by the runtime) once it has exited
  return 0;
}

[[noreturn]] void exit_thread(void *value) {
  static auto fn = next<ExitFn>("pthread_exit");
  if (Thread *t = t_self) {
    t->retval = value;
    run_thread_dtors(t->index);  // before the stack unwinds: still under the thread's root
    run_key_dtors(t->index);
  }
  fn(value);
  __builtin_unreachable();
}

}  // namespace autockpt::threads

// Defined in the executable, these come before the C library's for the program and for every
// library it loads (libstdc++'s std::thread calls pthread_create).
extern "C" {
int pthread_create(pthread_t *out, const pthread_attr_t *attr, void *(*start)(void *), void *arg) {
  return autockpt::threads::create(out, attr, start, arg);
}
int pthread_join(pthread_t th, void **ret) { return autockpt::threads::join(th, ret); }
int pthread_detach(pthread_t th) { return autockpt::threads::detach(th); }
void pthread_exit(void *value) { autockpt::threads::exit_thread(value); }
}
