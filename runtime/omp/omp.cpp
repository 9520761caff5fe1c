// OpenMP parallel regions that checkpoint from inside (DESIGN D8, docs/design.md O1-O11).
// Instrumented code calls the runtime's __kmpc_fork_call (include/autockpt/redirects.def): the
// master forks through libomp with a microtask of the runtime's, which runs the program's
// outlined function on each thread of the team.  At a checkpoint every member saves its own
// outlined frames: the master's stay on its own record stack, below the frames of the caller
// of the fork, and the workers' go into the team's record, which the runtime's fork pushes
// when it returns unwinding.  Re-entered, the fork is made again with the saved team size and
// each member re-enters its own frames by thread number, at the same stack addresses.
// What lives in libomp's memory is lost at a restart, so each wait of a team (barriers, the
// end of the region) is the runtime's and a safe point.  What it leaves to others: threads/
// counts the pool's workers while they are in a team; control.cpp's stack walk crosses the
// libomp frames between the fork and the microtask (push_bridge).  A nested team's workers run
// their members on stacks of the runtime's, chosen by their place in the teams (O11).
#include "autockpt/abi.h"
#include "control.h"
#include "frames.h"
#include "image/format.h"
#include "layers.h"
#include "log.h"
#include "state.h"
#include "threads/threads.h"

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdarg>
#include <cstdint>
#include <cstring>
#include <linux/futex.h>
#include <sched.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <string>
#include <vector>

// libomp's ABI (kmp.h); weak, so that the runtime links into programs without OpenMP.
extern "C" {
struct ident_t;
using kmpc_micro = void (*)(int32_t *gtid, int32_t *btid, ...);
[[gnu::weak]] void __kmpc_fork_call(ident_t *, int32_t, kmpc_micro, ...);
[[gnu::weak]] void __kmpc_push_num_threads(ident_t *, int32_t, int32_t);
[[gnu::weak]] int32_t __kmpc_global_thread_num(ident_t *);
[[gnu::weak]] void __kmpc_barrier(ident_t *, int32_t);
[[gnu::weak]] void *__kmpc_omp_task_alloc(ident_t *, int32_t, int32_t, size_t, size_t, void *);
[[gnu::weak]] void __kmpc_for_static_init_4(ident_t *, int32_t, int32_t, int32_t *, int32_t *,
                                            int32_t *, int32_t *, int32_t, int32_t);
[[gnu::weak]] void __kmpc_for_static_init_4u(ident_t *, int32_t, int32_t, int32_t *, uint32_t *,
                                             uint32_t *, int32_t *, int32_t, int32_t);
[[gnu::weak]] void __kmpc_for_static_init_8(ident_t *, int32_t, int32_t, int32_t *, int64_t *,
                                            int64_t *, int64_t *, int64_t, int64_t);
[[gnu::weak]] void __kmpc_for_static_init_8u(ident_t *, int32_t, int32_t, int32_t *, uint64_t *,
                                             uint64_t *, int64_t *, int64_t, int64_t);
[[gnu::weak]] void __kmpc_for_static_fini(ident_t *, int32_t);
[[gnu::weak]] void __kmpc_push_proc_bind(ident_t *, int32_t, int);
[[gnu::weak]] void __kmpc_serialized_parallel(ident_t *, int32_t);
[[gnu::weak]] void __kmpc_end_serialized_parallel(ident_t *, int32_t);
[[gnu::weak]] void __kmpc_copyprivate(ident_t *, int32_t, size_t, void *, void (*)(void *, void *),
                                      int32_t);
[[gnu::weak]] void *__kmpc_threadprivate_cached(ident_t *, int32_t, void *, size_t, void ***);
[[gnu::weak]] int32_t __kmpc_omp_task(ident_t *, int32_t, void *);
[[gnu::weak]] int32_t __kmpc_omp_task_with_deps(ident_t *, int32_t, void *, int32_t, void *,
                                                int32_t, void *);
[[gnu::weak]] void __kmpc_omp_wait_deps(ident_t *, int32_t, int32_t, void *, int32_t, void *);
[[gnu::weak]] void __kmpc_omp_task_begin_if0(ident_t *, int32_t, void *);
[[gnu::weak]] void __kmpc_omp_task_complete_if0(ident_t *, int32_t, void *);
[[gnu::weak]] int32_t __kmpc_omp_taskwait(ident_t *, int32_t);
[[gnu::weak]] int32_t __kmpc_omp_taskyield(ident_t *, int32_t, int);
[[gnu::weak]] void __kmpc_taskgroup(ident_t *, int32_t);
[[gnu::weak]] void __kmpc_end_taskgroup(ident_t *, int32_t);
[[gnu::weak]] void __kmpc_taskloop(ident_t *, int32_t, void *, int32_t, uint64_t *, uint64_t *,
                                   int64_t, int32_t, int32_t, uint64_t, void *);
[[gnu::weak]] void __kmpc_taskloop_5(ident_t *, int32_t, void *, int32_t, uint64_t *, uint64_t *,
                                     int64_t, int32_t, int32_t, uint64_t, int32_t, void *);
[[gnu::weak]] int omp_get_num_threads();
[[gnu::weak]] int omp_get_max_threads();
[[gnu::weak]] void omp_set_num_threads(int);
[[gnu::weak]] void omp_get_schedule(int *kind, int *chunk);
[[gnu::weak]] int omp_get_thread_num();
[[gnu::weak]] int omp_get_level();
[[gnu::weak]] int omp_get_ancestor_thread_num(int);
[[gnu::weak]] int omp_get_dynamic();
[[gnu::weak]] void omp_set_dynamic(int);
[[gnu::weak]] int omp_get_max_active_levels();
[[gnu::weak]] void omp_set_max_active_levels(int);
[[gnu::weak]] void omp_set_schedule(int kind, int chunk);
// The runtime's fork (below): its frame is the outer end of the master's bridge.
void __autockpt___kmpc_fork_call(ident_t *loc, int32_t argc, kmpc_micro fn, ...);
}

namespace autockpt::omp {

namespace {

constexpr int kMaxTeam = 256;  // threads in one team
constexpr int kMaxArgs = 32;   // shared variables of one region
constexpr int kMaxDepth = 8;   // regions nested on one thread
constexpr int kSpin = 200;     // pauses before a wait sleeps
constexpr long kSlice = 5'000'000;  // ns: how late a sleeping member notices a request
// A worker's outlined frames start this far under its stack's top, so that they have the same
// addresses after a restart whatever libomp's frames above them take (O4).
constexpr uintptr_t kWorkerDepth = 64 << 10;
constexpr autockpt_u64 kTeamFid = 0x6f6d702d7465616dull;  // "omp-team"
constexpr uint32_t kTeamMagic = 0x6f6d7031;                // "omp1"

enum MemberState : uint32_t { NotStarted = 0, Running = 1, Done = 2, Saved = 3 };

// What a member has done of the team's worksharing constructs: saved in the team record, with
// the team's side (Shared), since libomp's own counters are lost at a restart (O6).
struct Progress {
  uint32_t singles = 0;     // `single` constructs met
  uint32_t loops = 0;       // dispatched loops started
  uint64_t static_next = 0;  // a statically dispatched loop: its next chunk
  uint64_t ord_iter = 0;     // an ordered loop: the iteration this member runs
  uint32_t ord_passed = 0;   // ... and whether it has let the next one have its turn
};

struct Member {
  std::atomic<uint32_t> state{NotStarted};
  uint64_t place = ~0ull;    // a nested team's member: its place and stack (member_stack)
  uintptr_t stack_top = 0;
  uintptr_t sp = 0;       // where its outlined frames start (enter_at)
  Progress progress;
  frames::Stack frames;  // a worker's saved frames (the master's are on its own stack)
};

// A loop scheduled by __kmpc_dispatch_*: iterations 0..trip-1 of lb, lb+st, ...
constexpr int kLoopRing = 16;
enum LoopKind : uint32_t { LoopStatic = 1, LoopStaticChunked, LoopDynamic, LoopGuided };
struct Loop {
  uint32_t seq = 0;   // 1 + the number of the loop it holds (0: none)
  uint32_t kind = 0;
  int64_t lb = 0, st = 1, chunk = 1;
  uint64_t trip = 0;
  std::atomic<uint64_t> next{0};  // the first iteration not handed out (dynamic, guided)
  bool ordered = false;
  std::atomic<uint32_t> ordered_next{0};  // the iteration whose `ordered` region may run (low 32 bits)
};
struct Shared {
  std::atomic<uint32_t> singles{0};  // `single` constructs claimed
  Loop loops[kLoopRing];
};

struct Team {
  int level = 0;          // 1: forked outside any team of the runtime's; 2: inside one (O11)
  uint32_t root = 0;      // the thread that forked the level-1 team (threads/' index; main: 0)
  int parent_member = 0;  // the forking thread's number in its own team (level 2)
  kmpc_micro fn = nullptr;
  int argc = 0;
  void *args[kMaxArgs] = {};
  std::atomic<int> size{0};
  std::atomic<int> done{0};           // workers that have left (finished, saved or not started)
  std::atomic<int> master_sleeps{0};
  std::atomic<bool> unwinding{false};  // the master is unwinding: late workers do not start
  std::atomic<uint64_t> bar{0};        // the barrier: round << 32 | arrived
  // A member has made a task: until the region ends no member takes part in a checkpoint (a
  // task runs from libomp's frames, on any member), and barriers end in libomp's (O8).
  bool tasks = false;
  bool round_tasks = false;  // tasks, as the last member to come to a barrier saw it
  bool restoring = false;              // made again from a team record
  int saved_size = 0;
  int used = 0;                        // members to reset before the next fork
  std::atomic<uint32_t> loop_lock{0};  // making a Loop
  std::atomic<uint32_t> reduce_lock{0};
  Shared shared;
  Member members[kMaxTeam];
};
thread_local int t_member;  // this thread's number in t_team
thread_local Team *t_outer_team;  // the team this thread was a member of before t_team
thread_local bool t_reducing;  // holds its team's reduce_lock

thread_local Team *t_teams[kMaxDepth];
thread_local int t_depth;
thread_local Team *t_team;  // the innermost team this thread runs a member of
// This thread's libomp id, once it has run a member (a thread keeps its id for its life); -1
// before.  libomp calls get it, not the id a re-entered frame holds (O11).
thread_local int32_t t_gtid = -1;
bool g_said_nested_tls;  // logged that nested teams defer (O11)
inline int32_t own_gtid(int32_t frame_gtid) { return t_gtid >= 0 ? t_gtid : frame_gtid; }

// ---- Waiting ------------------------------------------------------------------------------

void futex_wait(void *addr, uint32_t expected) {
  timespec slice = {0, kSlice};
  syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, expected, &slice, nullptr, 0);
}
void futex_wake(void *addr) { syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0); }

inline void pause() { __builtin_ia32_pause(); }

uint64_t now_ns() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return uint64_t(t.tv_sec) * 1'000'000'000 + uint64_t(t.tv_nsec);
}

// Whether a waiting member goes on spinning (it has paused or yielded its core once more) or is
// to sleep: it pauses kSpin times, then yields for up to kSpinNs (libomp spins 200 ms by
// default).  Sleeping at once cost LU's pipelined loops a futex wake at every barrier: 10x.
constexpr uint64_t kSpinNs = 10'000'000;
bool spin_more(int spin, uint64_t *since) {
  if (spin < kSpin) {
    pause();
    return true;
  }
  if (spin == kSpin)
    *since = now_ns();
  else if ((spin & 63) == 0 && now_ns() - *since > kSpinNs)
    return false;
  sched_yield();
  return true;
}

// A checkpoint is asked for: whether this thread stops here (it is then unwinding).
[[gnu::noinline]] bool stop_here() {
  return (state::flag() & state::kRequestBit) &&
         control::poll_uncounted(reinterpret_cast<uintptr_t>(__builtin_dwarf_cfa()));
}

// The round word of the barrier (its high half).
uint32_t *round_of(Team *t) { return reinterpret_cast<uint32_t *>(&t->bar) + 1; }

// Every member has come to the barrier: if the team made tasks, they all go through libomp's
// barrier too, which runs the pending tasks (all or none of them: round_tasks is one value).
bool through(Team *t) {
  if (t->round_tasks)
    __kmpc_barrier(nullptr, __kmpc_global_thread_num(nullptr));
  return true;
}

// The team's barrier.  Returns false if the thread stopped in it for a checkpoint: it has
// withdrawn (the count is as if it had not come), and the call is made again after the
// restore, so no thread is ever counted in a barrier in an image.
bool barrier(Team *t) {
  const uint64_t n = uint64_t(t->size.load(std::memory_order_relaxed));
  if (n <= 1) {
    if (__atomic_load_n(&t->tasks, __ATOMIC_ACQUIRE))
      __kmpc_barrier(nullptr, __kmpc_global_thread_num(nullptr));  // runs the pending tasks
    return !stop_here();
  }
  for (;;) {
    uint64_t w = t->bar.fetch_add(1, std::memory_order_acq_rel) + 1;
    uint32_t round = uint32_t(w >> 32);
    if ((w & 0xffffffffu) == n) {  // the last one: nobody withdraws from a full round
      t->round_tasks = __atomic_load_n(&t->tasks, __ATOMIC_ACQUIRE);
      t->bar.store(uint64_t(round + 1) << 32, std::memory_order_release);
      futex_wake(round_of(t));
      return through(t);
    }
    bool again = false;
    uint64_t since = 0;
    for (int spin = 0; !again; ++spin) {
      uint64_t cur = t->bar.load(std::memory_order_acquire);
      if (uint32_t(cur >> 32) != round)
        return through(t);
      if (state::flag() & state::kRequestBit) {
        bool out = false;
        while (uint32_t(cur >> 32) == round && (cur & 0xffffffffu) < n)
          if (t->bar.compare_exchange_weak(cur, cur - 1, std::memory_order_acq_rel)) {
            out = true;
            break;
          }
        if (out) {
          if (control::poll_uncounted(reinterpret_cast<uintptr_t>(__builtin_dwarf_cfa())))
            return false;
          again = true;  // no checkpoint after all: come again
          continue;
        }
        // The round is full or over: through.
        while (uint32_t(t->bar.load(std::memory_order_acquire) >> 32) == round)
          pause();
        return through(t);
      }
      if (!spin_more(spin, &since))
        futex_wait(round_of(t), round);
    }
  }
}

// ---- Running a member ---------------------------------------------------------------------

// Calls the outlined function: the frame right above the program's frames of a member, the
// root a worker unwinds to, and the inner end of the master's bridge.
[[gnu::noinline]] void invoke(Team *t, int32_t *gtid, int32_t *btid) {
  void **a = t->args;
  kmpc_micro f = t->fn;
  switch (t->argc) {
#define A1 a[0]
#define A2 A1, a[1]
#define A3 A2, a[2]
#define A4 A3, a[3]
#define A5 A4, a[4]
#define A6 A5, a[5]
#define A7 A6, a[6]
#define A8 A7, a[7]
#define A9 A8, a[8]
#define A10 A9, a[9]
#define A11 A10, a[10]
#define A12 A11, a[11]
#define A13 A12, a[12]
#define A14 A13, a[13]
#define A15 A14, a[14]
#define A16 A15, a[15]
#define A17 A16, a[16]
#define A18 A17, a[17]
#define A19 A18, a[18]
#define A20 A19, a[19]
#define A21 A20, a[20]
#define A22 A21, a[21]
#define A23 A22, a[22]
#define A24 A23, a[23]
#define A25 A24, a[24]
#define A26 A25, a[25]
#define A27 A26, a[26]
#define A28 A27, a[27]
#define A29 A28, a[28]
#define A30 A29, a[29]
#define A31 A30, a[30]
#define A32 A31, a[31]
#define CASE(k) \
  case k:       \
    f(gtid, btid, A##k); \
    break;
    case 0:
      f(gtid, btid);
      break;
    CASE(1) CASE(2) CASE(3) CASE(4) CASE(5) CASE(6) CASE(7) CASE(8) CASE(9) CASE(10) CASE(11)
    CASE(12) CASE(13) CASE(14) CASE(15) CASE(16) CASE(17) CASE(18) CASE(19) CASE(20) CASE(21)
    CASE(22) CASE(23) CASE(24) CASE(25) CASE(26) CASE(27) CASE(28) CASE(29) CASE(30) CASE(31)
    CASE(32)
#undef CASE
  }
  asm volatile("" ::: "memory");  // not a tail call: this frame is the root
}

// Calls invoke with its frame at `target` (16-byte aligned, at or under this frame): the same
// target gives the outlined frames the same addresses.
[[gnu::noinline]] void enter_at(uintptr_t target, Team *t, int32_t *gtid, int32_t *btid) {
  auto fp = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
  if (fp < target)
    fatal("an OpenMP thread re-enters its region with less stack above its frames than at the "
          "checkpoint (%#lx, saved %#lx); the OpenMP runtime or its settings changed",
          (unsigned long)fp, (unsigned long)target);
  size_t pad = fp - target;
  auto *p = static_cast<char *>(__builtin_alloca(pad));
  asm volatile("" ::"r"(p) : "memory");
  invoke(t, gtid, btid);
  asm volatile("" ::: "memory");
}

uintptr_t frame_here() {
  return reinterpret_cast<uintptr_t>(__builtin_frame_address(0)) & ~uintptr_t(15);
}

// ---- Member stacks (O11) ----------------------------------------------------------------------
// A worker of a nested team (level 2) runs its member on a stack of the runtime's, chosen by its
// place in the teams (the thread that forked the outer team, the outer member that forked this
// one, its own number), not on its thread's: libomp hands a nested team whichever pooled threads
// are free, in no fixed order, and a restart must find the member's frames at their saved
// addresses.  Places get slots in the order they are first seen; the table is in the OpenMP
// section, so a restart gives every place its slot again, and new places other slots.
constexpr uintptr_t kMemberStacksTop = 0x2e0000000000ull;  // under the thread stacks (threads.cpp)
constexpr uint64_t kMemberSlot = 64ull << 20;
constexpr uint32_t kMemberSlots = 4096;
constexpr uint64_t kPageSize = 4096;
constexpr uintptr_t kMemberIds = 64;  // the member's gtid and btid, at its stack's top

std::atomic<uint32_t> g_slots_lock{0};
std::vector<uint64_t> *g_slot_places;  // by slot: its place (place_of)
bool g_slot_mapped[kMemberSlots];

void spin_lock(std::atomic<uint32_t> *l);
void spin_unlock(std::atomic<uint32_t> *l);

uint64_t place_of(const Team *t, int k) {
  return uint64_t(t->root) << 32 | uint64_t(t->parent_member) << 16 | uint64_t(k);
}
uintptr_t member_top(uint32_t slot) { return kMemberStacksTop - uint64_t(slot) * kMemberSlot; }

// The top of the member stack of member k of the nested team t, mapped on first use (a guard
// page at its bottom).
uintptr_t member_stack(Team *t, int k) {
  uint64_t place = place_of(t, k);
  Member &m = t->members[k];
  if (m.place == place)
    return m.stack_top;
  spin_lock(&g_slots_lock);
  RuntimeHeap runtime_heap;
  if (!g_slot_places)
    g_slot_places = new std::vector<uint64_t>;
  uint32_t slot = 0;
  while (slot < g_slot_places->size() && (*g_slot_places)[slot] != place)
    ++slot;
  if (slot == g_slot_places->size()) {
    if (slot == kMemberSlots)
      fatal("more than %u members of nested OpenMP teams; autockpt supports at most %u",
            kMemberSlots, kMemberSlots);
    g_slot_places->push_back(place);
  }
  uintptr_t top = member_top(slot);
  if (!g_slot_mapped[slot]) {
    void *want = reinterpret_cast<void *>(top - kMemberSlot);
    void *got = mmap(want, kMemberSlot, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
    if (got != want)
      fatal("cannot map the stack of a nested OpenMP team's member at %p: %s", want,
            strerror(errno));
    mprotect(want, kPageSize, PROT_NONE);
    g_slot_mapped[slot] = true;
  }
  spin_unlock(&g_slots_lock);
  m.place = place;
  m.stack_top = top;
  return top;
}

}  // namespace
}  // namespace autockpt::omp

// Calls fn(arg) on the stack that ends at `top` (16-byte aligned) and returns on the caller's.
// rbp keeps the caller's stack, so unwinders and debuggers cross from one stack to the other.
extern "C" void autockpt_omp_on_stack(uintptr_t top, void (*fn)(void *), void *arg);
asm(R"(
  .text
  .p2align 4
  .globl autockpt_omp_on_stack
  .hidden autockpt_omp_on_stack
  .type autockpt_omp_on_stack, @function
autockpt_omp_on_stack:
  .cfi_startproc
  pushq %rbp
  .cfi_def_cfa_offset 16
  .cfi_offset %rbp, -16
  movq %rsp, %rbp
  .cfi_def_cfa_register %rbp
  movq %rdi, %rsp
  movq %rdx, %rdi
  callq *%rsi
  movq %rbp, %rsp
  popq %rbp
  .cfi_def_cfa %rsp, 8
  retq
  .cfi_endproc
  .size autockpt_omp_on_stack, .-autockpt_omp_on_stack
)");

namespace autockpt::omp {
namespace {

void check_stack(int k, uintptr_t target) {
  if (threads::Thread *self = threads::self())
    if (target < self->stack_addr || target >= self->stack_addr + self->stack_size)
      fatal("OpenMP thread %d runs on another stack than at the checkpoint (the worker threads "
            "were started in another order); its frames cannot be re-entered", k);
}

void run_master(Team *t, int32_t *gtid, int32_t *btid);
void run_worker(Team *t, int k, int32_t *gtid, int32_t *btid);

// The microtask libomp runs on every member of the team.
void microtask(int32_t *gtid, int32_t *btid, Team *t) {
  int n = omp_get_num_threads();
  if (n > kMaxTeam)
    fatal("an OpenMP team of %d threads; autockpt supports at most %d", n, kMaxTeam);
  t->size.store(n, std::memory_order_relaxed);
  int k = *btid;
  t_gtid = *gtid;
  Team *outer = t_team;
  int outer_member = t_member;
  Team *outer_outer = t_outer_team;
  t_outer_team = outer;
  t_team = t;
  t_member = k;
  if (k == 0)
    run_master(t, gtid, btid);
  else
    run_worker(t, k, gtid, btid);
  t_team = outer;
  t_member = outer_member;
  t_outer_team = outer_outer;
}

void leave(Team *t) {
  t->done.fetch_add(1, std::memory_order_acq_rel);
  if (t->master_sleeps.load(std::memory_order_seq_cst))
    futex_wake(&t->done);
}

void run_master(Team *t, int32_t *gtid, int32_t *btid) {
  Member &m = t->members[0];
  int n = t->size.load(std::memory_order_relaxed);
  if (t->restoring && n != t->saved_size)
    fatal("the checkpointed OpenMP team had %d threads, but the OpenMP runtime started %d now "
          "(OMP_THREAD_LIMIT, OMP_DYNAMIC?); the region cannot be re-entered", t->saved_size, n);
  uint32_t st = m.state.load(std::memory_order_relaxed);
  if (!t->restoring || st != Done) {
    uintptr_t target = t->restoring && st == Saved ? m.sp : frame_here() - 1024;
    if (t->restoring && st == Saved)
      check_stack(0, target);
    m.sp = target;
    m.state.store(Running, std::memory_order_relaxed);
    control::push_bridge(reinterpret_cast<uintptr_t>(&invoke),
                         reinterpret_cast<uintptr_t>(&__autockpt___kmpc_fork_call), &t->tasks);
    enter_at(target, t, gtid, btid);
    control::pop_bridge();
    if (state::mode() == AUTOCKPT_MODE_UNWINDING) {
      m.state.store(Saved, std::memory_order_relaxed);
      t->unwinding.store(true, std::memory_order_release);
      return;
    }
  }
  m.state.store(Done, std::memory_order_relaxed);
  // The end of the region: libomp's own wait for the workers is not a safe point, this is.
  uint64_t since = 0;
  for (int spin = 0;; ++spin) {
    int d = t->done.load(std::memory_order_acquire);
    if (d >= n - 1)
      break;
    if (!__atomic_load_n(&t->tasks, __ATOMIC_ACQUIRE) && stop_here()) {
      t->unwinding.store(true, std::memory_order_release);
      return;
    }
    if (spin_more(spin, &since))
      continue;
    t->master_sleeps.store(1, std::memory_order_seq_cst);
    if (t->done.load(std::memory_order_seq_cst) == d)
      futex_wait(&t->done, uint32_t(d));
    t->master_sleeps.store(0, std::memory_order_relaxed);
  }
}

const bool *t_team_outer_tasks() { return t_outer_team ? &t_outer_team->tasks : nullptr; }

void take_tls();
thread_local bool t_tls_taken_fwd;

void run_worker(Team *t, int k, int32_t *gtid, int32_t *btid) {
  if (!t_tls_taken_fwd) {
    t_tls_taken_fwd = true;
    take_tls();
  }
  Member &m = t->members[k];
  uint32_t st = m.state.load(std::memory_order_relaxed);
  if (t->restoring && st == Done)
    return leave(t);
  // A checkpoint under way waits for the team's members only: one that comes late starts
  // after it, or not at all if its master is unwinding (the region is forked again).
  while (!threads::team_enter(__atomic_load_n(&t->tasks, __ATOMIC_ACQUIRE))) {
    if (t->unwinding.load(std::memory_order_acquire))
      return leave(t);  // state unchanged: NotStarted, or Saved with its frames kept
    usleep(100);
  }
  uintptr_t target;
  uintptr_t stack_top = 0;  // a nested team's worker: the top of its member stack (O11)
  if (t->level == 2)
    stack_top = member_stack(t, k);
  threads::Thread *self = threads::self();
  if (t->restoring && st == Saved) {
    target = m.sp;
    if (stack_top && (target > stack_top || target < stack_top - kMemberSlot + kWorkerDepth))
      fatal("the saved frames of nested OpenMP team member %d are not on its member stack; the "
            "checkpoint does not match this build", k);
    if (!stack_top)
      check_stack(k, target);
  } else {
    if (stack_top) {
      target = stack_top - 4096;
    } else {
      target = frame_here() - 1024;
      if (self && self->stack_addr + self->stack_size - kWorkerDepth < target)
        target = (self->stack_addr + self->stack_size - kWorkerDepth) & ~uintptr_t(15);
    }
    m.sp = target;
    m.frames.records.clear();
    m.frames.buffer.clear();
  }
  frames::Stack *outer_frames = frames::current();
  frames::set_current(&m.frames);
  uintptr_t outer_root = control::swap_root(reinterpret_cast<uintptr_t>(&invoke));
  control::set_root_blocker(&t->tasks);
  if (t->restoring && st == Saved) {
    frames::begin_restore();
    state::mode() = AUTOCKPT_MODE_RESTORING;
  }
  m.state.store(Running, std::memory_order_relaxed);
  if (stack_top) {
    // The outlined function gets its ids through pointers, and at -O0 keeps the pointers in its
    // frame: they must point at cells of the member stack (its top 64 bytes), not into the stack
    // of the thread that ran the member before, which a restart does not make again.
    auto *ids = reinterpret_cast<int32_t *>(stack_top - kMemberIds);
    ids[0] = *gtid;
    ids[1] = *btid;
    struct Entry {
      uintptr_t target;
      Team *t;
      int32_t *gtid, *btid;
    } e = {target, t, &ids[0], &ids[1]};
    autockpt_omp_on_stack(
        stack_top - kMemberIds,
        [](void *p) {
          auto *e = static_cast<Entry *>(p);
          enter_at(e->target, e->t, e->gtid, e->btid);
        },
        &e);
  } else {
    enter_at(target, t, gtid, btid);
  }
  if (state::mode() == AUTOCKPT_MODE_UNWINDING) {
    m.state.store(Saved, std::memory_order_relaxed);
    state::mode() = AUTOCKPT_MODE_RUNNING;  // back to libomp's pool
  } else {
    m.state.store(Done, std::memory_order_relaxed);
  }
  control::swap_root(outer_root);
  control::set_root_blocker(t_team_outer_tasks());
  frames::set_current(outer_frames);
  threads::team_leave();
  leave(t);
}


// ---- Worksharing (O6) ---------------------------------------------------------------------

// A lock that a thread holds only for a few instructions: no safe point while waiting.
void spin_lock(std::atomic<uint32_t> *l) {
  for (int spin = 0;; ++spin) {
    uint32_t free = 0;
    if (l->compare_exchange_weak(free, 1, std::memory_order_acquire))
      return;
    if (spin < kSpin)
      pause();
    else
      sched_yield();
  }
}
void spin_unlock(std::atomic<uint32_t> *l) { l->store(0, std::memory_order_release); }

// `single`: the member that claims the next construct runs it.
int single() {
  Team *t = t_team;
  if (!t)
    return 1;
  uint32_t mine = t->members[t_member].progress.singles++;
  uint32_t expect = mine;
  return t->shared.singles.compare_exchange_strong(expect, mine + 1) ? 1 : 0;
}

constexpr int32_t kSchStaticChunked = 33, kSchStatic = 34, kSchDynamic = 35, kSchGuided = 36,
                  kSchRuntime = 37, kSchAuto = 38, kSchGuidedIterative = 42,
                  kSchGuidedAnalytical = 43, kSchStaticSteal = 44, kSchStaticBalanced = 45,
                  kSchGuidedSimd = 46, kSchRuntimeSimd = 47, kSchStaticBalancedChunked = 48;
constexpr int32_t kSchLower = 32, kSchOrderedLower = 64, kSchOrderedUpper = 72;

[[noreturn]] void refuse(const char *what) {
  fatal("%s is not supported by autockpt in OpenMP code (docs/design.md O8); build the program "
        "without the autockpt pass, or without this construct", what);
}

LoopKind kind_of(int32_t sched, int64_t *chunk) {
  sched &= ~((1 << 29) | (1 << 30));  // monotonic / nonmonotonic modifiers
  if (sched == kSchRuntime || sched == kSchRuntimeSimd) {
    int kind = 1, c = 0;
    if (omp_get_schedule)
      omp_get_schedule(&kind, &c);
    *chunk = c;
    switch (kind & ~int(0x80000000)) {  // omp_sched_monotonic
      case 2:
        return LoopDynamic;
      case 3:
        return LoopGuided;
      case 4:
        return *chunk > 0 ? LoopStaticChunked : LoopStatic;  // auto
      default:
        return *chunk > 0 ? LoopStaticChunked : LoopStatic;
    }
  }
  switch (sched) {
    case kSchStaticChunked:
    case kSchStaticBalancedChunked:
      return LoopStaticChunked;
    case kSchStatic:
    case kSchAuto:
    case kSchStaticBalanced:
    case kSchStaticSteal:
      return LoopStatic;
    case kSchDynamic:
      return LoopDynamic;
    case kSchGuided:
    case kSchGuidedIterative:
    case kSchGuidedAnalytical:
    case kSchGuidedSimd:
      return LoopGuided;
    default:
      fatal("OpenMP loop schedule %d is not known to autockpt", sched);
  }
}

Loop *current_loop(Team *t, Member &m) {
  return &t->shared.loops[(m.progress.loops - 1) % kLoopRing];
}

void dispatch_init(int32_t sched, int64_t lb, int64_t ub, int64_t st, int64_t chunk) {
  Team *t = t_team;
  if (!t)
    fatal("an OpenMP loop outside a parallel region forked by instrumented code; autockpt "
          "cannot schedule it");
  Member &m = t->members[t_member];
  uint32_t seq = ++m.progress.loops;
  m.progress.static_next = 0;
  Loop &l = t->shared.loops[(seq - 1) % kLoopRing];
  // An ordered loop's schedules (libomp's kmp_ord_*) are the plain ones plus 32.
  bool ordered = (sched & ~((1 << 29) | (1 << 30))) >= kSchOrderedLower &&
                 (sched & ~((1 << 29) | (1 << 30))) < kSchOrderedUpper;
  if (ordered)
    sched -= kSchOrderedLower - kSchLower;
  spin_lock(&t->loop_lock);
  if (l.seq != seq) {
    int64_t c = chunk;
    l.kind = kind_of(sched, &c);
    l.ordered = ordered;
    l.ordered_next.store(0, std::memory_order_relaxed);
    l.chunk = c > 0 ? c : 1;
    if (l.kind == LoopStatic)
      l.chunk = 0;
    l.lb = lb;
    l.st = st ? st : 1;
    if (st > 0)
      l.trip = ub >= lb ? uint64_t((ub - lb) / st) + 1 : 0;
    else
      l.trip = lb >= ub ? uint64_t((lb - ub) / -st) + 1 : 0;
    l.next.store(0, std::memory_order_relaxed);
    l.seq = seq;
  }
  spin_unlock(&t->loop_lock);
}

// The next chunk of this member's loop: iterations [*b, *e); false when there is none.
bool dispatch_next(bool *last, int64_t *plb, int64_t *pub, int64_t *pst) {
  Team *t = t_team;
  Member &m = t->members[t_member];
  Loop &l = *current_loop(t, m);
  uint64_t n = uint64_t(t->size.load(std::memory_order_relaxed));
  uint64_t b = 0, e = 0;
  switch (l.kind) {
    case LoopStatic: {
      if (m.progress.static_next++)
        return false;
      uint64_t per = l.trip / n, extra = l.trip % n, k = uint64_t(t_member);
      b = k * per + (k < extra ? k : extra);
      e = b + per + (k < extra ? 1 : 0);
      break;
    }
    case LoopStaticChunked: {
      uint64_t c = uint64_t(l.chunk);
      b = (m.progress.static_next++ * n + uint64_t(t_member)) * c;
      e = b + c;
      break;
    }
    case LoopDynamic:
      b = l.next.fetch_add(uint64_t(l.chunk), std::memory_order_relaxed);
      e = b + uint64_t(l.chunk);
      break;
    case LoopGuided: {
      b = l.next.load(std::memory_order_relaxed);
      for (;;) {
        if (b >= l.trip)
          break;
        uint64_t size = (l.trip - b + 2 * n - 1) / (2 * n);
        if (size < uint64_t(l.chunk))
          size = uint64_t(l.chunk);
        if (l.next.compare_exchange_weak(b, b + size, std::memory_order_relaxed)) {
          e = b + size;
          break;
        }
      }
      break;
    }
  }
  if (b >= l.trip || b >= e)
    return false;
  if (e > l.trip)
    e = l.trip;
  m.progress.ord_iter = b;
  m.progress.ord_passed = 0;
  *last = e == l.trip;
  *plb = l.lb + int64_t(b) * l.st;
  *pub = l.lb + int64_t(e - 1) * l.st;
  *pst = l.st;
  return true;
}

// `ordered` (O10): the loop's ordered_next is the iteration whose turn it is; a member waits for
// its iteration's turn at `ordered` (a safe point) and passes it on at the region's end, or at
// the iteration's end (__kmpc_dispatch_fini, after every iteration of an ordered loop) if the
// iteration did not enter the region.  Both are in the team record, so a restart resumes the
// order where it was.  Iterations are counted in 32 bits for the futex: a loop of more than 2^32
// iterations wraps, which only matters if two members are 2^32 iterations apart.
bool ordered_turn(Loop &l, uint32_t iter) {
  uint64_t since = 0;
  for (int spin = 0;; ++spin) {
    uint32_t now = l.ordered_next.load(std::memory_order_acquire);
    if (now == iter)
      return true;
    if (stop_here())
      return false;
    if (!spin_more(spin, &since))
      futex_wait(&l.ordered_next, now);
  }
}

void ordered_pass(Loop &l, Member &m) {
  l.ordered_next.store(uint32_t(m.progress.ord_iter + 1), std::memory_order_release);
  futex_wake(&l.ordered_next);
  m.progress.ord_passed = 1;
}

void ordered() {
  Team *t = t_team;
  if (!t)
    return;
  Member &m = t->members[t_member];
  Loop &l = *current_loop(t, m);
  if (l.ordered)
    ordered_turn(l, uint32_t(m.progress.ord_iter));
}

void end_ordered() {
  Team *t = t_team;
  if (!t)
    return;
  Member &m = t->members[t_member];
  Loop &l = *current_loop(t, m);
  if (l.ordered)
    ordered_pass(l, m);
}

void dispatch_fini() {
  Team *t = t_team;
  if (!t)
    return;
  Member &m = t->members[t_member];
  Loop &l = *current_loop(t, m);
  if (!l.ordered)
    return;
  if (!m.progress.ord_passed) {
    if (!ordered_turn(l, uint32_t(m.progress.ord_iter)))
      return;  // unwinding: the call is made again when the frames are re-entered
    ordered_pass(l, m);
  }
  ++m.progress.ord_iter;
  m.progress.ord_passed = 0;
}

// `critical`: the lock is the first word of the program's kmp_critical_name (eight words, zero
// at first), so a thread that holds it at a checkpoint holds it after the restart.  Waiting is
// a safe point: the holder may be stopped inside the critical section.
bool critical(std::atomic<uint32_t> *l) {
  uint64_t since = 0;
  for (int spin = 0;; ++spin) {
    uint32_t free = 0;
    if (l->compare_exchange_weak(free, 1, std::memory_order_acquire))
      return true;
    if (stop_here())
      return false;
    if (!spin_more(spin, &since))
      futex_wait(l, 1);
  }
}
void end_critical(std::atomic<uint32_t> *l) {
  l->store(0, std::memory_order_release);
  futex_wake(l);
}

// omp locks: the program's omp_lock_t (8 bytes) holds the state: a simple lock 0 or 1, a
// nestable one its owner (a thread's place in the teams, from 1) and count.
uint32_t owner_id() {
  int level = omp_get_level ? omp_get_level() : 0;
  uint32_t id = 1;
  for (int k = 1; k <= level && k <= 3; ++k)
    id += uint32_t(omp_get_ancestor_thread_num(k)) << (8 * (k - 1));
  return id;
}


// ---- The OpenMP section (O9) ------------------------------------------------------------------
// The settings a program may change (omp_set_num_threads, omp_set_dynamic, max active levels,
// omp_set_schedule), and the thread-local variables of libomp's workers by pool order: their
// `threadprivate` variables outlive a region.  A restart sets the settings again, and each
// worker takes its variables when it first runs a member.

struct Settings {
  uint32_t magic;
  int32_t max_threads, dynamic, max_active_levels, sched_kind, sched_chunk;
  uint32_t npool;
};
constexpr uint32_t kSectionMagic = 0x6f6d7073;  // "omps"

Settings g_saved;
bool g_have_saved;
std::vector<std::string> *g_pool_tls;  // by pool_index - 1

void save_section(image::ImageMeta *, std::string *bytes) {
  if (!omp_get_max_threads)
    return;
  RuntimeHeap runtime_heap;
  Settings st = {kSectionMagic, omp_get_max_threads(), omp_get_dynamic(),
                 omp_get_max_active_levels(), 0, 0, 0};
  omp_get_schedule(&st.sched_kind, &st.sched_chunk);
  std::vector<std::pair<uint32_t, pthread_t>> pool = threads::pooled_threads();
  st.npool = uint32_t(pool.size());
  bytes->append(reinterpret_cast<const char *>(&st), sizeof st);
  for (auto &[index, th] : pool) {
    std::string tls = threads::tls_of(th);
    uint64_t head[2] = {index, tls.size()};
    bytes->append(reinterpret_cast<const char *>(head), sizeof head);
    bytes->append(tls);
  }
  // The member stacks' places (O11), by slot.
  uint64_t nplaces = g_slot_places ? g_slot_places->size() : 0;
  bytes->append(reinterpret_cast<const char *>(&nplaces), sizeof nplaces);
  if (nplaces)
    bytes->append(reinterpret_cast<const char *>(g_slot_places->data()), nplaces * 8);
}

void load_section(const image::ImageMeta &, std::string bytes) {
  if (bytes.size() < sizeof(Settings))
    return;
  RuntimeHeap runtime_heap;
  memcpy(&g_saved, bytes.data(), sizeof g_saved);
  if (g_saved.magic != kSectionMagic)
    fatal("the OpenMP section of the checkpoint is damaged; the image does not match this program");
  g_have_saved = true;
  g_pool_tls = new std::vector<std::string>;
  size_t at = sizeof g_saved;
  for (uint32_t k = 0; k < g_saved.npool; ++k) {
    uint64_t head[2];
    if (at + sizeof head > bytes.size())
      fatal("the OpenMP section of the checkpoint is damaged");
    memcpy(head, bytes.data() + at, sizeof head);
    at += sizeof head;
    if (head[0] == 0 || head[0] > 4096 || at + head[1] > bytes.size())
      fatal("the OpenMP section of the checkpoint is damaged");
    if (g_pool_tls->size() < head[0])
      g_pool_tls->resize(head[0]);
    (*g_pool_tls)[head[0] - 1] = bytes.substr(at, head[1]);
    at += head[1];
  }
  if (at == bytes.size())
    return;  // an image from before nested teams checkpointed (O11)
  uint64_t nplaces;
  if (at + sizeof nplaces > bytes.size())
    fatal("the OpenMP section of the checkpoint is damaged");
  memcpy(&nplaces, bytes.data() + at, sizeof nplaces);
  at += sizeof nplaces;
  if (nplaces > kMemberSlots || at + nplaces * 8 != bytes.size())
    fatal("the OpenMP section of the checkpoint is damaged");
  g_slot_places = new std::vector<uint64_t>(nplaces);
  if (nplaces)
    memcpy(g_slot_places->data(), bytes.data() + at, nplaces * 8);
}

void restart_section() {
  if (!g_have_saved || !omp_get_max_threads)
    return;
  int now = omp_get_max_threads();
  if (now != g_saved.max_threads)
    warn("the checkpointed run had %d OpenMP threads, this one would have %d (OMP_NUM_THREADS): "
         "it goes on with %d, as the checkpointed run did", g_saved.max_threads, now,
         g_saved.max_threads);
  omp_set_num_threads(g_saved.max_threads);
  omp_set_dynamic(g_saved.dynamic);
  omp_set_max_active_levels(g_saved.max_active_levels);
  omp_set_schedule(g_saved.sched_kind, g_saved.sched_chunk);
}

// A worker's first member in this process: its thread-local variables from the checkpoint.
void take_tls() {

  threads::Thread *self = threads::self();
  if (!g_pool_tls || !self || self->pool_index == 0 || self->pool_index > g_pool_tls->size())
    return;
  const std::string &tls = (*g_pool_tls)[self->pool_index - 1];
  if (!tls.empty())
    threads::set_own_tls(tls);
}

constexpr layers::Layer kLayer = {
    "omp", nullptr, nullptr, nullptr, nullptr, unsigned(image::SectionKind::OpenMP),
    save_section, load_section, restart_section, nullptr,
};
AUTOCKPT_LAYER(kLayer);

// ---- The team's record ----------------------------------------------------------------------

struct LoopRecord {
  uint32_t seq, kind;
  int64_t lb, st, chunk;
  uint64_t trip, next;
  uint32_t ordered, ordered_next;
};
struct RecordHead {
  uint32_t magic, size;
  uint32_t max_threads, singles;
  LoopRecord loops[kLoopRing];
};
struct MemberHead {
  uint32_t state, nrecords;
  uint64_t sp, buffer;
  Progress progress;
};

void push_team(Team *t) {
  int n = t->size.load(std::memory_order_relaxed);
  uint64_t bytes = sizeof(RecordHead);
  for (int k = 0; k < n; ++k) {
    bytes += sizeof(MemberHead);
    if (k > 0 && t->members[k].state == Saved)
      bytes += t->members[k].frames.records.size() * sizeof(frames::Record) +
               t->members[k].frames.buffer.size();
  }
  auto *p = static_cast<char *>(__autockpt_push_frame(kTeamFid, 1, 0, bytes));
  RecordHead h = {kTeamMagic, uint32_t(n), uint32_t(omp_get_max_threads()),
                  t->shared.singles.load(), {}};
  for (int k = 0; k < kLoopRing; ++k) {
    const Loop &l = t->shared.loops[k];
    h.loops[k] = {l.seq, l.kind, l.lb, l.st, l.chunk, l.trip, l.next.load(), l.ordered,
                  l.ordered_next.load()};
  }
  memcpy(p, &h, sizeof h);
  p += sizeof h;
  for (int k = 0; k < n; ++k) {
    Member &m = t->members[k];
    bool frames = k > 0 && m.state == Saved;
    MemberHead mh = {m.state.load(), frames ? uint32_t(m.frames.records.size()) : 0, m.sp,
                     frames ? m.frames.buffer.size() : 0, m.progress};
    memcpy(p, &mh, sizeof mh);
    p += sizeof mh;
    if (!frames)
      continue;
    memcpy(p, m.frames.records.data(), mh.nrecords * sizeof(frames::Record));
    p += mh.nrecords * sizeof(frames::Record);
    memcpy(p, m.frames.buffer.data(), mh.buffer);
    p += mh.buffer;
  }
}

void pop_team(Team *t) {
  auto *p = static_cast<const char *>(__autockpt_pop_frame(kTeamFid, 0)) +
            sizeof(autockpt_frame_head);
  RecordHead h;
  memcpy(&h, p, sizeof h);
  p += sizeof h;
  if (h.magic != kTeamMagic || h.size == 0 || h.size > kMaxTeam)
    fatal("the saved OpenMP team record is damaged; the image does not match this program");
  RuntimeHeap runtime_heap;
  t->shared.singles.store(h.singles);
  for (int k = 0; k < kLoopRing; ++k) {
    const LoopRecord &r = h.loops[k];
    Loop &l = t->shared.loops[k];
    l.seq = r.seq;
    l.kind = r.kind;
    l.lb = r.lb;
    l.st = r.st;
    l.chunk = r.chunk;
    l.trip = r.trip;
    l.next.store(r.next);
    l.ordered = r.ordered;
    l.ordered_next.store(r.ordered_next);
  }
  t->restoring = true;
  t->saved_size = int(h.size);
  t->used = int(h.size);
  for (uint32_t k = 0; k < h.size; ++k) {
    MemberHead mh;
    memcpy(&mh, p, sizeof mh);
    p += sizeof mh;
    Member &m = t->members[k];
    m.state.store(mh.state, std::memory_order_relaxed);
    m.sp = mh.sp;
    m.progress = mh.progress;
    m.frames.records.resize(mh.nrecords);
    memcpy(m.frames.records.data(), p, mh.nrecords * sizeof(frames::Record));
    p += mh.nrecords * sizeof(frames::Record);
    m.frames.buffer.assign(p, p + mh.buffer);
    p += mh.buffer;
    m.frames.cursor = 0;
  }
}

Team *fresh_team() {
  if (t_depth >= kMaxDepth)
    fatal("OpenMP parallel regions nested more than %d deep on one thread", kMaxDepth);
  Team *&t = t_teams[t_depth];
  if (!t) {
    RuntimeHeap runtime_heap;
    t = new Team;
  }
  for (int k = 0; k < t->used; ++k) {
    t->members[k].state.store(NotStarted, std::memory_order_relaxed);
    t->members[k].sp = 0;
    t->members[k].progress = Progress();
  }
  t->shared.singles.store(0, std::memory_order_relaxed);
  for (Loop &l : t->shared.loops)
    l.seq = 0;
  t->loop_lock.store(0, std::memory_order_relaxed);
  t->reduce_lock.store(0, std::memory_order_relaxed);
  t->used = 0;
  t->size.store(0, std::memory_order_relaxed);
  t->done.store(0, std::memory_order_relaxed);
  t->master_sleeps.store(0, std::memory_order_relaxed);
  t->unwinding.store(false, std::memory_order_relaxed);
  t->bar.store(0, std::memory_order_relaxed);
  t->tasks = false;
  t->round_tasks = false;
  t->restoring = false;
  t->saved_size = 0;
  return t;
}

}  // namespace

}  // namespace autockpt::omp

extern "C" {

// The runtime's fork: the outer end of the master's bridge (the frame right under libomp's).
[[gnu::noinline]] void __autockpt___kmpc_fork_call(ident_t *loc, int32_t argc, kmpc_micro fn,
                                                   ...) {
  using namespace autockpt;
  using namespace autockpt::omp;
  if (!__kmpc_fork_call)
    fatal("an OpenMP program without the OpenMP runtime (libomp): link with -fopenmp");
  bool restoring = state::mode() == AUTOCKPT_MODE_RESTORING;
  if (!restoring && stop_here())
    return;  // stopped before forking: the call is made again after the restore
  if (argc > kMaxArgs)
    fatal("an OpenMP parallel region with %d shared variables; autockpt supports at most %d",
          argc, kMaxArgs);
  Team *t = fresh_team();
  t->level = t_team ? t_team->level + 1 : 1;
  threads::Thread *self = threads::self();
  t->root = t_team ? t_team->root : self ? self->index : 0;
  t->parent_member = t_team ? t_member : 0;
  // A region nested two deep (three levels) takes no checkpoint: its members defer to the
  // level above, as they do in a team that made tasks (O8).  So does a nested team of a program
  // with thread-local variables: a worker's frames may hold the address of its thread's copy
  // (threadprivate), and a restart may hand the member to another thread (O11).
  if (t->level > 2 || (t->level == 2 && threads::thread_local_bytes() > 0))
    t->tasks = true;
  if (t->level == 2 && t->tasks && !__atomic_exchange_n(&g_said_nested_tls, true, __ATOMIC_RELAXED))
    log(2, "nested OpenMP teams take checkpoints at the outer level: the program has "
           "thread-local variables (threadprivate), which a nested team's member would not find "
           "on the thread that resumes it");
  t->fn = fn;
  t->argc = argc;
  va_list ap;
  va_start(ap, fn);
  for (int k = 0; k < argc; ++k)
    t->args[k] = va_arg(ap, void *);
  va_end(ap);
  if (restoring) {
    pop_team(t);
    __kmpc_push_num_threads(loc, __kmpc_global_thread_num(loc), t->saved_size);
  }
  ++t_depth;
  __kmpc_fork_call(loc, 1, reinterpret_cast<kmpc_micro>(&microtask), t);
  --t_depth;
  int n = t->size.load(std::memory_order_relaxed);
  if (n > t->used)
    t->used = n;
  if (state::mode() == AUTOCKPT_MODE_UNWINDING)
    push_team(t);
  asm volatile("" ::: "memory");
}

void __autockpt___kmpc_barrier(ident_t *loc, int32_t gtid) {
  autockpt::omp::Team *t = autockpt::omp::t_team;
  if (!t)
    return __kmpc_barrier(loc, autockpt::omp::own_gtid(gtid));  // a team the runtime did not fork
  autockpt::omp::barrier(t);
}

int32_t __autockpt___kmpc_single(ident_t *, int32_t) { return autockpt::omp::single(); }
void __autockpt___kmpc_end_single(ident_t *, int32_t) {}

int32_t __autockpt___kmpc_master(ident_t *, int32_t) {
  return autockpt::omp::t_team ? autockpt::omp::t_member == 0 : 1;
}
void __autockpt___kmpc_end_master(ident_t *, int32_t) {}
int32_t __autockpt___kmpc_masked(ident_t *, int32_t, int32_t filter) {
  return (autockpt::omp::t_team ? autockpt::omp::t_member : 0) == filter;
}
void __autockpt___kmpc_end_masked(ident_t *, int32_t) {}

void __autockpt___kmpc_critical(ident_t *, int32_t, int32_t *name) {
  autockpt::omp::critical(reinterpret_cast<std::atomic<uint32_t> *>(name));
}
void __autockpt___kmpc_critical_with_hint(ident_t *, int32_t, int32_t *name, uint32_t) {
  autockpt::omp::critical(reinterpret_cast<std::atomic<uint32_t> *>(name));
}
void __autockpt___kmpc_end_critical(ident_t *, int32_t, int32_t *name) {
  autockpt::omp::end_critical(reinterpret_cast<std::atomic<uint32_t> *>(name));
}

// Reductions: every member adds its part under the team's lock (clang's case 1), then, unless
// nowait, meets the others at the team's barrier in __kmpc_end_reduce (a safe point; the lock is
// let go first, so a call made again after a restore only waits).
int32_t __autockpt___kmpc_reduce_nowait(ident_t *, int32_t, int32_t, size_t, void *,
                                        void (*)(void *, void *), int32_t *) {
  using namespace autockpt::omp;
  if (!t_team)
    return 1;
  spin_lock(&t_team->reduce_lock);
  t_reducing = true;
  return 1;
}
void __autockpt___kmpc_end_reduce_nowait(ident_t *, int32_t, int32_t *) {
  using namespace autockpt::omp;
  if (t_team && t_reducing) {
    t_reducing = false;
    spin_unlock(&t_team->reduce_lock);
  }
}
int32_t __autockpt___kmpc_reduce(ident_t *loc, int32_t gtid, int32_t n, size_t size, void *data,
                                 void (*fn)(void *, void *), int32_t *lck) {
  return __autockpt___kmpc_reduce_nowait(loc, gtid, n, size, data, fn, lck);
}
void __autockpt___kmpc_end_reduce(ident_t *loc, int32_t gtid, int32_t *lck) {
  __autockpt___kmpc_end_reduce_nowait(loc, gtid, lck);
  if (autockpt::omp::t_team)
    autockpt::omp::barrier(autockpt::omp::t_team);
}

#define DISPATCH(suffix, T)                                                                     \
  void __autockpt___kmpc_dispatch_init_##suffix(ident_t *, int32_t, int32_t sched, T lb, T ub, \
                                                 T st, T chunk) {                              \
    autockpt::omp::dispatch_init(sched, int64_t(lb), int64_t(ub), int64_t(st), int64_t(chunk)); \
  }                                                                                             \
  int __autockpt___kmpc_dispatch_next_##suffix(ident_t *, int32_t, int32_t *plast, T *plb,      \
                                               T *pub, T *pst) {                                \
    bool last = false;                                                                          \
    int64_t lb, ub, st;                                                                         \
    if (!autockpt::omp::dispatch_next(&last, &lb, &ub, &st))                                    \
      return 0;                                                                                 \
    if (plast)                                                                                  \
      *plast = last;                                                                            \
    *plb = T(lb);                                                                               \
    *pub = T(ub);                                                                               \
    if (pst)                                                                                    \
      *pst = T(st);                                                                             \
    return 1;                                                                                   \
  }                                                                                             \
  void __autockpt___kmpc_dispatch_fini_##suffix(ident_t *, int32_t) {                       \
    autockpt::omp::dispatch_fini();                                                             \
  }
DISPATCH(4, int32_t)
DISPATCH(4u, uint32_t)
DISPATCH(8, int64_t)
DISPATCH(8u, uint64_t)
#undef DISPATCH
void __autockpt___kmpc_dispatch_deinit(ident_t *, int32_t) {}

void __autockpt___kmpc_ordered(ident_t *, int32_t) { autockpt::omp::ordered(); }
void __autockpt___kmpc_end_ordered(ident_t *, int32_t) { autockpt::omp::end_ordered(); }
void __autockpt___kmpc_doacross_init(ident_t *, int32_t, int32_t, const void *) {
  autockpt::omp::refuse("`ordered(n)` with `depend` (a doacross loop)");
}

// omp locks (O7).  Setting one is a safe point: its holder may be stopped.
void __autockpt_omp_init_lock(uint64_t *l) { __atomic_store_n(l, 0, __ATOMIC_RELEASE); }
void __autockpt_omp_init_lock_with_hint(uint64_t *l, int) { __autockpt_omp_init_lock(l); }
void __autockpt_omp_destroy_lock(uint64_t *l) { __atomic_store_n(l, 0, __ATOMIC_RELEASE); }
void __autockpt_omp_set_lock(uint64_t *l) {
  autockpt::omp::critical(reinterpret_cast<std::atomic<uint32_t> *>(l));
}
void __autockpt_omp_unset_lock(uint64_t *l) {
  autockpt::omp::end_critical(reinterpret_cast<std::atomic<uint32_t> *>(l));
}
int __autockpt_omp_test_lock(uint64_t *l) {
  uint32_t free = 0;
  return reinterpret_cast<std::atomic<uint32_t> *>(l)->compare_exchange_strong(free, 1);
}
void __autockpt_omp_init_nest_lock(uint64_t *l) { __atomic_store_n(l, 0, __ATOMIC_RELEASE); }
void __autockpt_omp_init_nest_lock_with_hint(uint64_t *l, int) {
  __autockpt_omp_init_nest_lock(l);
}
void __autockpt_omp_destroy_nest_lock(uint64_t *l) { __atomic_store_n(l, 0, __ATOMIC_RELEASE); }
int __autockpt_omp_test_nest_lock(uint64_t *l) {
  uint64_t me = autockpt::omp::owner_id();
  uint64_t cur = __atomic_load_n(l, __ATOMIC_ACQUIRE);
  for (;;) {
    if (cur != 0 && uint32_t(cur) != me)
      return 0;
    uint64_t next = cur ? cur + (uint64_t(1) << 32) : (me | (uint64_t(1) << 32));
    if (__atomic_compare_exchange_n(l, &cur, next, false, __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE))
      return int(next >> 32);
  }
}
void __autockpt_omp_set_nest_lock(uint64_t *l) {
  for (int spin = 0;; ++spin) {
    if (__autockpt_omp_test_nest_lock(l))
      return;
    if (autockpt::omp::stop_here())
      return;
    if (spin < 200)
      __builtin_ia32_pause();
    else
      sched_yield();
  }
}
void __autockpt_omp_unset_nest_lock(uint64_t *l) {
  uint64_t cur = __atomic_load_n(l, __ATOMIC_ACQUIRE);
  uint64_t next = (cur >> 32) > 1 ? cur - (uint64_t(1) << 32) : 0;
  __atomic_store_n(l, next, __ATOMIC_RELEASE);
}

// Tasks (O8): the team is marked, and libomp makes and runs them.
void *__autockpt___kmpc_omp_task_alloc(ident_t *loc, int32_t gtid, int32_t flags, size_t size,
                                       size_t shareds, void *entry) {
  if (autockpt::omp::Team *t = autockpt::omp::t_team)
    __atomic_store_n(&t->tasks, true, __ATOMIC_RELEASE);
  return __kmpc_omp_task_alloc(loc, autockpt::omp::own_gtid(gtid), flags, size, shareds, entry);
}

// The calls that take a gtid (redirects.def): libomp gets the calling thread's (O11).
#define OWN(g) autockpt::omp::own_gtid(g)
#define STATIC_INIT(suffix, T, S)                                                              \
  void __autockpt___kmpc_for_static_init_##suffix(ident_t *loc, int32_t gtid, int32_t sched,   \
                                                  int32_t *last, T *lb, T *ub, S *st, S incr,  \
                                                  S chunk) {                                   \
    __kmpc_for_static_init_##suffix(loc, OWN(gtid), sched, last, lb, ub, st, incr, chunk);     \
  }
STATIC_INIT(4, int32_t, int32_t)
STATIC_INIT(4u, uint32_t, int32_t)
STATIC_INIT(8, int64_t, int64_t)
STATIC_INIT(8u, uint64_t, int64_t)
#undef STATIC_INIT
void __autockpt___kmpc_for_static_fini(ident_t *loc, int32_t gtid) {
  __kmpc_for_static_fini(loc, OWN(gtid));
}
void __autockpt___kmpc_push_num_threads(ident_t *loc, int32_t gtid, int32_t n) {
  __kmpc_push_num_threads(loc, OWN(gtid), n);
}
void __autockpt___kmpc_push_proc_bind(ident_t *loc, int32_t gtid, int bind) {
  __kmpc_push_proc_bind(loc, OWN(gtid), bind);
}
void __autockpt___kmpc_serialized_parallel(ident_t *loc, int32_t gtid) {
  __kmpc_serialized_parallel(loc, OWN(gtid));
}
void __autockpt___kmpc_end_serialized_parallel(ident_t *loc, int32_t gtid) {
  __kmpc_end_serialized_parallel(loc, OWN(gtid));
}
void __autockpt___kmpc_copyprivate(ident_t *loc, int32_t gtid, size_t size, void *data,
                                   void (*fn)(void *, void *), int32_t didit) {
  __kmpc_copyprivate(loc, OWN(gtid), size, data, fn, didit);
}
void *__autockpt___kmpc_threadprivate_cached(ident_t *loc, int32_t gtid, void *data, size_t size,
                                             void ***cache) {
  return __kmpc_threadprivate_cached(loc, OWN(gtid), data, size, cache);
}
int32_t __autockpt___kmpc_omp_task(ident_t *loc, int32_t gtid, void *task) {
  return __kmpc_omp_task(loc, OWN(gtid), task);
}
int32_t __autockpt___kmpc_omp_task_with_deps(ident_t *loc, int32_t gtid, void *task, int32_t n,
                                             void *deps, int32_t n_noalias, void *noalias) {
  return __kmpc_omp_task_with_deps(loc, OWN(gtid), task, n, deps, n_noalias, noalias);
}
void __autockpt___kmpc_omp_wait_deps(ident_t *loc, int32_t gtid, int32_t n, void *deps,
                                     int32_t n_noalias, void *noalias) {
  __kmpc_omp_wait_deps(loc, OWN(gtid), n, deps, n_noalias, noalias);
}
void __autockpt___kmpc_omp_task_begin_if0(ident_t *loc, int32_t gtid, void *task) {
  __kmpc_omp_task_begin_if0(loc, OWN(gtid), task);
}
void __autockpt___kmpc_omp_task_complete_if0(ident_t *loc, int32_t gtid, void *task) {
  __kmpc_omp_task_complete_if0(loc, OWN(gtid), task);
}
int32_t __autockpt___kmpc_omp_taskwait(ident_t *loc, int32_t gtid) {
  return __kmpc_omp_taskwait(loc, OWN(gtid));
}
int32_t __autockpt___kmpc_omp_taskyield(ident_t *loc, int32_t gtid, int end_part) {
  return __kmpc_omp_taskyield(loc, OWN(gtid), end_part);
}
void __autockpt___kmpc_taskgroup(ident_t *loc, int32_t gtid) { __kmpc_taskgroup(loc, OWN(gtid)); }
void __autockpt___kmpc_end_taskgroup(ident_t *loc, int32_t gtid) {
  __kmpc_end_taskgroup(loc, OWN(gtid));
}
void __autockpt___kmpc_taskloop(ident_t *loc, int32_t gtid, void *task, int32_t if_val,
                                uint64_t *lb, uint64_t *ub, int64_t st, int32_t nogroup,
                                int32_t sched, uint64_t grainsize, void *dup) {
  __kmpc_taskloop(loc, OWN(gtid), task, if_val, lb, ub, st, nogroup, sched, grainsize, dup);
}
void __autockpt___kmpc_taskloop_5(ident_t *loc, int32_t gtid, void *task, int32_t if_val,
                                  uint64_t *lb, uint64_t *ub, int64_t st, int32_t nogroup,
                                  int32_t sched, uint64_t grainsize, int32_t modifier, void *dup) {
  __kmpc_taskloop_5(loc, OWN(gtid), task, if_val, lb, ub, st, nogroup, sched, grainsize, modifier,
                    dup);
}
#undef OWN

}  // extern "C"
