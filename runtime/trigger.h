// What requests a checkpoint: the checkpoint signal and the interval timer (DESIGN D7).  The
// handlers only set __autockpt_flag and note what they saw.
#pragma once

namespace autockpt::trigger {

// signal_number 0: no signal; interval_s 0: no timer.
void install(int signal_number, double interval_s);
// Starts the next interval; called when a checkpoint ends, so that a checkpoint that takes
// longer than the interval does not leave the program doing nothing but checkpoints.
void rearm();
// Stop asking (after AUTOCKPT_MAX_CHECKPOINTS, and while exiting).
void disarm();

// What asked since the last call to take_reason(): "signal SIGUSR1", "timer", "request".
const char *take_reason(bool *was_signal);

}  // namespace autockpt::trigger
