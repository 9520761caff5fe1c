// Names for code addresses, for messages that say where a program is: the executable's own
// symbol table (static functions included), else the libraries' dynamic symbols (dladdr).
#pragma once

#include <cstdint>
#include <string>

namespace autockpt::symbols {

// The function that holds `pc`; null if none is known.
const char *function_name_at(uintptr_t pc);
// The file name (no directory) of the executable or library that holds `pc`; "?" if none.
std::string object_name_at(uintptr_t pc);
// "name (object)" for a frame's return address (pc - 1 is looked up), "?? (object)" unnamed.
std::string describe_frame(uintptr_t return_address);

}  // namespace autockpt::symbols
