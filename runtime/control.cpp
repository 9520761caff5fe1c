// The runtime owns main().  The user's main runs on a stack at a fixed address; a checkpoint
// unwinds it back to here (every frame saving itself), the image is written, and the frames
// are re-entered at once (DESIGN D1).  A restart is the same re-entry, from the image on disk.
#include "control.h"

#include "arena.h"
#include "autockpt/abi.h"
#include "background.h"
#include "checkpoint.h"
#include "frames.h"
#include "identity.h"
#include "layers.h"
#include "layout.h"
#include "log.h"
#include "options.h"
#include "registry.h"
#include "state.h"
#include "symbols.h"
#include "trigger.h"

namespace autockpt::exit_handlers {
void after_restore();  // exit_handlers.cpp
}
namespace autockpt::signals {
void after_restore();  // signals.cpp
}
namespace autockpt::environment {
char **arena_environment(char **current);  // environment.cpp
}

#include <cinttypes>
#include <csignal>
#include <ios>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <ucontext.h>
#include <unistd.h>
#include <unwind.h>

extern char **environ;

namespace autockpt::control {

namespace {

Options *g_opts;  // allocated by start(): it runs before the runtime's own constructors
image::GenerationStore *g_store;
ProcessState g_ps;
char **g_argv0;  // the command line as started, for a re-exec
ucontext_t g_runtime_ctx, g_user_ctx;
int g_user_ret;
// The runtime function that calls the user code this thread runs (the user's main, a thread's
// start routine): the outermost frame a checkpoint unwinds to.  Zero on threads of the runtime's
// or the libraries'.
thread_local uintptr_t t_root;
unsigned long long *g_main_state;  // the main thread's state word, for requests
pid_t g_run_pid;  // the process that runs the program (not a child it forked): R27
int g_request_seen;  // a request not yet served by a checkpoint being written
// This thread has re-entered its frames and waits for the others at its next safe point; its
// own flag was raised to bring it to poll_slow.
thread_local bool t_reentry_pending;
bool g_layers_reenter;  // some layer waits for re-entries (threads)
bool g_exiting_after_checkpoint;
bool g_created_dir;  // the checkpoint directory did not exist before this run
// A frame that cannot be unwound (R3 in docs/design.md): the stack address of its top (its
// caller's stack pointer at the call).  A poll whose own frame lies below it is still inside
// the foreign frame's extent and returns at once, without walking the stack again.  Every 2^20
// such polls the stack is walked anyway, in case the program's own stack moved below it.
// Per thread: each thread's stack has its own foreign frames.
thread_local uintptr_t g_foreign_top;
// Polls this thread passed under a foreign frame while a request waited, and at which counts
// the slow path looks at the limits again (AUTOCKPT_DEFER_*) and walks the stack again.
thread_local uint64_t t_deferred, t_next_look, t_next_walk;
thread_local bool t_exception_said;  // this thread has logged its deferral for an exception
constexpr uint64_t kLookEvery = 4096, kWalkEvery = 1 << 20;
int g_defer_reported;  // the pending request has been reported late (said once per request)
int g_serving;         // a safe point has begun to serve the pending request
int g_deferring;       // some thread's poll was refused for the pending request
int g_writing;         // a checkpoint is being written: a request made meanwhile waits for it
uint64_t g_deferred_total, g_deferred_total_seen;  // polls refused, as the watchdog last saw them
uint64_t g_stop_ns;    // when the first thread stopped for the pending request (CLOCK_MONOTONIC)

bool under_foreign_frame(uintptr_t poller_sp) {
  return g_foreign_top && poller_sp < g_foreign_top && ++t_deferred < t_next_look;
}

// ---- Address space -----------------------------------------------------------------------

// Re-executes the program once with address-space randomisation off, so the executable, its
// globals and the libraries sit at the same addresses in every run (DESIGN D3).
void pin_address_space(char **argv) {
  int p = personality(0xffffffff);
  if (p == -1)
    return warn("cannot query the process personality; restarts may refuse the image");
  if (p & ADDR_NO_RANDOMIZE) {
    personality(p & ~ADDR_NO_RANDOMIZE);  // programs this one starts get randomisation back
    return;
  }
  if (personality(p | ADDR_NO_RANDOMIZE) == -1)
    return warn("cannot disable address randomisation (%s); restarts may refuse the image",
                strerror(errno));
  execv("/proc/self/exe", argv);
  warn("cannot re-execute /proc/self/exe (%s); restarts may refuse the image", strerror(errno));
}

void map_stack(uint64_t size) {
  uint64_t page = 4096;
  size = (size + page - 1) & ~(page - 1);
  void *want = reinterpret_cast<void *>(kStackTop - size - page);  // one guard page below
  void *got = mmap(want, size + page, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
  if (got != want)
    fatal("cannot map the program's stack (%llu MiB at %p): %s; lower AUTOCKPT_STACK_SIZE",
          (unsigned long long)(size >> 20), want, strerror(errno));
  mprotect(want, page, PROT_NONE);
  g_ps.stack_base = kStackTop - size;
  g_ps.stack_size = size;
}

// argv and the environment, copied into the arena so pointers into them are saved and stay
// valid in a later run whatever its environment.  Internal AUTOCKPT__ variables are dropped.
char **copy_strings(char **src, int *count) {
  int n = 0;
  while (src && src[n])
    ++n;
  auto **dst = static_cast<char **>(__autockpt_malloc(sizeof(char *) * (n + 1)));
  int k = 0;
  for (int i = 0; i < n; ++i) {
    if (strncmp(src[i], "AUTOCKPT__", 10) == 0)
      continue;
    size_t len = strlen(src[i]) + 1;
    dst[k] = static_cast<char *>(__autockpt_malloc(len));
    memcpy(dst[k++], src[i], len);
  }
  dst[k] = nullptr;
  if (count)
    *count = k;
  return dst;
}

// ---- Running the user's main ---------------------------------------------------------------

pthread_t g_main_thread;  // the thread that runs the program's main

__attribute__((noinline)) void user_main_trampoline() {
  g_user_ret = __autockpt_user_main(g_ps.argc, g_ps.argv, g_ps.envp);
}

void run_user_main() {
  g_main_thread = pthread_self();
  getcontext(&g_user_ctx);
  g_user_ctx.uc_stack.ss_sp = reinterpret_cast<void *>(g_ps.stack_base);
  g_user_ctx.uc_stack.ss_size = g_ps.stack_size;
  g_user_ctx.uc_link = &g_runtime_ctx;
  makecontext(&g_user_ctx, user_main_trampoline, 0);
  swapcontext(&g_runtime_ctx, &g_user_ctx);
}

// ---- Is every frame up to main instrumented? -------------------------------------------------

struct Walk {
  bool reached_main = false;
  bool seen_user_frame = false;
  bool foreign = false;
  uintptr_t foreign_top = 0;
  int bridge = -1;          // the next bridge to cross, innermost first (t_bridges)
  uintptr_t skip_to = 0;    // crossing one: the frames up to this function are a library's
};

// Bridges (push_bridge): library frames between two runtime functions on this thread's stack.
constexpr int kMaxBridges = 16;
thread_local uintptr_t t_bridges[kMaxBridges][2];
thread_local const bool *t_bridge_blocked[kMaxBridges];
thread_local int t_nbridges;
thread_local const bool *t_root_blocked;  // set_root_blocker

// The frames from the innermost instrumented one to the root, for a message: the uninstrumented
// ones named with their library, and the instrumented function that called the outermost.
struct FrameList {
  bool seen_user_frame = false;
  std::string foreign, caller;
  int named = 0, unnamed = 0;  // unnamed: frames without a symbol (a library's static functions)
  bool truncated = false;
};

_Unwind_Reason_Code list_step(_Unwind_Context *ctx, void *arg) {
  auto *l = static_cast<FrameList *>(arg);
  uintptr_t start = _Unwind_GetRegionStart(ctx);
  if (start == t_root)
    return _URC_END_OF_STACK;
  bool mine = registry::is_instrumented_entry(start);
  if (!l->seen_user_frame) {
    l->seen_user_frame = mine;
    return _URC_NO_REASON;  // the runtime's own frames, below the poll
  }
  if (mine) {
    if (!l->foreign.empty() && l->caller.empty())
      l->caller = symbols::describe_frame(_Unwind_GetIP(ctx));
    return _URC_NO_REASON;
  }
  l->caller.clear();  // the caller of the outermost one is wanted
  if (!symbols::function_name_at(_Unwind_GetIP(ctx) - 1)) {
    ++l->unnamed;  // told with the next named frame: "qsort_r (libc.so.6) and 3 frames inside"
    return _URC_NO_REASON;
  }
  if (l->named == 8) {
    l->truncated = true;
    return _URC_NO_REASON;
  }
  std::string inside;
  if (l->unnamed)
    inside = " and " + std::to_string(l->unnamed) + " unnamed frame" + (l->unnamed > 1 ? "s" : "") +
             " inside";
  l->unnamed = 0;
  l->foreign += (l->named++ ? " <- " : "") + symbols::describe_frame(_Unwind_GetIP(ctx)) + inside;
  return _URC_NO_REASON;
}

// Called for each frame, innermost first.  _Unwind_GetCFA(ctx) is the stack pointer of the
// frame at its call into the previous (inner) one, i.e. the top of that inner frame.
_Unwind_Reason_Code walk_step(_Unwind_Context *ctx, void *arg) {
  auto *w = static_cast<Walk *>(arg);
  if (w->foreign) {
    w->foreign_top = _Unwind_GetCFA(ctx);
    return _URC_END_OF_STACK;
  }
  uintptr_t start = _Unwind_GetRegionStart(ctx);
  if (w->skip_to) {
    if (start == w->skip_to)
      w->skip_to = 0;  // the far end of the bridge: the frames above are checked again
    return _URC_NO_REASON;
  }
  if (w->bridge >= 0 && start == t_bridges[w->bridge][0]) {
    if (const bool *b = t_bridge_blocked[w->bridge]; b && __atomic_load_n(b, __ATOMIC_ACQUIRE)) {
      w->foreign = true;  // the library's frames cannot be crossed now
      return _URC_NO_REASON;
    }
    w->skip_to = t_bridges[w->bridge--][1];
    w->seen_user_frame = true;
    return _URC_NO_REASON;
  }
  if (start == t_root && t_root_blocked && __atomic_load_n(t_root_blocked, __ATOMIC_ACQUIRE)) {
    w->foreign = true;
    return _URC_NO_REASON;
  }
  if (start == t_root) {
    w->reached_main = true;
    return _URC_END_OF_STACK;
  }
  if (registry::is_instrumented_entry(start)) {
    w->seen_user_frame = true;
    return _URC_NO_REASON;
  }
  if (!w->seen_user_frame)
    return _URC_NO_REASON;  // the runtime's own frames, below the poll
  w->foreign = true;  // one more step gives its top
  return _URC_NO_REASON;
}

// ---- A request that cannot be served (R19) ----------------------------------------------------

uint64_t monotonic_ns();
uint64_t g_request_ns;  // when the first request not yet served was made (CLOCK_MONOTONIC)

bool exit_requested() {
  bool was_signal = false;
  trigger::peek_reason(&was_signal);
  return was_signal && g_opts->on_signal == OnSignal::Exit;
}

double waited_s() {
  uint64_t at = __atomic_load_n(&g_request_ns, __ATOMIC_ACQUIRE);
  return at ? double(monotonic_ns() - at) / 1e9 : 0;
}

// Whether the pending request has waited past AUTOCKPT_DEFER_POLLS or AUTOCKPT_DEFER_TIMEOUT.
bool deferral_due() {
  if (__atomic_load_n(&g_defer_reported, __ATOMIC_ACQUIRE))
    return false;
  if (g_opts->defer_polls && t_deferred >= g_opts->defer_polls)
    return true;
  return g_opts->defer_timeout_s > 0 && waited_s() >= g_opts->defer_timeout_s;
}

uint64_t next_look() {
  uint64_t n = t_deferred + kLookEvery;
  if (g_opts->defer_polls > t_deferred && g_opts->defer_polls < n)
    n = g_opts->defer_polls;
  return n;
}

const char kBuildAdvice[] =
    "To checkpoint while such code runs, build it with autockpt (autockpt-cc, autockpt-c++); for "
    "a function of the program that the compiler plugin did not instrument, its warning says why";

// On the deferring thread, under a foreign frame: says once why the request waits and where; an
// exit request (the checkpoint signal with AUTOCKPT_ON_SIGNAL=exit) ends the program with 73.
void report_deferred() {
  if (__atomic_exchange_n(&g_defer_reported, 1, __ATOMIC_ACQ_REL))
    return;
  FrameList l;
  _Unwind_Backtrace(list_step, &l);
  char waited[96];
  snprintf(waited, sizeof waited, "%llu polls, %.1f s", (unsigned long long)t_deferred,
           waited_s());
  std::string where = "code built without autockpt is on the stack: " +
                      (l.foreign.empty() ? std::string("(unnamed)") : l.foreign) +
                      (l.truncated ? " <- ..." : "") +
                      (l.caller.empty() ? "" : ", called from " + l.caller);
  if (exit_requested()) {
    abandon_checkpoint(where + " (waited " + waited + "). " + kBuildAdvice);
    return;  // not reached
  }
  bool was_signal = false;
  std::string reason = trigger::peek_reason(&was_signal);
  warn("checkpoint (%s) is waiting: %s; it has waited %s and is taken when that code "
       "returns. %s.", reason.c_str(), where.c_str(), waited, kBuildAdvice);
}

// ---- Restart and completion ------------------------------------------------------------------

std::string completed_marker() { return g_store->dir() + "/COMPLETED"; }

// A run that ended normally leaves a marker, so that running the same command again starts
// over instead of resuming from the last checkpoint before the end.  Only the process that
// started the run: a child the program forks and ends with exit() runs the same exit handlers,
// and its marker made the next run start over while the program was still running (R27).
void mark_completed() {
  if (g_exiting_after_checkpoint || !g_store || getpid() != g_run_pid)
    return;
  // A checkpoint still being written is committed (or has failed) before the program ends,
  // and what the last one no longer keeps is removed.
  if (Status s = background::wait(*g_store, &g_ps, "exit"); !s)
    warn("checkpoint failed, the previous one is intact: %s", s.message().c_str());
  checkpoint::wait_for_removal();
  if (__atomic_load_n(&g_request_seen, __ATOMIC_ACQUIRE) && exit_requested()) {
    // Never a silent 0 after the checkpoint signal: the job script must requeue or fail.
    bool was_signal = false;
    std::string reason = trigger::peek_reason(&was_signal);
    g_exiting_after_checkpoint = true;
    fflush(nullptr);
    warn("no checkpoint on %s: the program ended before it reached a point where it could "
         "checkpoint (it waited %.1f s). Stopping with status %d instead of its own; the previous "
         "checkpoint, if any, is intact. %s.", reason.c_str(), waited_s(), kExitNoCheckpoint,
         kBuildAdvice);
    _exit(kExitNoCheckpoint);
  }
  if (const layers::Job *job = layers::job(); job && job->rank() != 0)
    return;  // rank 0 speaks for the job
  std::vector<image::GenerationInfo> gens = g_store->list();
  if (gens.empty()) {
    if (g_created_dir)
      rmdir(g_store->dir().c_str());  // made at start to check it, never used: leave no trace
    return;
  }
  int fd = open(completed_marker().c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return;
  std::string line = std::to_string(gens.back().number) + "\n";
  ssize_t ignored = write(fd, line.data(), line.size());
  (void)ignored;
  close(fd);
}

// AUTOCKPT_COUNT_POLLS: how many polls this process passed, for sizing the progress triggers.
void report_polls() {
  log(1, "%llu polls in this run", (unsigned long long)trigger::polls());
}

// Generation number written in the completion marker, 0 if none.
uint64_t completed_generation() {
  FILE *f = fopen(completed_marker().c_str(), "r");
  if (!f)
    return 0;
  unsigned long long n = 0;
  if (fscanf(f, "%llu", &n) != 1)
    n = 0;
  fclose(f);
  return n;
}

// The restored run keeps the arguments it was started with; say so when this run's differ.  They
// are compared with the copy kept as given (kArguments): the program may change its own argv
// (pigz sets the options it has read to null).
void compare_arguments(int argc, char **argv) {
  auto **given = static_cast<char **>(*arena::root(arena::kArguments));
  int given_count = 0;
  if (!given) {  // an image written before the copy was kept
    given = g_ps.argv;
    given_count = g_ps.argc;
  } else {
    while (given[given_count])
      ++given_count;
  }
  auto arg = [&](int i) { return given[i] ? given[i] : ""; };
  bool same = argc == given_count;
  for (int i = 1; same && i < argc; ++i)
    same = strcmp(argv[i], arg(i)) == 0;
  if (same)
    return;
  std::string then, now;
  for (int i = 1; i < given_count; ++i)
    then += std::string(" ") + arg(i);
  for (int i = 1; i < argc; ++i)
    now += std::string(" ") + argv[i];
  warn("resuming with the arguments of the checkpointed run (%s); the arguments given now (%s) "
       "are ignored. To start over with them, remove %s or set AUTOCKPT_RESTART=never.",
       then.empty() ? "none" : then.c_str() + 1, now.empty() ? "none" : now.c_str() + 1,
       g_store->dir().c_str());
}

// Which image this run resumes from, decided before the program's constructors run: in a
// restarted process they are skipped, the image holds what they did (docs/design.md R15).
// Returns false to start from the beginning.
bool find_restart(std::string *path) {
  if (g_opts->restart == Restart::Never)
    return false;
  bool found = false;
  if (Status s = checkpoint::find_restart_image(*g_store, path, &found); !s)
    fatal("%s", s.message().c_str());
  if (found) {
    std::vector<image::GenerationInfo> gens = g_store->list();
    uint64_t done = completed_generation();
    uint64_t newest = 0;
    for (const image::GenerationInfo &g : gens)
      if (g.committed)
        newest = g.number;
    if (done && done >= newest) {
      log(1, "the previous run in %s completed; starting from the beginning",
          g_store->dir().c_str());
      found = false;
    }
  }
  if (!found && g_opts->restart == Restart::Require)
    fatal("AUTOCKPT_RESTART=require, but there is no checkpoint to resume from in %s",
          g_store->dir().c_str());
  return found;
}

void restore(const std::string &path) {
  unlink(completed_marker().c_str());
  bool clobbered = false;
  uint64_t gen = 0;
  if (Status s = checkpoint::restore(*g_store, path, &g_ps, &clobbered, &gen); !s) {
    if (!clobbered)
      fatal("%s", s.message().c_str());
    if (!gen)  // the newest image itself could not be opened
      sscanf(path.c_str() + path.rfind("gen-") + 4, "%" SCNu64, &gen);
    // Try again from the start in a fresh process, without the generation found damaged (the
    // newest, or one an incremental newest builds on).
    warn("%s; starting again without generation %llu", s.message().c_str(),
         (unsigned long long)gen);
    std::string skip = getenv(checkpoint::kSkipVariable) ? getenv(checkpoint::kSkipVariable) : "";
    skip += " " + std::to_string(gen);
    setenv(checkpoint::kSkipVariable, skip.c_str(), 1);
    execv("/proc/self/exe", g_argv0);
    fatal("cannot re-execute the program to fall back to an older checkpoint: %s",
          strerror(errno));
  }
}

// Whether this checkpoint is written in the background (R21).  A rank of a job writes in
// place: rank 0 may commit the job's generation only once every rank's image is durable.
bool write_async() { return g_opts->async && !layers::job(); }

Status take_async(const std::string &reason, bool exit_after, uint64_t stop_ns) {
  // A write still in flight: this request waits for it, so none is lost (R21).
  std::string who = "checkpoint (" + reason + ")";
  if (Status s = background::wait(*g_store, &g_ps, who.c_str()); !s)
    warn("checkpoint failed, the previous one is intact: %s", s.message().c_str());
  checkpoint::Snapshot snap;
  snap.stop_begin_ns = stop_ns;
  uint64_t t_prepare = monotonic_ns();
  Status s = checkpoint::prepare(*g_store, *g_opts, reason, &g_ps, &snap, true);
  log(3, "checkpoint %llu: unwound in %.2f ms, prepared in %.2f ms", (unsigned long long)snap.gen,
      double(t_prepare - stop_ns) / 1e6, double(monotonic_ns() - t_prepare) / 1e6);
  if (s)
    s = background::start(*g_store, *g_opts, snap);
  if (!s) {
    --g_ps.checkpoints;
    (void)g_store->abandon(snap.gen);
    warn("cannot write checkpoint %llu in the background (%s); writing it in place",
         (unsigned long long)snap.gen, s.message().c_str());
    bool signal = exit_after;
    return checkpoint::write(*g_store, *g_opts, reason, stop_ns, &g_ps, &signal);
  }
  if (exit_after)  // the job script may start the next run at once: it must find this one
    s = background::wait(*g_store, &g_ps, "exit");
  return s;
}

void take_checkpoint(uint64_t stop_ns) {
  autockpt_user_main_running = false;  // the runtime's own allocations stay out of the image
  bool was_signal = false;
  std::string reason = trigger::take_reason(&was_signal);
  Status s = write_async()
                 ? take_async(reason, was_signal && g_opts->on_signal == OnSignal::Exit, stop_ns)
                 : checkpoint::write(*g_store, *g_opts, reason, stop_ns, &g_ps, &was_signal);
  // A rank of a job: the checkpoint signal reached one rank or all (mpirun and srun forward it);
  // either way every rank does the same after the checkpoint (exits 75, or goes on): write()
  // told it whether any rank's came from the signal, in its first collective.
  if (!s)
    warn("checkpoint failed, the previous one is intact: %s", s.message().c_str());
  else
    trigger::checkpoint_taken();
  if (g_opts->max_checkpoints && g_ps.checkpoints >= g_opts->max_checkpoints)
    trigger::disarm();
  else
    trigger::rearm();
  if (was_signal && g_opts->on_signal == OnSignal::Exit) {
    g_exiting_after_checkpoint = true;
    fflush(nullptr);
    if (!s)
      fatal("stopping on %s without a new checkpoint", reason.c_str());
    log(1, "stopping after the checkpoint (%s); run the same command again to resume",
        reason.c_str());
    checkpoint::wait_for_removal();
    _exit(g_opts->exit_code);
  }
  autockpt_user_main_running = true;
}

uint64_t monotonic_ns() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return uint64_t(t.tv_sec) * 1'000'000'000 + uint64_t(t.tv_nsec);
}

}  // namespace

uint64_t take_request_age_ns() {
  uint64_t at = __atomic_exchange_n(&g_request_ns, 0, __ATOMIC_ACQ_REL);
  return at ? monotonic_ns() - at : 0;
}

void request() {
  // A child the program forked (without exec) has the runtime and the signal handler too, and
  // a process group's signal (a Slurm step's USR1, kill -USR1 -PGID) reaches it: it wrote into
  // the run's directory beside the program, and the two collided or, one after the other, the
  // child's state became the newest checkpoint (R27).  Only the run's own process checkpoints.
  if (g_run_pid && getpid() != g_run_pid)
    return;
  uint64_t none = 0;
  if (__atomic_compare_exchange_n(&g_request_ns, &none, monotonic_ns(), false, __ATOMIC_ACQ_REL,
                                  __ATOMIC_RELAXED))
    trigger::arm_watchdog();
  __atomic_store_n(&g_request_seen, 1, __ATOMIC_SEQ_CST);
  if (g_main_state)
    state::raise(g_main_state);
  layers::each([](const layers::Layer &l) {
    if (l.request)
      l.request();
  });
}

bool writing_in_background() { return background::busy(); }

bool request_pending() { return __atomic_load_n(&g_request_seen, __ATOMIC_SEQ_CST) != 0; }

void set_root(void (*root)()) { t_root = reinterpret_cast<uintptr_t>(root); }

uintptr_t swap_root(uintptr_t root) {
  uintptr_t was = t_root;
  t_root = root;
  // A foreign frame found under the old root is not on the new one's way (a pooled worker's
  // next member may run on another stack, O11): its polls walk again.
  g_foreign_top = 0;
  return was;
}

void set_root_blocker(const bool *blocked) { t_root_blocked = blocked; }

void push_bridge(uintptr_t inner, uintptr_t outer, const bool *blocked) {
  if (t_nbridges == kMaxBridges)
    fatal("more than %d nested OpenMP parallel regions on one thread", kMaxBridges);
  t_bridge_blocked[t_nbridges] = blocked;
  t_bridges[t_nbridges][0] = inner;
  t_bridges[t_nbridges++][1] = outer;
}

void pop_bridge() { --t_nbridges; }

namespace {
int g_base_flags;  // flag bits every thread of the program carries (trigger.h's counting bit)
}  // namespace

void add_flag_bits(int bits) {
  g_base_flags |= bits;
  state::raise(&__autockpt_state, bits);
}

int base_flags() { return g_base_flags; }

void reentered_last_frame() {
  if (!g_layers_reenter)
    return;
  t_reentry_pending = true;
  state::raise(&__autockpt_state);
}

void reentered() {
  layers::each([](const layers::Layer &l) {
    if (l.reentered)
      l.reentered();
  });
}

double stop_timeout_s() { return g_opts->stop_timeout_s; }

namespace {
// A request is served or given up: the next one is judged afresh.
void request_done() {
  __atomic_store_n(&g_request_seen, 0, __ATOMIC_SEQ_CST);
  __atomic_store_n(&g_request_ns, 0, __ATOMIC_RELEASE);
  __atomic_store_n(&g_defer_reported, 0, __ATOMIC_RELEASE);
  __atomic_store_n(&g_serving, 0, __ATOMIC_RELEASE);
  __atomic_store_n(&g_deferring, 0, __ATOMIC_RELEASE);
  __atomic_store_n(&g_stop_ns, 0, __ATOMIC_RELEASE);
}
}  // namespace

// The watchdog: the request made AUTOCKPT_DEFER_TIMEOUT ago is not served yet.  When a thread is
// still polling under a foreign frame, that thread reports it (with the frames) at its next look;
// otherwise the program runs code that does not poll at all, and it is said from here.
void request_overdue() {
  if (!__atomic_load_n(&g_request_seen, __ATOMIC_ACQUIRE) ||
      __atomic_load_n(&g_serving, __ATOMIC_ACQUIRE) ||
      __atomic_load_n(&g_defer_reported, __ATOMIC_ACQUIRE))
    return;
  if (__atomic_load_n(&g_writing, __ATOMIC_ACQUIRE)) {
    trigger::arm_watchdog();  // a request made while a checkpoint is written waits for it
    return;
  }
  if (waited_s() < 0.99 * g_opts->defer_timeout_s) {
    trigger::arm_watchdog();  // a newer request
    return;
  }
  uint64_t total = __atomic_load_n(&g_deferred_total, __ATOMIC_RELAXED);
  if (__atomic_load_n(&g_deferring, __ATOMIC_ACQUIRE) && total != g_deferred_total_seen) {
    g_deferred_total_seen = total;
    trigger::arm_watchdog();  // polls still come: the deferring thread reports
    return;
  }
  if (__atomic_exchange_n(&g_defer_reported, 1, __ATOMIC_ACQ_REL))
    return;
  bool was_signal = false;
  std::string reason = trigger::peek_reason(&was_signal);
  char head[160];
  snprintf(head, sizeof head, "the program reached no safe point in %.1f s: it runs code that "
           "does not poll (built without autockpt, or a call that blocks); main's thread is in ",
           waited_s());
  std::string why = head + symbols::where_is(g_main_thread);
  if (exit_requested()) {
    g_exiting_after_checkpoint = true;  // no fflush: the program's thread may hold a stream
    warn("no checkpoint on %s: %s. Stopping without a new checkpoint (exit status %d); the "
         "previous checkpoint, if any, is intact. %s.", reason.c_str(), why.c_str(),
         kExitNoCheckpoint, kBuildAdvice);
    _exit(kExitNoCheckpoint);
  }
  warn("checkpoint (%s) is waiting: %s; it is taken at the next safe point. %s.",
       reason.c_str(), why.c_str(), kBuildAdvice);
}

void abandon_checkpoint(const std::string &why) {
  request_done();
  if (g_main_state)
    state::lower(g_main_state);
  bool was_signal = false;
  std::string reason = trigger::take_reason(&was_signal);
  if (was_signal && g_opts->on_signal == OnSignal::Exit) {
    g_exiting_after_checkpoint = true;  // not completed: the next run resumes from the last one
    fflush(nullptr);
    warn("no checkpoint on %s: %s. Stopping without a new checkpoint (exit status %d); the "
         "previous checkpoint, if any, is intact.", reason.c_str(), why.c_str(),
         kExitNoCheckpoint);
    _exit(kExitNoCheckpoint);
  }
  warn("checkpoint (%s) given up: %s; the program goes on", reason.c_str(), why.c_str());
  trigger::rearm();
}

void write_checkpoint() {
  uint64_t stopped_at = __atomic_load_n(&g_stop_ns, __ATOMIC_ACQUIRE);
  request_done();
  __atomic_store_n(&g_writing, 1, __ATOMIC_RELEASE);
  take_checkpoint(stopped_at);
  // A request made while the image was written (a second signal) waits from now on: the time
  // the write took is not the program's failing to reach a safe point.
  if (__atomic_load_n(&g_request_ns, __ATOMIC_ACQUIRE))
    __atomic_store_n(&g_request_ns, monotonic_ns(), __ATOMIC_RELEASE);
  __atomic_store_n(&g_writing, 0, __ATOMIC_RELEASE);
  layers::each([](const layers::Layer &l) {
    if (l.resume)
      l.resume();
  });
}

namespace {
// After the calling thread's frames are saved: whether it is the one to write the image.
bool stop_here() {
  bool writer = true;
  layers::each([&](const layers::Layer &l) {
    if (l.stop && !l.stop())
      writer = false;
  });
  return writer;
}
}  // namespace

namespace {
int poll_slow_counted(uintptr_t poller_sp, bool count);
}  // namespace

int poll_slow(uintptr_t poller_sp) { return poll_slow_counted(poller_sp, true); }

int poll_uncounted(uintptr_t poller_sp) { return poll_slow_counted(poller_sp, false); }

namespace {
int poll_slow_counted(uintptr_t poller_sp, bool count) {
  if (t_reentry_pending) {
    t_reentry_pending = false;
    reentered();
    if (!__atomic_load_n(&g_request_seen, __ATOMIC_SEQ_CST)) {
      state::lower(&__autockpt_state);
      return 0;
    }
  }
  // While polls are counted every poll comes here, most of them with nothing requested.
  if (count && (state::flag() & trigger::kCountingBit) && !trigger::counted_poll())
    return 0;
  // Cheapest tests first: while a checkpoint waits for a foreign frame to return, every poll
  // under it comes here.
  if (under_foreign_frame(poller_sp))
    return 0;  // still below a frame that cannot be unwound
  if (state::mode() != AUTOCKPT_MODE_RUNNING || !t_root) {
    state::lower(&__autockpt_state);  // a thread of the runtime's or a library's: nothing to do
    return 0;
  }
  bool had_top = g_foreign_top != 0;
  if (had_top && poller_sp < g_foreign_top) {
    // A look is due (under_foreign_frame): report a request waiting too long, walk again now and
    // then in case the foreign frame has returned and the stack moved.
    __atomic_fetch_add(&g_deferred_total, kLookEvery, __ATOMIC_RELAXED);
    if (t_deferred < t_next_walk && !deferral_due()) {
      t_next_look = next_look();
      return 0;
    }
  }
  g_foreign_top = 0;
  if (handling_exception()) {  // a throw or catch block: the request waits a poll or two (R25)
    ++t_deferred;
    __atomic_store_n(&g_deferring, 1, __ATOMIC_RELEASE);
    if (!t_exception_said)  // once, not at every poll of the block
      log(3, "checkpoint deferred: a C++ exception is being thrown or handled");
    t_exception_said = true;
    return 0;
  }
  t_exception_said = false;
  Walk w;
  w.bridge = t_nbridges - 1;
  _Unwind_Backtrace(walk_step, &w);
  if (!w.reached_main) {
    if (!had_top) {
      t_deferred = 0;
      t_next_walk = kWalkEvery;
      __atomic_store_n(&g_deferring, 1, __ATOMIC_RELEASE);
      log(3, "checkpoint deferred: an uninstrumented frame is on the stack (up to %#lx)",
          (unsigned long)w.foreign_top);
    } else if (t_deferred >= t_next_walk) {
      t_next_walk = t_deferred + kWalkEvery;
    }
    g_foreign_top = w.foreign_top;
    if (deferral_due())
      report_deferred();  // does not return for an exit request
    t_next_look = next_look();
    return 0;
  }
  __atomic_store_n(&g_serving, 1, __ATOMIC_RELEASE);
  uint64_t none = 0;
  __atomic_compare_exchange_n(&g_stop_ns, &none, monotonic_ns(), false, __ATOMIC_ACQ_REL,
                              __ATOMIC_RELAXED);
  state::lower(&__autockpt_state);
  bool all = true;
  layers::each([&](const layers::Layer &l) {  // the first that says no ends it (mpi/ first)
    if (all && l.arrive && !l.arrive())
      all = false;
  });
  if (!all)
    return 0;  // given up: the program goes on (abandon_checkpoint)
  frames::clear();
  state::mode() = AUTOCKPT_MODE_UNWINDING;
  return 1;
}
}  // namespace

// ---- Before the program's constructors --------------------------------------------------------

namespace {

sigset_t g_early_signals;
const std::string *g_restart_image;  // the image this run resumes from; null for a fresh start

// The first constructor of the executable to run (priority 1; the modules' table constructors
// have 0 and only register tables), after every shared library's, libc's and libstdc++'s
// included.  The runtime's own global objects are constructed after it, so it uses only plain
// globals and objects it allocates itself.  glibc passes argc, argv and envp to constructors.
void start(int /*argc*/, char **argv, char **envp) {
  // A checkpoint signal that arrives before its handler is installed (Slurm may signal a
  // requeued job at once) waits, blocked, and becomes a request at the first safe point.
  sigemptyset(&g_early_signals);
  int early_signal = SIGUSR1;
  if (const char *s = getenv("AUTOCKPT_SIGNAL"))
    parse_signal(s, &early_signal);
  if (early_signal > 0)
    sigaddset(&g_early_signals, early_signal);
  sigprocmask(SIG_BLOCK, &g_early_signals, nullptr);  // the mask survives the re-exec below
  g_argv0 = argv;
  pin_address_space(argv);
  checkpoint::read_test_settings();
  g_opts = new Options;
  if (Status s = parse_environment(envp, g_opts); !s)
    fatal("%s", s.message().c_str());
  set_verbosity(g_opts->verbose);
  if (const layers::Job *job = layers::job(); job && job->size() > 1)
    set_log_rank(job->rank());
  g_store = new image::GenerationStore(checkpoint_dir(*g_opts, identity::executable_path()));
  struct stat before;
  g_created_dir = stat(g_store->dir().c_str(), &before) != 0;
  if (Status s = g_store->prepare(); !s)
    fatal("%s", s.message().c_str());
  arena::init(g_opts->heap_size);
  // Asynchronous checkpoints copy the page tables of the heap at every checkpoint (fork): with
  // 2 MiB pages there are 512 times fewer entries to copy (R21).
  if (g_opts->async && !getenv("AUTOCKPT__SMALL_PAGES"))
    madvise(reinterpret_cast<void *>(arena::base()), arena::reserved_bytes(), MADV_HUGEPAGE);
  map_stack(g_opts->stack_size);
  registry::finalize();  // the modules' table constructors (priority 0) have run
  if (std::string path; find_restart(&path))
    g_restart_image = new std::string(path);
  // std::cout and friends, made here in the system heap: the ios_base::Init of the program's
  // own translation units is skipped with their constructors in a restarted process.
  static std::ios_base::Init streams;
}

[[gnu::used, gnu::section(".init_array.00001")]] void (*k_start)(int, char **, char **) = start;

}  // namespace

bool restarting() { return g_restart_image != nullptr; }

int user_argc() { return g_ps.argc; }
char **user_argv() { return g_ps.argv; }

int run(int argc, char **argv, char **envp) {
  const bool halt_after_checkpoint = getenv("AUTOCKPT__HALT_AFTER_CHECKPOINT") != nullptr;
  if (g_restart_image) {
    restore(*g_restart_image);
    compare_arguments(argc, argv);
    exit_handlers::after_restore();
    signals::after_restore();
  } else {
    g_ps.argv = copy_strings(argv, &g_ps.argc);
    *arena::root(arena::kArguments) = copy_strings(argv, nullptr);  // as given (compare_arguments)
    g_ps.envp = copy_strings(envp, nullptr);
  }
  environ = environment::arena_environment(environ);  // this run's, in the arena (R6)

  g_run_pid = getpid();
  atexit(mark_completed);
  if (g_opts->count_polls)
    atexit(report_polls);
  set_root(user_main_trampoline);
  g_main_state = &__autockpt_state;
  layers::each([](const layers::Layer &l) { g_layers_reenter |= l.reentered != nullptr; });
  autockpt_user_main_running = true;
  // Before the threads of a restart are made: each takes the counting bit as it starts, and one
  // that started before this saw none, so its polls went uncounted and a test's halt came late or
  // never (thread-dtors.test ran to its end in a loaded whole-suite run).
  trigger::count_polls(g_opts->poll_interval, g_opts->halt_poll, g_opts->count_polls,
                       halt_after_checkpoint);  // read before the arena's environ drops it
  if (g_restart_image) {
    // The other threads are made again and wait until this one goes on (threads/).
    layers::each([](const layers::Layer &l) {
      if (l.restart)
        l.restart();
    });
    frames::begin_restore();
    state::mode() = AUTOCKPT_MODE_RESTORING;
  }
  trigger::install(g_opts->signal, g_opts->interval_s);
  trigger::install_watchdog(g_opts->defer_timeout_s);
  sigprocmask(SIG_UNBLOCK, &g_early_signals, nullptr);
  for (;;) {
    run_user_main();
    if (state::mode() != AUTOCKPT_MODE_UNWINDING)
      break;
    if (stop_here())
      write_checkpoint();  // every other thread is stopped
    frames::begin_restore();
    state::mode() = AUTOCKPT_MODE_RESTORING;
  }
  trigger::disarm();
  return g_user_ret;
}

}  // namespace autockpt::control

int main(int argc, char **argv, char **envp) { return autockpt::control::run(argc, argv, envp); }
