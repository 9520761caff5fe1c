// Names for code addresses, for messages that say where a program is: the executable's own
// symbol table (static functions included), else the libraries' dynamic symbols (dladdr).
#pragma once

#include <cstdint>
#include <pthread.h>
#include <string>

namespace autockpt::symbols {

// The function that holds `pc`; null if none is known.
const char *function_name_at(uintptr_t pc);
// The file name (no directory) of the executable or library that holds `pc`; "?" if none.
std::string object_name_at(uintptr_t pc);
// "name (object)" for a frame's return address (pc - 1 is looked up), "?? (object)" unnamed.
std::string describe_frame(uintptr_t return_address);
// "read <- worker <- thread_root": the functions on another thread's stack (its own code, at
// most 8), read by that thread in a signal handler; for messages about a thread that does not
// come to a safe point.  Waits at most 200 ms for the thread to answer.
std::string where_is(pthread_t th);

}  // namespace autockpt::symbols
