// The runtime's state machine: running -> unwinding -> writing -> restoring -> running.
#pragma once

#include <cstdint>

// True while the user's main runs: the global operator new then allocates in the arena.
extern bool autockpt_user_main_running;

namespace autockpt::control {

// The program's main: sets up the fixed stack and arena, restores if there is an image, and
// runs the user's main until it returns without a checkpoint pending.
int run(int argc, char **argv, char **envp);

// Whether this process resumes from an image (decided before any static constructor runs).
bool restarting();

// From a poll with the flag set: returns 1 to start unwinding here, 0 to go on.  `poller_sp`
// is the polling frame's stack pointer at its call into the runtime.
int poll_slow(uintptr_t poller_sp);

}  // namespace autockpt::control
