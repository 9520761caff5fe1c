// The fixed addresses of the process (DESIGN D3): where the user's stack and heap live, so that
// every saved pointer means the same thing after a restart.
#pragma once

#include <cstdint>

namespace autockpt {

// Both regions are reserved with MAP_NORESERVE: only touched pages cost memory.
constexpr uintptr_t kArenaBase = 0x100000000000ull;  // 16 TiB
constexpr uintptr_t kStackTop = 0x300000000000ull;   // 48 TiB; the stack grows down from here

}  // namespace autockpt
