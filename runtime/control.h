// The runtime's state machine: running -> unwinding -> writing -> restoring -> running.
#pragma once

namespace autockpt::control {

// The program's main: sets up the fixed stack and arena, restores if there is an image, and
// runs the user's main until it returns without a checkpoint pending.
int run(int argc, char **argv, char **envp);

// From a poll with the flag set: returns 1 to start unwinding here, 0 to go on.
int poll_slow();

}  // namespace autockpt::control
