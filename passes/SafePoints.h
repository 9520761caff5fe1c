// Where safe points go, and the CFG normalisation that gives each its own block:
//   - the header of every cycle (CycleInfo, so irreducible cycles too) is split after its phis;
//     the header, now phis and `br autockpt.loop`, becomes a poll;
//   - functions in recursive call-graph cycles get a poll at entry (`autockpt.entry.poll`);
//   - every call to a checkpointable function starts its own block `autockpt.call`.
// The static allocas move into a new entry block `autockpt.entry`.  Lifetime markers are
// removed: a restored frame is entered in the middle of every lifetime.
#pragma once

#include "Shape.h"

#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/Analysis/CycleAnalysis.h"

namespace autockpt {

struct SafePointPolicy {
  llvm::function_ref<bool(const llvm::CallBase &)> IsCheckpointableCall;
  bool PollAtEntry = false;  // the function is in a recursive call-graph cycle
};

// Normalises S.F and fills S.Entry, S.Allocas and S.SafePoints (ids in block order).
void placeSafePoints(FunctionShape &S, llvm::CycleInfo &CI, const SafePointPolicy &Policy);

}  // namespace autockpt
