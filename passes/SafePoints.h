// Where safe points go, and the CFG normalisation that gives each its own block:
//   - the header of every cycle (CycleInfo, so irreducible cycles too) is split after its phis;
//     the header, now phis and `br autockpt.loop`, becomes a poll.  Except (P12): a loop whose
//     work is bounded by a small constant (it calls nothing, SCEV bounds its trip count), and a
//     loop of which every iteration calls a function that polls at its entry, and the chunk loop
//     of a strip-mined loop (Chunks.h, P19: the loop of its chunks polls);
//   - functions in recursive call-graph cycles get a poll at entry (`autockpt.entry.poll`);
//   - every call to a checkpointable function starts its own block `autockpt.call`.
// The static allocas move into a new entry block `autockpt.entry`.  Lifetime markers are
// removed: a restored frame is entered in the middle of every lifetime.
#pragma once

#include "Shape.h"

#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/Analysis/CycleAnalysis.h"
#include "llvm/Analysis/LoopInfo.h"
#include "llvm/Analysis/ScalarEvolution.h"
#include "llvm/IR/Dominators.h"

#include <string>

namespace autockpt {

// A loop may go without a poll when one execution of it, inner loops included, is at most this
// many instructions: about 20 us at 1 ns each, 2 ms if every one missed the cache.
constexpr uint64_t kUnpolledWork = 1 << 14;

// Calls that end within a bounded time: intrinsics other than a memory copy or set of unknown size.
bool isBoundedCall(const llvm::CallBase &CB);

struct SafePointPolicy {
  llvm::function_ref<bool(const llvm::CallBase &)> IsCheckpointableCall;
  // The call reaches a poll at once: a direct call of a function that polls at its entry.
  llvm::function_ref<bool(const llvm::CallBase &)> CallPollsAtEntry;
  bool PollAtEntry = false;  // the function is in a recursive call-graph cycle
  bool NoLoopPolls = false;  // [[autockpt::nopoll]]: the function's loops get no poll
  // Told about every cycle left without a poll, and why (the -Rpass-missed=autockpt remarks).
  llvm::function_ref<void(llvm::BasicBlock *Header, llvm::DebugLoc Loc, llvm::StringRef Why)>
      Unpolled;
};

// The analyses of the function before placeSafePoints changes it.
struct LoopFacts {
  llvm::CycleInfo &CI;
  llvm::LoopInfo &LI;
  llvm::ScalarEvolution &SE;
  llvm::DominatorTree &DT;
};

// The headers of the cycles that need a poll (see above), outermost first.
llvm::SmallVector<llvm::BasicBlock *, 8> pollHeaders(const LoopFacts &Facts,
                                                     const SafePointPolicy &Policy);

// Normalises S.F and fills S.Entry, S.Allocas, S.SafePoints (ids in block order) and S.Setjmps
// (each setjmp ends its block).
void placeSafePoints(FunctionShape &S, const LoopFacts &Facts, const SafePointPolicy &Policy);

// A call to setjmp, sigsetjmp, _setjmp (returns twice, "setjmp" in its name); vfork is not one.
bool isSetjmpCall(const llvm::CallBase &CB);

// After placeSafePoints: which setjmps each safe point's restore re-runs (those that dominate it,
// P15).  Returns why the function cannot be instrumented: a safe point that a setjmp reaches on
// some paths only (its buffer could hold a stale context after a restart); empty if none.
std::string coverSetjmps(FunctionShape &S);

// After computeLiveness: a safe point that a setjmp reaches on some paths only saves what is live
// where a longjmp lands.  A value there that is not defined on every path to the safe point is
// saved as its latest definition on the path (poison where none): the value it has if the
// setjmp's function never redefined it since, which is all C promises after a longjmp.
void bridgeSetjmpLiveValues(FunctionShape &S);

}  // namespace autockpt
