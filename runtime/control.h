// The runtime's state machine: running -> unwinding -> writing -> restoring -> running.
#pragma once

#include <cstdint>
#include <string>

// True while the user's main runs: the global operator new then allocates in the arena.
extern bool autockpt_user_main_running;
// Non-zero on a thread while the runtime allocates for itself: operator new then uses the system
// heap even while the user's main runs (frame records, thread records).  __thread, not
// thread_local: an extern thread_local is reached through a check of its initialisation function
// (two instructions and a branch in every MPI call and every allocation).
extern __thread int autockpt_runtime_heap;

namespace autockpt {
struct RuntimeHeap {
  RuntimeHeap() { ++autockpt_runtime_heap; }
  ~RuntimeHeap() { --autockpt_runtime_heap; }
  RuntimeHeap(const RuntimeHeap &) = delete;
};
}  // namespace autockpt

namespace autockpt::control {

// The program's main: sets up the fixed stack and arena, restores if there is an image, and
// runs the user's main until it returns without a checkpoint pending.
int run(int argc, char **argv, char **envp);

// Whether this process resumes from an image (decided before any static constructor runs).
bool restarting();

// From a poll with the flag set: returns 1 to start unwinding here, 0 to go on.  `poller_sp`
// is the polling frame's stack pointer at its call into the runtime.
int poll_slow(uintptr_t poller_sp);
// The same from a wait of the runtime's that looks again and again while a request is pending
// (it may be deferred): not counted as a poll (AUTOCKPT_HALT_POLL places halts by counted polls,
// which must not depend on time).
int poll_uncounted(uintptr_t poller_sp);

// Asks every thread for a checkpoint: async-signal-safe (the trigger's handlers call it).
void request();
// Whether a request has been made that no checkpoint has served yet.
bool request_pending();

// Whether a checkpoint is being written in the background (R21).  Any thread may ask.
bool writing_in_background();

// Nanoseconds (CLOCK_MONOTONIC) since the first request not yet served was made, and forgets it;
// 0 if there is none.  The threads layer reports how long its threads took to stop (bench/).
uint64_t take_request_age_ns();

// Flag bits (trigger.h) that every thread of the program carries from its start: set on the
// calling (main) thread now, and by threads/ on each thread it starts.
void add_flag_bits(int bits);
int base_flags();

// The calling thread runs user code from `root` (a runtime function that calls it): frames up to
// root may be unwound.  threads/ calls it on each thread it starts; 0: none.
void set_root(void (*root)());

// Replaces the calling thread's root (a function's entry address, 0 for none); returns the old.
uintptr_t swap_root(uintptr_t root);

// A bridge: while it is pushed, the calling thread's stack holds, between a frame of the runtime
// function `inner` and an outer one of `outer`, frames of a library that the checkpoint passes
// through (libomp between the runtime's fork and its microtask, omp/): the stack walk steps over
// them, and each end takes care of its part (docs/design.md O2).  Innermost pushed last.
// While *blocked is true (when not null), the bridge cannot be crossed: a checkpoint waits.
void push_bridge(uintptr_t inner, uintptr_t outer, const bool *blocked = nullptr);
void pop_bridge();
// While *blocked is true (when not null), the calling thread's root cannot be unwound to.
void set_root_blocker(const bool *blocked);

// This thread builds, throws or handles a C++ exception (exceptions.cpp, docs/design.md R25): a
// checkpoint waits for it.
bool handling_exception();

// AUTOCKPT_STOP_TIMEOUT: how long a checkpoint waits for every thread to reach a safe point.
double stop_timeout_s();
// A checkpoint cannot be taken (`why` names the threads that did not stop and where they are):
// says so and goes on, the request served; after the checkpoint signal with
// AUTOCKPT_ON_SIGNAL=exit the program exits instead, with status kExitNoCheckpoint.
void abandon_checkpoint(const std::string &why);
constexpr int kExitNoCheckpoint = 73;
// argc, argv (in the arena) of the program's main, as the user's main got them.
int user_argc();
char **user_argv();

// The watchdog timer (trigger.h): the request made AUTOCKPT_DEFER_TIMEOUT ago is not served yet.
void request_overdue();  // EX_CANTCREAT: the checkpoint could not be made

// The calling thread has re-entered its frames (or had none to re-enter): waits for the others.
void reentered();
// The innermost frame's record has been popped; its restore block still copies its values back:
// the thread waits for the others at its next safe point (poll_slow), which comes before any
// of the program's code.
void reentered_last_frame();

// On the thread that stops last: writes the image of every thread (all others are stopped), then
// lets them all go on (the layers' resume).  May exit the process (AUTOCKPT_ON_SIGNAL=exit).
void write_checkpoint();

}  // namespace autockpt::control
