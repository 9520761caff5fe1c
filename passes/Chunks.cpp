// Strip-mining of counted loops that would poll every iteration (see Chunks.h, P19).  The shape:
//
//   %h.autockpt.chunk:                ; the outer loop's header: its poll goes here
//     %iv.chunk = phi [%iv0, %preheader], [%iv.resume, %h.autockpt.chunk.end]  ; per header phi
//     %autockpt.first = add %iv.chunk, C   ; the exit test's Y in the chunk's first iteration
//     %autockpt.left = sub %bound, %autockpt.first   ; (first - bound when the step is negative)
//     %autockpt.big = icmp uge %left, TRIPS*|STEP|
//     %autockpt.last = add %iv.chunk, C + (TRIPS-1)*STEP
//     %autockpt.lim = select %big, %last, %bound      ; Y in the chunk's last iteration
//     br %h
//   %h:        %iv = phi [%iv.chunk, %h.autockpt.chunk], [%iv.next, %latch]   ...
//   %latch:    br (icmp eq %y, %lim), %h.autockpt.chunk.end, %h   ; !autockpt.chunk !{TRIPS}
//   %h.autockpt.chunk.end:                           ; %iv.resume = %lim + STEP - C
//              br (icmp eq %lim, %bound), %exit, %h.autockpt.chunk
//
// When Y serves only the exit test, the latch counts the chunk's iterations up to zero instead
// (`%autockpt.togo`, from minus TRIPS or minus the iterations left), and %lim is Y in the last
// iteration computed from them (countdown form, see stripMine).
//
// Why it is the same loop: Y takes the values first + j*STEP (mod 2^w) in iteration j of a
// chunk.  When %left >= TRIPS*|STEP|, no j < TRIPS has j*STEP == %left, so the real exit is not
// among the chunk's iterations, and the chunk ends after exactly TRIPS of them, at %last, which
// is not the bound: the next chunk starts with the same values as the loop's next iteration.
// Otherwise the chunk runs to the loop's own exit.
#include "Chunks.h"

#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/bit.h"
#include "llvm/Analysis/ScalarEvolutionExpressions.h"
#include "llvm/IR/CFG.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/IntrinsicInst.h"
#include "llvm/IR/Module.h"

#include <optional>

using namespace llvm;

namespace autockpt {

namespace {

constexpr const char *kChunkMD = "autockpt.chunk";

// A loop that can be strip-mined: its latch, the only block that leaves it, ends in
// `br (icmp eq|ne Y, Bound), ...` where Y = IV + Offset and IV is a header phi that SCEV sees
// advance by Step every iteration, and Bound is loop-invariant.
struct Candidate {
  BasicBlock *Header, *Latch, *Exit;
  BranchInst *Br;
  ICmpInst *Cmp;
  unsigned BoundIdx;  // the operand of Cmp that is Bound
  PHINode *IV;
  APInt Offset, Step;
  uint64_t Trips;  // iterations per chunk, a power of two
  bool CountDown;  // Y and IV serve only the exit test (and IV's own increment)
};

// Instructions of one iteration of L (an innermost loop); 0 when it calls anything that may take
// unbounded time.
uint64_t iterationWork(const Loop &L) {
  uint64_t Work = 0;
  for (BasicBlock *BB : L.blocks())
    for (Instruction &I : *BB) {
      if (auto *CB = dyn_cast<CallBase>(&I); CB && !isBoundedCall(*CB))
        return 0;
      ++Work;
    }
  return Work;
}

std::optional<Candidate> analyse(Loop &L, const LoopFacts &Facts) {
  if (!L.isInnermost())
    return std::nullopt;
  BasicBlock *H = L.getHeader(), *Latch = L.getLoopLatch();
  if (!Latch || L.getExitingBlock() != Latch || H->isEHPad())
    return std::nullopt;
  auto *Br = dyn_cast<BranchInst>(Latch->getTerminator());
  if (!Br || !Br->isConditional())
    return std::nullopt;
  unsigned ExitIdx = L.contains(Br->getSuccessor(0)) ? 1 : 0;
  if (L.contains(Br->getSuccessor(ExitIdx)) || Br->getSuccessor(1 - ExitIdx) != H)
    return std::nullopt;
  // The loop ends when Y meets the bound: `br (Y == Bound), exit, h` or `br (Y != Bound), h, exit`.
  auto *Cmp = dyn_cast<ICmpInst>(Br->getCondition());
  if (!Cmp || !Cmp->isEquality() || !L.contains(Cmp) ||
      (Cmp->getPredicate() == ICmpInst::ICMP_EQ) != (ExitIdx == 0))
    return std::nullopt;
  unsigned Outside = 0;
  for (BasicBlock *P : predecessors(H)) {
    if (L.contains(P))
      continue;
    if (!isa<BranchInst>(P->getTerminator()) && !isa<SwitchInst>(P->getTerminator()))
      return std::nullopt;
    ++Outside;
  }
  if (Outside == 0)
    return std::nullopt;

  ScalarEvolution &SE = Facts.SE;
  for (unsigned BoundIdx = 0; BoundIdx < 2; ++BoundIdx) {
    Value *Bound = Cmp->getOperand(BoundIdx), *Y = Cmp->getOperand(1 - BoundIdx);
    if (!L.isLoopInvariant(Bound) || !SE.isSCEVable(Y->getType()))
      continue;
    if (auto *I = dyn_cast<Instruction>(Bound); I && !Facts.DT.properlyDominates(I->getParent(), H))
      continue;
    auto *AR = dyn_cast<SCEVAddRecExpr>(SE.getSCEV(Y));
    if (!AR || AR->getLoop() != &L || !AR->isAffine())
      continue;
    auto *StepC = dyn_cast<SCEVConstant>(AR->getStepRecurrence(SE));
    if (!StepC || StepC->getValue()->isZero())
      continue;
    for (PHINode &P : H->phis()) {
      if (P.getType() != Y->getType() || !SE.isSCEVable(P.getType()))
        continue;
      auto *PR = dyn_cast<SCEVAddRecExpr>(SE.getSCEV(&P));
      if (!PR || PR->getLoop() != &L || PR->getStepRecurrence(SE) != StepC)
        continue;
      auto *Off = dyn_cast<SCEVConstant>(SE.getMinusSCEV(AR, PR));
      if (!Off)
        continue;
      uint64_t Work = iterationWork(L);
      if (Work == 0)
        return std::nullopt;
      uint64_t Trips = llvm::bit_floor(kUnpolledWork / Work);
      if (Trips < 16)
        return std::nullopt;  // a poll costs under 1/16 of an iteration here: not worth a chunk
      // Trips*|Step| must not wrap, with room to spare.
      const APInt &Step = StepC->getAPInt();
      unsigned W = Step.getBitWidth();
      if (Step.abs().getActiveBits() + Log2_64(Trips) + 2 > W)
        return std::nullopt;
      Value *Inc = P.getIncomingValueForBlock(Latch);
      auto OnlyExitTest = [&](Value *V) {
        return llvm::all_of(V->users(), [&](User *U) { return U == &P || U == Inc || U == Cmp; });
      };
      bool CountDown = (Y == &P || Y == Inc) && OnlyExitTest(&P) && OnlyExitTest(Inc);
      return Candidate{H,    Latch, Br->getSuccessor(ExitIdx), Br, Cmp, BoundIdx, &P,
                       Off->getAPInt(), Step, Trips, CountDown};
    }
  }
  return std::nullopt;
}

void stripMine(Candidate &K, const DataLayout &DL) {
  BasicBlock *H = K.Header;
  Function &F = *H->getParent();
  LLVMContext &C = F.getContext();
  BasicBlock *Chunk = BasicBlock::Create(C, H->getName() + ".autockpt.chunk", &F, H);
  BasicBlock *End = BasicBlock::Create(C, H->getName() + ".autockpt.chunk.end", &F,
                                       K.Latch->getNextNode());
  SmallSetVector<BasicBlock *, 4> Outside;
  for (BasicBlock *P : predecessors(H))
    if (P != K.Latch)  // the latch is the loop's only block with an edge to the header
      Outside.insert(P);

  // Every header phi takes its values from outside through the chunk header, which also takes
  // the values of the next iteration from the chunk's end (filled in below).
  SmallVector<std::pair<PHINode *, PHINode *>, 8> Phis;  // header phi, chunk phi
  PHINode *IVChunk = nullptr;
  for (PHINode &P : H->phis()) {
    PHINode *PC = PHINode::Create(P.getType(), P.getNumIncomingValues(), P.getName() + ".chunk",
                                  Chunk);
    for (unsigned I = 0; I < P.getNumIncomingValues(); ++I)
      if (Outside.count(P.getIncomingBlock(I)))
        PC->addIncoming(P.getIncomingValue(I), P.getIncomingBlock(I));
    Phis.push_back({&P, PC});
    if (&P == K.IV)
      IVChunk = PC;
  }
  for (auto &[P, PC] : Phis) {
    P->removeIncomingValueIf([&](unsigned I) { return Outside.count(P->getIncomingBlock(I)); },
                             /*DeletePHIIfEmpty=*/false);
    P->addIncoming(PC, Chunk);
  }
  for (BasicBlock *P : Outside)
    P->getTerminator()->replaceSuccessorWith(H, Chunk);

  // The chunk's last value of Y, or the bound when fewer than Trips iterations are left.
  IRBuilder<> B(Chunk);
  B.SetCurrentDebugLocation(K.Br->getDebugLoc());
  Value *Bound = K.Cmp->getOperand(K.BoundIdx);
  bool Ptr = K.IV->getType()->isPointerTy();
  Type *IntTy = Ptr ? DL.getIndexType(K.IV->getType()) : K.IV->getType();
  auto Plus = [&](IRBuilder<> &IB, Value *V, const APInt &Off, const Twine &Name) -> Value * {
    if (Off.isZero())
      return V;
    return Ptr ? IB.CreateGEP(IB.getInt8Ty(), V, ConstantInt::get(IntTy, Off), Name)
               : IB.CreateAdd(V, ConstantInt::get(IntTy, Off), Name);
  };
  Value *First = Plus(B, IVChunk, K.Offset, "autockpt.first");
  Value *FirstInt = Ptr ? B.CreatePtrToInt(First, IntTy) : First;
  Value *BoundInt = Ptr ? B.CreatePtrToInt(Bound, IntTy) : Bound;
  Value *Left = K.Step.isNegative() ? B.CreateSub(FirstInt, BoundInt, "autockpt.left")
                                    : B.CreateSub(BoundInt, FirstInt, "autockpt.left");
  APInt AbsStep = K.Step.abs();
  Value *Big = B.CreateICmpUGE(Left, ConstantInt::get(IntTy, AbsStep * K.Trips), "autockpt.big");
  Value *Last = Plus(B, IVChunk, K.Offset + K.Step * (K.Trips - 1), "autockpt.last");
  unsigned ExitIdx = K.Br->getSuccessor(0) == K.Exit ? 0 : 1;
  CmpInst::Predicate Pred = K.Cmp->getPredicate();
  IRBuilder<> LB(K.Br);
  Value *Lim;  // Y in the chunk's last iteration, or the bound
  if (!K.CountDown) {
    // The chunk's loop compares Y with the limit instead of the bound.
    Lim = B.CreateSelect(Big, Last, Bound, "autockpt.lim");
    Value *Ops[2] = {K.Cmp->getOperand(0), K.Cmp->getOperand(1)};
    Ops[K.BoundIdx] = Lim;
    K.Br->setCondition(LB.CreateICmp(Pred, Ops[0], Ops[1], "autockpt.chunk.done"));
  } else {
    // Y serves only the exit test: the chunk's loop counts its iterations up to zero instead, so
    // that Y goes (codegen counts the plain loop down to zero the same way).  Rest, the j at
    // which Y_j meets the bound in the last chunk; Y never meets it before (see above), and
    // if it does not then either (Y wraps around), the chunk's end goes on to the next chunk.
    Value *Rest = AbsStep.isOne()        ? Left
                  : AbsStep.isPowerOf2() ? B.CreateLShr(Left, AbsStep.logBase2(), "autockpt.rest")
                                         : B.CreateUDiv(Left, ConstantInt::get(IntTy, AbsStep),
                                                        "autockpt.rest");
    Value *Count = B.CreateSelect(Big, ConstantInt::get(IntTy, -K.Trips), B.CreateNot(Rest),
                                  "autockpt.count");  // minus the chunk's iterations
    Value *Delta = K.Step.isOne() ? Rest : B.CreateMul(Rest, ConstantInt::get(IntTy, K.Step));
    Value *RestY = Ptr ? B.CreateGEP(B.getInt8Ty(), First, Delta) : B.CreateAdd(First, Delta);
    Lim = B.CreateSelect(Big, Last, RestY, "autockpt.lim");
    PHINode *ToGo = PHINode::Create(IntTy, 2, "autockpt.togo", H->getFirstNonPHIIt());
    Value *Next = LB.CreateAdd(ToGo, ConstantInt::get(IntTy, 1), "autockpt.togo.next");
    ToGo->addIncoming(Count, Chunk);
    ToGo->addIncoming(Next, K.Latch);
    K.Br->setCondition(LB.CreateICmp(Pred, Next, ConstantInt::get(IntTy, 0), "autockpt.chunk.done"));
  }
  B.CreateBr(H);
  if (K.Cmp->use_empty())
    K.Cmp->eraseFromParent();
  K.Cmp = nullptr;
  K.Br->setSuccessor(ExitIdx, End);
  K.Br->setMetadata(kChunkMD, MDNode::get(C, ConstantAsMetadata::get(B.getInt64(K.Trips))));
  K.Exit->replacePhiUsesWith(K.Latch, End);

  // At the chunk's end Y is the limit, so the variable's next value is known without the loop's:
  // the variable need not live past the loop.  The loop is over when Y met the bound there (no
  // earlier iteration of the chunk can have, see above).
  IRBuilder<> EB(End);
  EB.SetCurrentDebugLocation(K.Br->getDebugLoc());
  for (auto &[P, PC] : Phis)
    PC->addIncoming(P == K.IV ? Plus(EB, Lim, K.Step - K.Offset, P->getName() + ".resume")
                              : P->getIncomingValueForBlock(K.Latch),
                    End);
  Value *Over = EB.CreateICmp(Pred, Lim, Bound, "autockpt.over");
  EB.CreateCondBr(Over, ExitIdx == 0 ? K.Exit : Chunk, ExitIdx == 0 ? Chunk : K.Exit);
}

}  // namespace

bool chunkLoops(Function &F, const LoopFacts &Facts, const SafePointPolicy &Policy) {
  SafePointPolicy Quiet = Policy;  // placeSafePoints tells about unpolled loops, once
  Quiet.Unpolled = nullptr;
  std::vector<Candidate> Found;
  for (BasicBlock *H : pollHeaders(Facts, Quiet))
    if (Loop *L = Facts.LI.getLoopFor(H); L && L->getHeader() == H)
      if (std::optional<Candidate> K = analyse(*L, Facts))
        Found.push_back(*K);
  for (Candidate &K : Found)  // the loops are innermost, so disjoint: each changes only itself
    stripMine(K, F.getParent()->getDataLayout());
  return !Found.empty();
}

uint64_t chunkTrips(const Loop &L) {
  BasicBlock *Latch = L.getLoopLatch();
  MDNode *MD = Latch ? Latch->getTerminator()->getMetadata(kChunkMD) : nullptr;
  if (!MD)
    return 0;
  return mdconst::extract<ConstantInt>(MD->getOperand(0))->getZExtValue();
}

}  // namespace autockpt
