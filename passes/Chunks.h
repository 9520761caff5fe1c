// Strip-mining of counted loops that would poll every iteration (docs/design.md P19): an
// innermost loop whose exit test compares an induction variable with a loop-invariant bound runs
// in chunks of at most kUnpolledWork instructions instead, and polls once per chunk, in the header
// of the new outer loop that starts each chunk.  The chunk's own loop compares with the chunk's
// last value of the variable instead of the bound: the same instructions per iteration as the
// plain loop.
#pragma once

#include "SafePoints.h"

namespace autockpt {

// Strip-mines every loop of F that pollHeaders(Facts, Policy) would poll and that qualifies (see
// Chunks.cpp).  Returns whether F changed; the analyses in Facts are then stale.
bool chunkLoops(llvm::Function &F, const LoopFacts &Facts, const SafePointPolicy &Policy);

// The iterations of one chunk when L is the chunk loop of a strip-mined loop (it needs no poll:
// the loop around it polls), else 0.
uint64_t chunkTrips(const llvm::Loop &L);

}  // namespace autockpt
