// Files and file descriptors across a restart (DESIGN D5): the program's FILE* are handles in
// checkpointed memory; the runtime records how each real stream was opened and re-creates it
// at restart (same fd, same offset; output files truncated to their size at the checkpoint so
// that nothing is written twice).
#pragma once

#include <cstdio>
#include <string>

namespace autockpt::files {

// The real stream behind what the program holds: a handle, or stdin/stdout/stderr (or any
// stream opened by uninstrumented code), which are passed through.
FILE *real(FILE *f);

// Checkpoint: flush, and serialise the state of every open handle (positions, sizes).
std::string save();
// Restart, after the heap is restored: re-open every file, or say which cannot be.
void restore(const std::string &saved);

}  // namespace autockpt::files
