// What requests a checkpoint: the checkpoint signal, the interval timer (DESIGN D7) and the
// program's progress, counted in polls (docs/design.md R17).  The handlers only set the request
// bit of every thread's flag (the low half of its __autockpt_state) and note what they saw.
#pragma once

#include <cstdint>

namespace autockpt::trigger {

// signal_number 0: no signal; interval_s 0: no timer.
void install(int signal_number, double interval_s);
// Starts the next interval; called when a checkpoint ends, so that a checkpoint that takes
// longer than the interval does not leave the program doing nothing but checkpoints.
void rearm();
// Stop asking (after AUTOCKPT_MAX_CHECKPOINTS, and while exiting).
void disarm();

// What asked since the last call to take_reason(): "signal SIGUSR1", "timer", "poll 1200",
// "request".
const char *take_reason(bool *was_signal);
// The same, without clearing what was seen.
const char *peek_reason(bool *was_signal);

// A second one-shot timer, armed when a request is made (arm_watchdog is async-signal-safe):
// after `seconds` it calls control::request_overdue() on a thread of libc's, which reports a
// request that no safe point has served (the program runs code that never polls).
void install_watchdog(double seconds);
void arm_watchdog();

// The flag's other bit (its request bit is state::kRequestBit): polls are being counted.  While
// polls are counted the flag is never zero, so every poll reaches the runtime's slow path.
constexpr int kCountingBit = 2;

// Progress triggers: a checkpoint every `every` polls (0: none); at poll `halt` (0: never)
// the program stops where it is and waits to be killed, still taking the checkpoints asked
// for.  Either, or `count`, turns counting on.  Call before the program runs.  With
// `halt_after_checkpoint` (AUTOCKPT__HALT_AFTER_CHECKPOINT, tests), `halt` polls are counted
// from the end of this process's first checkpoint instead: a program that asks for its
// checkpoints itself gets to ask before any of its ranks halts.
void count_polls(std::uint64_t every, std::uint64_t halt, bool count,
                 bool halt_after_checkpoint = false);
// A checkpoint of this process has been taken (the halt counted from it starts now).
void checkpoint_taken();
// Called by every poll while polls are counted; returns whether a checkpoint is requested.
bool counted_poll();
// Whether the program waits at AUTOCKPT_HALT_POLL.
bool halted();
// Polls counted so far in this process.
std::uint64_t polls();

}  // namespace autockpt::trigger
