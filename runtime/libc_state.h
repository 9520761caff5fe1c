// Library state the program's results depend on that lives in libraries, not in memory a
// checkpoint saves (DESIGN D5: state with an API is read and set through that API): the
// generators of rand()/random() and of the drand48 family, and the formatting state of the C++
// standard streams (precision, flags, fill) that a program sets once and prints with ever after.
#pragma once

#include <string>

namespace autockpt::libc_state {

// Checkpoint: the Libc section.
std::string save();

// Restart, after the heap and globals are restored: the generators continue where they were.
void restore(const std::string &saved);

}  // namespace autockpt::libc_state
