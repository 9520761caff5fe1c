// The threads the program starts (DESIGN D8), as the rest of threads/ sees them.
#pragma once

#include "frames.h"

#include <cstdint>
#include <pthread.h>
#include <string>
#include <vector>

namespace autockpt::threads {

enum class Status : uint32_t { Starting = 0, Running = 1, Exited = 2 };

struct Thread {
  uint32_t index = 0;  // creation order; the main thread is 0
  uint32_t slot = 0;   // its stack's place (stack_for)
  unsigned long long *state = nullptr;  // its state word, once it runs
  void *(*start)(void *) = nullptr;
  void *arg = nullptr;
  pthread_t handle = 0;
  uintptr_t stack_addr = 0;
  uint64_t stack_size = 0;
  bool user_stack = false;  // the program gave it its stack
  bool detached = false;    // detached by the program (the runtime reaps it)
  Status status = Status::Starting;
  void *retval = nullptr;
  bool restored = false;  // made again from an image: re-enters its frames
  bool std_thread = false;
  // Started by a library's thread pool (libomp's workers): not the program's thread.  It takes
  // part in a checkpoint only while it runs the program's code in a team (team_enter), and is
  // never in the image: the library makes its pool again (omp/).
  bool pooled = false;
  bool in_team = false;
  uint32_t pool_index = 0;  // a pooled thread: 1 + how many the pool had started before it
  uint64_t arrived_round = 0;  // the last checkpoint it came to
  pid_t tid = 0;               // its kernel thread id  // started by std::thread: arg is its std::thread::_State
  frames::Stack frames;
  std::string tls;  // its thread-local variables while it is stopped
};

// The calling thread's record; null on the main thread and on threads the runtime did not start.
Thread *self();

// After a restart, a recursive or error-checking mutex held at the checkpoint still names its
// owner by the kernel thread id the owner had then: rename it to the owner's id now.  Called by
// the wrappers before they lock or unlock `m`.
void fix_owner(pthread_mutex_t *m);

// What a frame record of blocking.cpp's own (fid) is, for `autockpt inspect`; null if not one.
const char *blocking_frame_name(uint64_t fid);

// Runs the C++ thread_local destructors thread `index` registered (main: 0) when it leaves
// (thread_dtors.cpp; nothing to do if it registered none).
void run_thread_dtors(uint32_t index);
// Then the destructors of its pthread keys' values (keys.cpp), as glibc would.
void run_key_dtors(uint32_t index);

// A pooled worker (omp/) is about to run the program's code in a team: from now on a checkpoint
// waits for it.  Returns false, counting nothing, while a checkpoint is being taken: the caller
// waits and asks again (or learns from its team that it is not to run).  A member of a team
// whose members defer (tasks, a region nested two deep: omp/ O8) enters while threads are still
// stopping: its master waits for it and cannot stop before the region ends, so the checkpoint
// cannot be written meanwhile, and it would wait for ever.
bool team_enter(bool deferring = false);
// It has finished the team's code (or saved its frames for a checkpoint): no longer waited for.
void team_leave();
// The pooled threads alive now: (pool_index, pthread_t).
std::vector<std::pair<uint32_t, pthread_t>> pooled_threads();
// The instrumented modules' thread-local variables of thread `th` (its static TLS), and setting
// the calling thread's.
std::string tls_of(pthread_t th);
void set_own_tls(const std::string &bytes);

// The bytes of the instrumented modules' thread-local variables (threadprivate, thread_local);
// 0 before the program started its first thread.
uint64_t thread_local_bytes();

// Whether no checkpoint is being taken now (a pooled worker waiting to enter a team looks).
bool running_phase();

// `t` has been joined (by the program, through a wrapper): its slot may be reused.
void joined(pthread_t t);

}  // namespace autockpt::threads
