// Safe-point placement and the CFG normalisation that isolates each safe point (see .h).
#include "SafePoints.h"

#include "Chunks.h"
#include "Marks.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/Analysis/ScalarEvolutionExpressions.h"
#include "llvm/IR/CFG.h"
#include "llvm/IR/Dominators.h"
#include "llvm/IR/InstIterator.h"
#include "llvm/IR/IntrinsicInst.h"
#include "llvm/Transforms/Utils/BasicBlockUtils.h"
#include "llvm/Transforms/Utils/SSAUpdater.h"

#include <optional>

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
    if (auto *A = dyn_cast<AllocaInst>(&I); A && A->isStaticAlloca()) {
      if (A->hasMetadata(kNoSaveMD))
        S.NoSaveAllocas.push_back(A);
      else
        S.Allocas.push_back(A);
    }
  for (Instruction &I : instructions(F))
    if (auto *A = dyn_cast<AllocaInst>(&I); A && !A->isStaticAlloca())
      S.DynamicStack = true;
  S.Entry = BasicBlock::Create(F.getContext(), "autockpt.entry", &F, Old);
  for (AllocaInst *A : S.Allocas)
    A->moveBefore(*S.Entry, S.Entry->end());
  for (AllocaInst *A : S.NoSaveAllocas)
    A->moveBefore(*S.Entry, S.Entry->end());
  BranchInst::Create(Old, S.Entry);
}

bool isBoundedCall(const CallBase &CB) {
  auto *II = dyn_cast<IntrinsicInst>(&CB);
  if (!II)
    return false;
  if (auto *MI = dyn_cast<AnyMemIntrinsic>(II))
    return isa<ConstantInt>(MI->getLength());
  return true;
}

// A phi that SCEV does not describe, used in E (nested operands included), with few incoming values.
static const SCEVUnknown *findUnknownPhi(const SCEV *E) {
  const SCEVUnknown *Found = nullptr;
  SCEVExprContains(E, [&](const SCEV *S) {
    if (auto *U = dyn_cast<SCEVUnknown>(S))
      if (auto *Phi = dyn_cast<PHINode>(U->getValue()); Phi && Phi->getNumIncomingValues() <= 4)
        Found = U;
    return Found != nullptr;
  });
  return Found;
}

// What the branches that lead to a loop say: each fact is `S <= C` (signed), from a dominating
// `icmp` such as the `hi - lo <= 8` or `lo < hi` around a leaf's loop (P20).  Scope is the loop
// around the phis that upperBound rewrites: an incoming value from a loop before it is taken at
// its exit.
struct Guards {
  const Loop *Scope = nullptr;
  SmallVector<std::pair<const SCEV *, int64_t>, 4> Facts;
};

static Guards guardsOf(const Loop &L, const LoopFacts &Facts) {
  ScalarEvolution &SE = Facts.SE;
  Guards G;
  G.Scope = L.getParentLoop();
  BasicBlock *BB = L.getHeader();
  for (unsigned Steps = 0; Steps < 8 && G.Facts.size() < 8; ++Steps) {
    DomTreeNode *N = Facts.DT.getNode(BB);
    if (!N || !N->getIDom())
      break;
    BasicBlock *D = N->getIDom()->getBlock();
    auto *Br = dyn_cast<BranchInst>(D->getTerminator());
    auto *Cmp = Br && Br->isConditional() ? dyn_cast<ICmpInst>(Br->getCondition()) : nullptr;
    if (Cmp && Cmp->getOperand(0)->getType()->isIntegerTy() &&
        SE.isSCEVable(Cmp->getOperand(0)->getType()))
      for (unsigned K = 0; K < 2; ++K) {
        if (Br->getSuccessor(0) == Br->getSuccessor(1) ||
            !Facts.DT.dominates(BasicBlockEdge(D, Br->getSuccessor(K)), BB))
          continue;
        CmpInst::Predicate P = K == 0 ? Cmp->getPredicate() : Cmp->getInversePredicate();
        const SCEV *A = SE.getSCEV(Cmp->getOperand(0)), *B = SE.getSCEV(Cmp->getOperand(1));
        if (ICmpInst::isUnsigned(P) && SE.isKnownNonNegative(A) && SE.isKnownNonNegative(B))
          P = ICmpInst::getSignedPredicate(P);
        switch (P) {  // A - B <= C, or B - A <= C
        case ICmpInst::ICMP_SLE: G.Facts.push_back({SE.getMinusSCEV(A, B), 0}); break;
        case ICmpInst::ICMP_SLT: G.Facts.push_back({SE.getMinusSCEV(A, B), -1}); break;
        case ICmpInst::ICMP_SGE: G.Facts.push_back({SE.getMinusSCEV(B, A), 0}); break;
        case ICmpInst::ICMP_SGT: G.Facts.push_back({SE.getMinusSCEV(B, A), -1}); break;
        default: break;
        }
      }
    BB = D;
  }
  return G;
}

// An upper bound of E (signed), or nullopt.  SCEV's own ranges miss the bound of a blocked loop,
// `for (j = jj; j < min(jj + 64, n); j++)`: its taken count is smax(jj+1, smin(jj+64, n)) - jj - 1,
// where jj cancels only once the subtraction is carried into each operand of the min and max.
// With G, E - S for a guard `S <= C` is bounded too, and C plus that bounds E.
static std::optional<int64_t> upperBound(const SCEV *E, ScalarEvolution &SE,
                                         const Guards *G = nullptr, unsigned Depth = 0) {
  if (auto *C = dyn_cast<SCEVConstant>(E))
    return C->getAPInt().getSExtValue();
  if (G && Depth < 6 && isa<SCEVAddExpr>(E)) {
    std::optional<int64_t> Best;
    for (auto &[S, C] : G->Facts) {
      const SCEV *Rest = SE.getMinusSCEV(E, S);  // useless unless S cancels out of it
      if (isa<SCEVCouldNotCompute>(Rest) ||
          SCEVExprContains(Rest, [&](const SCEV *X) { return X == S; }))
        continue;
      int64_t Sum;
      if (std::optional<int64_t> B = upperBound(Rest, SE, nullptr, Depth + 1);
          B && !__builtin_add_overflow(*B, C, &Sum))
        Best = Best ? std::min(*Best, Sum) : Sum;
    }
    if (Best)
      return Best;
  }
  if (Depth < 6) {
    if (auto *Add = dyn_cast<SCEVAddExpr>(E)) {
      for (unsigned K = 0; K < Add->getNumOperands(); ++K) {
        auto *MM = dyn_cast<SCEVMinMaxExpr>(Add->getOperand(K));
        if (!MM || (MM->getSCEVType() != scSMaxExpr && MM->getSCEVType() != scSMinExpr))
          continue;
        SmallVector<const SCEV *, 4> Rest(Add->operands());
        Rest.erase(Rest.begin() + K);
        bool IsMax = MM->getSCEVType() == scSMaxExpr;
        std::optional<int64_t> Bound;
        for (const SCEV *Op : MM->operands()) {
          SmallVector<const SCEV *, 4> Sum(Rest);
          Sum.push_back(Op);
          std::optional<int64_t> B = upperBound(SE.getAddExpr(Sum), SE, G, Depth + 1);
          if (IsMax && !B)
            return std::nullopt;  // max(a, b) <= max(ub a, ub b): both are needed
          if (B)
            Bound = Bound ? (IsMax ? std::max(*Bound, *B) : std::min(*Bound, *B)) : *B;
        }
        return Bound;  // min(a, b) <= ub a: one is enough
      }
    }
    // A phi's value is one of its incoming values: bound E with each (the vectorizer's remainder
    // loop starts where the vector loop ended, or where both would have started).
    if (auto *U = findUnknownPhi(E)) {
      auto *Phi = cast<PHINode>(U->getValue());
      std::optional<int64_t> Bound;
      for (Value *In : Phi->incoming_values()) {
        ValueToSCEVMapTy Map;
        Map[Phi] = G ? SE.getSCEVAtScope(In, G->Scope) : SE.getSCEV(In);
        std::optional<int64_t> B =
            upperBound(SCEVParameterRewriter::rewrite(E, SE, Map), SE, G, Depth + 1);
        if (!B)
          return std::nullopt;
        Bound = Bound ? std::max(*Bound, *B) : *B;
      }
      return Bound;
    }
    if (auto *Div = dyn_cast<SCEVUDivExpr>(E))
      if (auto *D = dyn_cast<SCEVConstant>(Div->getRHS()); D && !D->getValue()->isZero())
        if (std::optional<int64_t> N = upperBound(Div->getLHS(), SE, G, Depth + 1); N && *N >= 0)
          return int64_t(uint64_t(*N) / D->getAPInt().getZExtValue());
    if (auto *Add = dyn_cast<SCEVAddExpr>(E)) {  // no min or max in it: bound term by term
      int64_t Sum = 0;
      for (const SCEV *Op : Add->operands()) {
        std::optional<int64_t> B = upperBound(Op, SE, G, Depth + 1);
        if (!B || __builtin_add_overflow(Sum, *B, &Sum))
          return std::nullopt;
      }
      return Sum;
    }
  }
  APInt Max = SE.getSignedRangeMax(E);
  if (Max.isMaxSignedValue() || Max.getSignificantBits() > 63)
    return std::nullopt;
  return Max.getSExtValue();
}

// The most times L's header runs per execution of L, if at most kUnpolledWork; else 0.
static uint64_t maxTrips(const Loop &L, const LoopFacts &Facts) {
  ScalarEvolution &SE = Facts.SE;
  uint64_t Trips = SE.getSmallConstantMaxTripCount(&L);
  if (Trips != 0 && Trips <= kUnpolledWork)
    return Trips;
  const SCEV *Max = SE.getSymbolicMaxBackedgeTakenCount(&L);
  if (isa<SCEVCouldNotCompute>(Max) || !Max->getType()->isIntegerTy())
    return 0;
  std::optional<int64_t> Taken = upperBound(Max, SE);
  if (!Taken || *Taken < 0 || uint64_t(*Taken) >= kUnpolledWork) {
    Guards G = guardsOf(L, Facts);
    if (!G.Facts.empty())
      Taken = upperBound(Max, SE, &G);
  }
  if (!Taken || *Taken < 0 || uint64_t(*Taken) >= kUnpolledWork)
    return 0;
  return uint64_t(*Taken) + 1;
}

// Instructions one execution of L runs at most, inner loops included; 0 when that is not bounded
// by kUnpolledWork (no constant trip count, a call, an inner loop that is not bounded).
static uint64_t boundedWork(const Loop &L, const LoopFacts &Facts) {
  uint64_t Trips = maxTrips(L, Facts);
  if (Trips == 0)
    return 0;
  uint64_t Body = 0;
  for (BasicBlock *BB : L.blocks()) {
    if (Facts.LI.getLoopFor(BB) != &L)
      continue;  // counted with its inner loop
    for (Instruction &I : *BB) {
      if (auto *CB = dyn_cast<CallBase>(&I); CB && !isBoundedCall(*CB))
        return 0;
      ++Body;
    }
  }
  for (const Loop *Inner : L) {
    uint64_t W = boundedWork(*Inner, Facts);
    if (W == 0)
      return 0;
    Body += W;
  }
  return Body * Trips <= kUnpolledWork ? Body * Trips : 0;
}

// Whether every iteration of L calls a function that polls at its entry: a block of L with
// such a call dominates every latch.
static bool everyIterationPolls(const Loop &L, const LoopFacts &Facts,
                                const SafePointPolicy &Policy) {
  SmallVector<BasicBlock *, 4> Latches;
  L.getLoopLatches(Latches);
  for (BasicBlock *BB : L.blocks())
    for (Instruction &I : *BB)
      if (auto *CB = dyn_cast<CallBase>(&I); CB && Policy.CallPollsAtEntry &&
                                             Policy.CallPollsAtEntry(*CB))
        if (llvm::all_of(Latches, [&](BasicBlock *Latch) { return Facts.DT.dominates(BB, Latch); }))
          return true;
  return false;
}

// The natural loop that is exactly this cycle, or null (an irreducible cycle).
static const Loop *loopOf(const Cycle &C, const LoopFacts &Facts) {
  const Loop *L = Facts.LI.getLoopFor(C.getHeader());
  if (!L || L->getHeader() != C.getHeader() || !C.isReducible() ||
      L->getNumBlocks() != C.getNumBlocks())
    return nullptr;
  return L;
}

// Whether a `#pragma autockpt safepoint` lies in C itself (not in a cycle nested in it).
static bool hasSafePointMarker(const Cycle &C) {
  for (BasicBlock *BB : C.blocks())
    for (Instruction &I : *BB)
      if (asSafePointMarker(I)) {
        const Cycle *Inner = &C;
        for (const Cycle *Child : C.children())
          if (Child->contains(BB))
            Inner = Child;
        if (Inner == &C)
          return true;
      }
  return false;
}

// Every iteration of a cycle passes through its header or through a header of a cycle nested in
// it, so polls go there (nothing may precede a landing pad: an EH-pad header has none).
// Collected before any block is split, since splitting invalidates the analyses.
SmallVector<BasicBlock *, 8> pollHeaders(const LoopFacts &Facts, const SafePointPolicy &Policy) {
  SmallSetVector<BasicBlock *, 8> Headers;
  SmallVector<const Cycle *, 8> Work(Facts.CI.toplevel_begin(), Facts.CI.toplevel_end());
  while (!Work.empty()) {
    const Cycle *C = Work.pop_back_val();
    Work.append(C->child_begin(), C->child_end());
    BasicBlock *H = C->getHeader();
    const Loop *HL = Facts.LI.getLoopFor(H);
    DebugLoc Loc = HL && HL->getHeader() == H ? HL->getStartLoc() : DebugLoc();
    auto Skip = [&](StringRef Why) {
      if (Policy.Unpolled)
        Policy.Unpolled(H, Loc, Why);
    };
    if (H->isEHPad())
      continue;
    if (Policy.NoLoopPolls) {
      Skip("no poll in this loop: its function is marked nopoll; a checkpoint request waits for a "
           "safe point around the call");
      continue;
    }
    // `#pragma autockpt nopoll` on it or a loop around it; `#pragma autockpt safepoint` in it.
    if (inNoPollLoop(HL)) {
      Skip("no poll in this loop: #pragma autockpt nopoll; a checkpoint request waits for the "
           "next safe point after the loop nest");
      continue;
    }
    if (hasSafePointMarker(*C)) {
      Skip("the loop's poll is at its #pragma autockpt safepoint");
      continue;
    }
    if (const Loop *L = loopOf(*C, Facts)) {
      if (uint64_t Trips = chunkTrips(*L)) {
        Skip(("no poll in this loop: it runs in chunks of " + Twine(Trips) +
              " iterations, and the loop of the chunks polls")
                 .str());
        continue;
      }
      if (boundedWork(*L, Facts)) {
        Skip("no poll in this loop: its work is bounded (at most 16384 instructions)");
        continue;
      }
      if (everyIterationPolls(*L, Facts, Policy)) {
        Skip("no poll in this loop: every iteration calls a function that polls at its entry");
        continue;
      }
    }
    Headers.insert(H);
  }
  return SmallVector<BasicBlock *, 8>(Headers.begin(), Headers.end());
}

bool isSetjmpCall(const CallBase &CB) {
  if (!CB.hasFnAttr(Attribute::ReturnsTwice))
    return false;
  auto *Callee = dyn_cast<Function>(CB.getCalledOperand()->stripPointerCasts());
  return Callee && Callee->getName().contains("setjmp");
}

std::string coverSetjmps(FunctionShape &S) {
  if (S.Setjmps.empty())
    return "";
  DominatorTree DT(*S.F);
  for (unsigned K = 0; K < S.Setjmps.size(); ++K) {
    SetjmpSite &J = S.Setjmps[K];
    SmallPtrSet<BasicBlock *, 32> Reached;
    SmallVector<BasicBlock *, 32> Work = {J.Cont};
    while (!Work.empty()) {
      BasicBlock *BB = Work.pop_back_val();
      if (Reached.insert(BB).second)
        Work.append(succ_begin(BB), succ_end(BB));
    }
    std::optional<SSAUpdater> Ran;  // whether J ran on the way to a block: made on first need
    for (SafePoint &SP : S.SafePoints) {
      if (!Reached.count(SP.Site))
        continue;
      if (DT.dominates(J.Cont, SP.Site)) {
        SP.Setjmps.push_back(K);
        SP.SetjmpRan.push_back(nullptr);
        continue;
      }
      // On some paths only (a setjmp in a branch, or later in a loop): the restore re-runs it if
      // it ran, which the frame records.  Its buffer must be known on every path.
      for (Value *A : J.Call->args())
        if (auto *I = dyn_cast<Instruction>(A); I && !DT.dominates(I->getParent(), SP.Site))
          return "a safe point follows a setjmp on some paths only, and the setjmp's buffer is "
                 "not known on the others";
      if (!Ran) {
        Ran.emplace();
        Ran->Initialize(Type::getInt1Ty(S.F->getContext()), "autockpt.setjmp.ran");
        Ran->AddAvailableValue(S.Entry, ConstantInt::getFalse(S.F->getContext()));
        Ran->AddAvailableValue(J.Cont, ConstantInt::getTrue(S.F->getContext()));
      }
      SP.Setjmps.push_back(K);
      SP.SetjmpRan.push_back(Ran->GetValueInMiddleOfBlock(SP.Site));
    }
  }
  for (SafePoint &SP : S.SafePoints) {
    // Those that dominate, outermost first (the order they ran in); then the others, in order.
    std::vector<unsigned> Order(SP.Setjmps.size());
    for (unsigned I = 0; I < Order.size(); ++I)
      Order[I] = I;
    std::stable_sort(Order.begin(), Order.end(), [&](unsigned A, unsigned B) {
      bool DomA = !SP.SetjmpRan[A], DomB = !SP.SetjmpRan[B];
      if (DomA != DomB)
        return DomA;
      return DomA && DT.dominates(S.Setjmps[SP.Setjmps[A]].Cont,
                                  S.Setjmps[SP.Setjmps[B]].Call->getParent());
    });
    std::vector<unsigned> Setjmps;
    std::vector<Value *> RanValues;
    for (unsigned I : Order) {
      Setjmps.push_back(SP.Setjmps[I]);
      RanValues.push_back(SP.SetjmpRan[I]);
    }
    SP.Setjmps = std::move(Setjmps);
    SP.SetjmpRan = std::move(RanValues);
  }
  return "";
}

void bridgeSetjmpLiveValues(FunctionShape &S) {
  std::optional<DominatorTree> DT;
  for (SafePoint &SP : S.SafePoints) {
    if (llvm::all_of(SP.SetjmpRan, [](Value *V) { return V == nullptr; }))
      continue;
    if (!DT)
      DT.emplace(*S.F);
    for (Value *&V : SP.Live) {
      auto *I = dyn_cast<Instruction>(V);
      if (!I || I->getParent() == SP.Site || DT->dominates(I->getParent(), SP.Site))
        continue;
      SSAUpdater Latest;
      Latest.Initialize(I->getType(), I->hasName() ? (I->getName() + ".autockpt.latest").str() : "");
      Latest.AddAvailableValue(S.Entry, PoisonValue::get(I->getType()));
      Latest.AddAvailableValue(I->getParent(), I);
      Value *At = Latest.GetValueInMiddleOfBlock(SP.Site);
      SP.SetjmpBridged.push_back({I, At});
      V = At;
    }
  }
}

void placeSafePoints(FunctionShape &S, const LoopFacts &Facts, const SafePointPolicy &Policy) {
  Function &F = *S.F;
  auto Headers = pollHeaders(Facts, Policy);
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
  auto AddPoll = [&SPs](BasicBlock *Site, DebugLoc Loc) {
    SafePoint SP;
    SP.Kind = SafePoint::Poll;
    SP.Site = Site;
    SP.Loc = Loc;
    SPs.push_back(SP);
  };
  for (BasicBlock *H : Headers) {
    BasicBlock::iterator First = H->getFirstNonPHIIt();
    DebugLoc Loc = First->getDebugLoc();
    H->splitBasicBlock(First, "autockpt.loop");
    AddPoll(H, Loc);
  }

  // `#pragma autockpt safepoint`: a poll exactly there, in a block of its own that holds only
  // `br <rest>` (the marker goes; what follows it starts the next block).
  SmallVector<CallInst *, 4> Markers;
  for (Instruction &I : instructions(F))
    if (CallInst *M = asSafePointMarker(I))
      Markers.push_back(M);
  for (CallInst *M : Markers) {
    BasicBlock *BB = M->getParent();
    DebugLoc Loc = M->getDebugLoc();
    BasicBlock *Site = BB->splitBasicBlock(M, "autockpt.safepoint");
    Instruction *Next = M->getNextNode();
    M->replaceAllUsesWith(M->getArgOperand(0));
    M->eraseFromParent();
    Site->splitBasicBlock(Next, "autockpt.safepoint.cont");
    AddPoll(Site, Loc);
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

  // Each setjmp ends its block: what follows it is where a longjmp lands (P15).
  for (Instruction &I : instructions(F))
    if (auto *CI = dyn_cast<CallInst>(&I); CI && isSetjmpCall(*CI)) {
      SetjmpSite J;
      J.Call = CI;
      S.Setjmps.push_back(J);
    }
  for (SetjmpSite &J : S.Setjmps)
    J.Cont = J.Call->getParent()->splitBasicBlock(J.Call->getNextNode(), "autockpt.setjmp.cont");

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
