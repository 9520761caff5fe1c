// The state of the process that a checkpoint saves besides memory: where the user's main was
// called from, and with what.  Shared by control.cpp (which runs the program) and
// checkpoint.cpp (which writes and reads images).
#pragma once

#include <cstdint>

namespace autockpt {

struct ProcessState {
  int argc = 0;
  char **argv = nullptr;  // in the arena
  char **envp = nullptr;  // in the arena
  uint64_t stack_base = 0, stack_size = 0;
  uint64_t checkpoints = 0;  // taken in this run's lineage, restarts included
};

}  // namespace autockpt
