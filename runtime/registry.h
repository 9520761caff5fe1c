// What the instrumented modules told the runtime about themselves (include/autockpt/abi.h):
// their functions, safe points and writable globals.
#pragma once

#include "autockpt/abi.h"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace autockpt::registry {

// Called by each module's constructor, possibly before main and before any C++ object of the
// runtime is constructed: it only appends to constant-initialised storage.
void add(const autockpt_module *m);

// Called once at the start of main: checks ABI versions, indexes functions, dedupes globals.
void finalize();

struct Global {
  void *addr;
  uint64_t size;
  const char *name;
  const char *module;
};
const std::vector<Global> &globals();  // sorted by address, each address once
// The nosave pointer globals: the heap blocks they point to are left out of checkpoints (C3).
const std::vector<void *const *> &nosave_pointers();

const autockpt_function *function(uint64_t fid);  // null if unknown
const char *function_name(uint64_t fid);          // "function 0x..." if unknown
// Is `entry` the first instruction of an instrumented function?
bool is_instrumented_entry(uintptr_t entry);
size_t function_count();

}  // namespace autockpt::registry
