// The application's heap (DESIGN D4): an allocator whose every byte of state lives inside a
// fixed-address arena, so restoring the arena's used prefix restores the heap exactly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

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
uint64_t used_bytes();     // [base, base + used) holds the heap's blocks
uint64_t reserved_bytes();

// The parts of the arena that a checkpoint saves, in address order (offsets from the base):
// its used blocks and state below used_bytes(), and the used part of the page map.  Each
// starts at a page; each length is a multiple of `granule` (a power of two up to the page: a
// page keeps a large heap readable with O_DIRECT, 16 bytes keeps a small one small).  The rest
// is zero (free runs, pages no block ever reached) and is zero again after prepare_restore.
// Only while no thread allocates.
struct Extent {
  uint64_t offset, length;
};
std::vector<Extent> saved_extents(uint64_t granule = 4096);

// Restore: make the arena all zero, for the caller to copy the saved extents in afterwards;
// `end` is where the last extent ends (dies with a message when the arena is smaller).
// Returns the base.
void *prepare_restore(uint64_t end);

void *malloc(size_t n);
void *calloc(size_t n, size_t size);
void *realloc(void *p, size_t n);
void free(void *p);
void *aligned(size_t align, size_t n);  // align: any power of two
size_t usable_size(const void *p);
// The bytes from p to the end of the live block it points into; 0 when p is not in one (a
// large block only from its start).  For data a checkpoint leaves out (nosave pointers).
uint64_t block_bytes_from(const void *p);

}  // namespace autockpt::arena
