// The application's heap (DESIGN D4): an allocator whose every byte of state lives inside a
// fixed-address arena, so restoring the arena's used prefix restores the heap exactly.
#pragma once

#include <cstddef>
#include <cstdint>

namespace autockpt::arena {

// Reserves the arena (idempotent; called lazily by the first allocation, which may come from
// a static constructor before main).  Dies with a message if the address range is taken.
void init(uint64_t reserve_bytes);

bool contains(const void *p);
uintptr_t base();
// Pointers the runtime keeps in the arena's header, so they are saved and restored with it.
enum Root : unsigned { kExitHandlers = 0, kEnviron = 1, kSignals = 2, kThreadDtors = 3,
                      kArguments = 4, kKeys = 5, kKeyValues = 6 };
void **root(unsigned i);
uint64_t used_bytes();     // [base, base + used) is everything that must be saved
uint64_t reserved_bytes();

// Restore: make the arena hold exactly `used` bytes copied in by the caller afterwards.
// Returns the address to copy them to.
void *prepare_restore(uint64_t used);

void *malloc(size_t n);
void *calloc(size_t n, size_t size);
void *realloc(void *p, size_t n);
void free(void *p);
void *aligned(size_t align, size_t n);  // align: any power of two
size_t usable_size(const void *p);

}  // namespace autockpt::arena
