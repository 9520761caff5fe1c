// Backward dataflow liveness over SSA values with one bit vector per block; phi operands are
// uses at the end of the incoming block.  Only the live-in sets of safe-point blocks are kept.
#include "Liveness.h"

#include "llvm/ADT/BitVector.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/PostOrderIterator.h"
#include "llvm/IR/CFG.h"
#include "llvm/IR/InstIterator.h"

using namespace llvm;

namespace autockpt {

namespace {

struct BlockSets {
  BitVector Use, Def, In, Out, PhiUse;
};

}  // namespace

void computeLiveness(FunctionShape &S) {
  Function &F = *S.F;
  DenseMap<const Value *, unsigned> Index;
  std::vector<Value *> Values;
  SmallPtrSet<const AllocaInst *, 8> Saved(S.Allocas.begin(), S.Allocas.end());
  Saved.insert(S.NoSaveAllocas.begin(), S.NoSaveAllocas.end());  // in the entry block too
  for (Instruction &I : instructions(F)) {
    if (I.getType()->isVoidTy())
      continue;
    if (auto *A = dyn_cast<AllocaInst>(&I); A && Saved.count(A))
      continue;
    Index[&I] = Values.size();
    Values.push_back(&I);
  }
  const unsigned N = Values.size();
  auto indexOf = [&](const Value *V) -> int {
    auto It = Index.find(V);
    return It == Index.end() ? -1 : int(It->second);
  };

  DenseMap<const BasicBlock *, BlockSets> Sets;
  for (BasicBlock &BB : F) {
    BlockSets &B = Sets[&BB];
    B.Use = B.Def = B.In = B.Out = B.PhiUse = BitVector(N);
  }
  for (BasicBlock &BB : F) {
    BlockSets &B = Sets[&BB];
    for (Instruction &I : BB) {
      if (auto *PN = dyn_cast<PHINode>(&I)) {
        for (unsigned K = 0, E = PN->getNumIncomingValues(); K != E; ++K)
          if (int X = indexOf(PN->getIncomingValue(K)); X >= 0)
            Sets[PN->getIncomingBlock(K)].PhiUse.set(X);
      } else {
        for (Value *Op : I.operands())
          if (int X = indexOf(Op); X >= 0 && !B.Def.test(X))
            B.Use.set(X);
      }
      if (int X = indexOf(&I); X >= 0)
        B.Def.set(X);
    }
  }

  // Iterate to a fixed point in post order (successors first) for fast convergence.
  std::vector<BasicBlock *> Order(po_begin(&F), po_end(&F));
  for (bool Changed = true; Changed;) {
    Changed = false;
    for (BasicBlock *BB : Order) {
      BlockSets &B = Sets[BB];
      BitVector Out = B.PhiUse;
      for (BasicBlock *Succ : successors(BB))
        Out |= Sets[Succ].In;
      BitVector In = Out;
      In.reset(B.Def);
      In |= B.Use;
      if (Out != B.Out || In != B.In) {
        B.Out = std::move(Out);
        B.In = std::move(In);
        Changed = true;
      }
    }
  }

  for (SafePoint &SP : S.SafePoints) {
    SP.Live.clear();
    const BlockSets &B = Sets[SP.Site];
    BitVector Live = SP.Kind == SafePoint::Call ? B.In : B.Out;
    // A setjmp before the safe point is re-run by its restore (P15), and a longjmp may land after
    // it: what is live there, and the setjmp's own operands, are live here too.
    for (unsigned I = 0; I < SP.Setjmps.size(); ++I) {
      const SetjmpSite &J = S.Setjmps[SP.Setjmps[I]];
      Live |= Sets[J.Cont].In;
      for (Value *Op : J.Call->args())
        if (int X = indexOf(Op); X >= 0)
          Live.set(X);
      if (int X = indexOf(SP.SetjmpRan[I]); X >= 0)
        Live.set(X);  // whether it ran on the way here
    }
    for (unsigned X : Live.set_bits())
      SP.Live.push_back(Values[X]);
  }
}

}  // namespace autockpt
