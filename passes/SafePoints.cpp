// Safe-point placement and the CFG normalisation that isolates each safe point (see .h).
#include "SafePoints.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/IR/CFG.h"
#include "llvm/IR/InstIterator.h"
#include "llvm/IR/IntrinsicInst.h"
#include "llvm/Transforms/Utils/BasicBlockUtils.h"

using namespace llvm;

namespace autockpt {

static void stripLifetimeMarkers(Function &F) {
  SmallVector<Instruction *, 16> Dead;
  for (Instruction &I : instructions(F))
    if (auto *II = dyn_cast<IntrinsicInst>(&I))
      if (II->getIntrinsicID() == Intrinsic::lifetime_start ||
          II->getIntrinsicID() == Intrinsic::lifetime_end)
        Dead.push_back(II);
  for (Instruction *I : Dead)
    I->eraseFromParent();
}

// Moves the static allocas into a fresh entry block that ends in `br <old entry>`.
static void makeEntryBlock(FunctionShape &S) {
  Function &F = *S.F;
  BasicBlock *Old = &F.getEntryBlock();
  for (Instruction &I : *Old)
    if (auto *A = dyn_cast<AllocaInst>(&I); A && A->isStaticAlloca())
      S.Allocas.push_back(A);
  for (Instruction &I : instructions(F))
    if (auto *A = dyn_cast<AllocaInst>(&I); A && !A->isStaticAlloca())
      S.DynamicStack = true;
  S.Entry = BasicBlock::Create(F.getContext(), "autockpt.entry", &F, Old);
  for (AllocaInst *A : S.Allocas)
    A->moveBefore(*S.Entry, S.Entry->end());
  BranchInst::Create(Old, S.Entry);
}

// The header of every cycle (so irreducible cycles too): every iteration of a cycle passes
// through its header or through a header of a cycle nested in it.  Collected before any block
// is split, since splitting invalidates the CycleInfo.
static SmallVector<BasicBlock *, 8> cycleHeaders(CycleInfo &CI) {
  SmallSetVector<BasicBlock *, 8> Headers;
  SmallVector<const Cycle *, 8> Work(CI.toplevel_begin(), CI.toplevel_end());
  while (!Work.empty()) {
    const Cycle *C = Work.pop_back_val();
    Work.append(C->child_begin(), C->child_end());
    if (!C->getHeader()->isEHPad())  // nothing may precede a landing pad
      Headers.insert(C->getHeader());
  }
  return SmallVector<BasicBlock *, 8>(Headers.begin(), Headers.end());
}

void placeSafePoints(FunctionShape &S, CycleInfo &CI, const SafePointPolicy &Policy) {
  Function &F = *S.F;
  auto Headers = cycleHeaders(CI);
  stripLifetimeMarkers(F);
  makeEntryBlock(S);

  std::vector<SafePoint> SPs;
  if (Policy.PollAtEntry) {
    BasicBlock *Old = S.Entry->getSingleSuccessor();
    BasicBlock *P = SplitEdge(S.Entry, Old);
    P->setName("autockpt.entry.poll");
    SafePoint SP;
    SP.Kind = SafePoint::Entry;
    SP.Site = P;
    SP.Loc = Old->getFirstNonPHIOrDbg()->getDebugLoc();
    SPs.push_back(SP);
  }

  // The poll goes at the top of the header, after its phis: the latch keeps its compare and
  // branch back, and a restore re-enters the header through one more incoming edge.
  for (BasicBlock *H : Headers) {
    Instruction *First = H->getFirstNonPHI();
    DebugLoc Loc = First->getDebugLoc();
    H->splitBasicBlock(First, "autockpt.loop");
    SafePoint SP;
    SP.Kind = SafePoint::Poll;
    SP.Site = H;
    SP.Loc = Loc;
    SPs.push_back(SP);
  }

  SmallVector<CallBase *, 16> Calls;
  for (Instruction &I : instructions(F))
    if (auto *CB = dyn_cast<CallBase>(&I))
      if (!CB->isInlineAsm() && !isa<CallBrInst>(CB) && Policy.IsCheckpointableCall(*CB))
        Calls.push_back(CB);
  for (CallBase *CB : Calls) {
    if (auto *CI = dyn_cast<CallInst>(CB))
      if (CI->isTailCall())
        CI->setTailCallKind(CallInst::TCK_None);  // the check after it forbids a sibcall
    SafePoint SP;
    SP.Kind = SafePoint::Call;
    SP.TheCall = CB;
    SP.Loc = CB->getDebugLoc();
    SP.Site = CB->getParent()->splitBasicBlock(CB, "autockpt.call");
    if (auto *II = dyn_cast<InvokeInst>(CB)) {
      SP.After = SplitEdge(SP.Site, II->getNormalDest());
      SP.After->setName("autockpt.call.ret");
    } else {
      SP.Site->splitBasicBlock(CB->getNextNode(), "autockpt.cont");
      SP.After = SP.Site;
    }
    SPs.push_back(SP);
  }

  // Ids follow block order, which is deterministic for a given input.
  DenseMap<const BasicBlock *, unsigned> Order;
  for (BasicBlock &BB : F)
    Order[&BB] = Order.size();
  llvm::sort(SPs, [&](const SafePoint &A, const SafePoint &B) {
    return Order[A.Site] < Order[B.Site];
  });
  for (unsigned K = 0; K < SPs.size(); ++K)
    SPs[K].Id = K + 1;
  S.SafePoints = std::move(SPs);
}

}  // namespace autockpt
