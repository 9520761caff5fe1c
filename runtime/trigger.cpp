// Signal, timer and progress triggers.  Everything a handler touches is a lock-free atomic flag.
#include "trigger.h"

#include "autockpt/abi.h"
#include "control.h"
#include "layers.h"
#include "log.h"
#include "options.h"
#include "state.h"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <unistd.h>

namespace autockpt::trigger {

namespace {

volatile sig_atomic_t g_signal_seen, g_timer_seen;
int g_signal;
timer_t g_timer;
bool g_have_timer;
double g_interval_s;
char g_reason[64];

// Progress: polls counted, the next poll that asks for a checkpoint, the period, the halt.
std::uint64_t g_polls, g_next_poll, g_every, g_halt, g_poll_seen;
std::uint64_t g_halt_after;  // polls from the first checkpoint to the halt (0: from the start)
bool g_halted;

void request() { control::request(); }  // every thread's request bit

bool requested() { return state::flag() & state::kRequestBit; }

void on_signal(int) {
  g_signal_seen = 1;
  request();
}

void on_timer(union sigval) {
  // A checkpoint still being written in the background (R21): the timer's checkpoint waits
  // here, on the timer's thread, for its end, not in a stop of the program.
  struct timespec tick = {0, 10000000};
  while (control::writing_in_background())
    nanosleep(&tick, nullptr);
  g_timer_seen = 1;
  request();
}

// The program stays at this poll, as if it were still computing, until a request comes: that
// one is taken from here, and the re-entered frames come back to this poll and wait again.
// Only a kill ends it.  Not a real sleep: the request may come from a signal or the timer.
void halt_here(std::uint64_t poll) {
  if (!g_halted) {
    g_halted = true;
    fflush(nullptr);  // what was printed before the halt is out, whatever stdout is
    log(1, "halted at poll %llu (AUTOCKPT_HALT_POLL); waiting to be killed",
        (unsigned long long)poll);
  }
  struct timespec ms = {0, 1000000};
  while (!requested()) {
    nanosleep(&ms, nullptr);
    layers::each([](const layers::Layer &l) {  // a rank of a job keeps answering the others
      if (l.idle)
        l.idle();
    });
  }
}

void handle(int sig, void (*fn)(int)) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = fn;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  if (sigaction(sig, &sa, nullptr) != 0)
    fatal("cannot install the handler for signal %d: %s", sig, strerror(errno));
}

}  // namespace

void install(int signal_number, double interval_s) {
  g_signal = signal_number;
  if (signal_number > 0)
    handle(signal_number, on_signal);
  if (interval_s > 0) {
    // The timer runs its notification on a thread of libc's, which only sets the flag: the
    // program's own thread never gets a signal from it, so its sleep() and read() are not cut
    // short, and SIGALRM stays the program's.
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_THREAD;
    ev.sigev_notify_function = on_timer;
    if (timer_create(CLOCK_MONOTONIC, &ev, &g_timer) != 0)
      fatal("cannot create the checkpoint timer: %s", strerror(errno));
    g_have_timer = true;
    g_interval_s = interval_s;
    rearm();
  }
}

// Starts `timer` to fire once, `seconds` from now (at least 1 ns).  Async-signal-safe.
static void one_shot(timer_t timer, double seconds) {
  struct itimerspec its = {};
  its.it_value.tv_sec = time_t(seconds);
  its.it_value.tv_nsec = long((seconds - double(its.it_value.tv_sec)) * 1e9);
  if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
    its.it_value.tv_nsec = 1;
  timer_settime(timer, 0, &its, nullptr);
}

void rearm() {
  if (!g_have_timer)
    return;
  one_shot(g_timer, g_interval_s);  // the next interval starts now
}

void disarm() {
  g_every = g_next_poll = 0;
  if (g_have_timer) {
    timer_delete(g_timer);
    g_have_timer = false;
  }
  if (g_signal > 0)
    signal(g_signal, SIG_IGN);
}

const char *peek_reason(bool *was_signal) {
  *was_signal = g_signal_seen;
  if (g_signal_seen)
    snprintf(g_reason, sizeof g_reason, "signal SIG%s", signal_name(g_signal));
  else if (g_timer_seen)
    snprintf(g_reason, sizeof g_reason, "timer");
  else if (g_poll_seen)
    snprintf(g_reason, sizeof g_reason, "poll %llu", (unsigned long long)g_poll_seen);
  else
    snprintf(g_reason, sizeof g_reason, "request");
  return g_reason;
}

const char *take_reason(bool *was_signal) {
  peek_reason(was_signal);
  g_signal_seen = g_timer_seen = 0;
  g_poll_seen = 0;
  return g_reason;
}

namespace {
timer_t g_watchdog;
bool g_have_watchdog;
double g_watchdog_s;
void on_watchdog(union sigval) { control::request_overdue(); }
}  // namespace

void install_watchdog(double seconds) {
  if (seconds <= 0)
    return;
  struct sigevent ev;
  memset(&ev, 0, sizeof ev);
  ev.sigev_notify = SIGEV_THREAD;
  ev.sigev_notify_function = on_watchdog;
  if (timer_create(CLOCK_MONOTONIC, &ev, &g_watchdog) != 0)
    return warn("cannot create the timer that reports late checkpoints: %s", strerror(errno));
  g_watchdog_s = seconds;
  g_have_watchdog = true;
}

void arm_watchdog() {  // async-signal-safe: timer_settime is
  if (!g_have_watchdog)
    return;
  one_shot(g_watchdog, g_watchdog_s);
}

void count_polls(std::uint64_t every, std::uint64_t halt, bool count,
                 bool halt_after_checkpoint) {
  if (!every && !halt && !count)
    return;
  g_every = every;
  g_next_poll = every;
  g_halt = halt_after_checkpoint ? 0 : halt;
  g_halt_after = halt_after_checkpoint ? halt : 0;
  control::add_flag_bits(kCountingBit);
}

void checkpoint_taken() {
  if (g_halt_after && !g_halt)
    g_halt = polls() + g_halt_after;
}

bool counted_poll() {
  // A locked increment: an OpenMP team's threads poll the same loops at once, and a count they
  // raced on lost so many that a restarted run stood past the end of the uninterrupted run's
  // count (the harness then had no polls left to place a halt).  Only while counting.
  std::uint64_t n = __atomic_add_fetch(&g_polls, 1, __ATOMIC_RELAXED);
  if (n == g_next_poll) {
    g_next_poll += g_every;
    g_poll_seen = n;
    request();
  }
  if (g_halt && n >= g_halt)
    halt_here(n);
  return requested();
}

bool halted() { return g_halted; }

std::uint64_t polls() { return __atomic_load_n(&g_polls, __ATOMIC_RELAXED); }

}  // namespace autockpt::trigger
