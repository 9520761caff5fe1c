// Messages to the person running the program: one prefix, one verbosity knob, and the one way
// the runtime gives up (a sentence that says what is wrong and what to do, then exit status 70).
#pragma once

namespace autockpt {

// Exit status of a process the runtime stops because of an error (EX_SOFTWARE).
constexpr int kExitError = 70;

void set_verbosity(unsigned level);
unsigned verbosity();
// Messages of a rank of a job start "autockpt: rank N: ".
void set_log_rank(int rank);

// `level` 1: a line per checkpoint and restart; 2: details; 3: debugging.
void log(unsigned level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
[[noreturn]] void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

// Human units for sizes and durations ("1.5 MiB", "320 ms"), into a caller's buffer.
const char *human_bytes(unsigned long long bytes, char (&buf)[32]);

}  // namespace autockpt
