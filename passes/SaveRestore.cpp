// Save blocks, the restore dispatch and SSA repair.  The emitted shape, per function:
//
//   autockpt.entry:                        ; static allocas
//     %tls = call ptr @llvm.threadlocal.address(ptr @__autockpt_state)   ; this thread's word
//     %mode = load i32, ptr (%tls + 4)
//     br (%mode == RESTORING), label %autockpt.dispatch, label %<old entry>   ; unlikely
//   autockpt.dispatch:
//     %rec = call ptr @__autockpt_pop_frame(i64 FID, i64 LAYOUT)
//     switch (load i32 %rec) [ id -> autockpt.restore... ], default autockpt.bad
//   autockpt.poll:                          ; a split back edge (or the entry of a recursive fn)
//     %f = load volatile i32, ptr %tls      ; the flag: the word's low half
//     br (%f != 0), label %autockpt.poll.cold, label %header                  ; unlikely
//   autockpt.poll.cold:
//     br (call @__autockpt_poll_slow() != 0), label %autockpt.save, label %header
//   autockpt.call:                          ; a call to a checkpointable function
//     %r = call @f(...)
//     br (load (%tls + 4) == UNWINDING), label %autockpt.save, label %cont ; unlikely
//   autockpt.save:
//     %buf = call ptr @__autockpt_push_frame(FID, ID, LAYOUT, SIZE)
//     store <live values>, memcpy <allocas> ; ret poison
//   autockpt.restore:
//     load <live values>, memcpy <allocas> ; br <where the safe point is re-entered>
//
// Where a restore re-enters (P16): a safe point outside every loop, its own block; the poll of
// a top-level loop, the loop's join block in front of its header (it takes every edge from
// outside the loop); a safe point deeper in a loop (or a call in a loop), the resume copy of the
// function's loops (`<block>.autockpt.resume`, with its own polls and checks).  The copy goes
// back to the body at its top-level loop's join (its back edge) or where it leaves the loops,
// so a resumed frame runs it only until the end of the current outer iteration.  The body's
// loops keep one way in each:
//
//   %header.autockpt.join:      ; preds: the preheader, the copy's latch, the header's restore
//     %x.join = phi [%x.init, %preheader], [%x.next.autockpt.resume, %latch.autockpt.resume], ...
//     br label %header
//
// Every value then has definitions in the body, in the copy and in the restore blocks;
// SSAUpdater places phis where they meet (in the copy, the joins and the shared save blocks).
#include "SaveRestore.h"

#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/Analysis/LoopInfo.h"
#include "llvm/IR/CFG.h"
#include "llvm/IR/Dominators.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/MDBuilder.h"
#include "llvm/Transforms/Utils/Cloning.h"
#include "llvm/Transforms/Utils/Local.h"
#include "llvm/Transforms/Utils/SSAUpdater.h"

#include <optional>

using namespace llvm;

namespace autockpt {

namespace {

class Emitter {
 public:
  Emitter(FunctionShape &S, const RuntimeABI &R)
      : S(S), R(R), C(S.F->getContext()), DL(S.F->getParent()->getDataLayout()),
        Unlikely(MDBuilder(C).createUnlikelyBranchWeights()) {}

  void run() {
    emitEntryAndDispatch();
    for (SafePoint &SP : S.SafePoints) {
      if (SP.Kind == SafePoint::Call)
        emitCallCheck(SP);
      else
        emitPoll(SP);
    }
    // P16: where each restore enters.  Outside every loop: the safe point's block itself.  The
    // poll of a top-level loop: the loop's join block.  Deeper: the resume copy, made when some
    // safe point is in a nested loop (a restore there would make the outer loops irreducible);
    // without one, the body's block itself, as measured best for a call in a single loop.
    bool InLoop = findLoops();
    if (InLoop)
      makeJoins();
    bool Copy = llvm::any_of(S.SafePoints, [&](const SafePoint &SP) {
      return Depth.lookup(SP.Site) > 1;
    });
    if (Copy && canCopyBody())
      copyBody();
    for (SafePoint &SP : S.SafePoints)
      emitRestore(SP);
    repairSSA();
    if (InLoop)
      removeUnreachableBlocks(*S.F);
  }

 private:
  FunctionShape &S;
  const RuntimeABI &R;
  LLVMContext &C;
  const DataLayout &DL;
  MDNode *Unlikely;
  Value *Payload = nullptr;
  SwitchInst *Switch = nullptr;
  BasicBlock *Body = nullptr;  // the function's own first block, after the entry's tests
  // The resume copy of the body (P16): block and value of the body -> the copy's.  Empty when
  // the function is not copied: restores then enter the body itself.
  ValueToValueMapTy VMap;
  SmallVector<BasicBlock *, 32> HotBlocks;
  // Per top-level loop: its header, its join block, and the join's phi for each header phi.
  struct Join {
    BasicBlock *Header, *Block;
    DenseMap<PHINode *, PHINode *> Phis;
    SmallPtrSet<BasicBlock *, 16> Loop;  // the loop's blocks
  };
  std::vector<Join> Joins;
  DenseMap<BasicBlock *, unsigned> Depth;  // loop depth of the body's blocks (0: in no loop)
  SmallVector<Loop *, 4> TopLoops;
  std::optional<DominatorTree> DT0;
  std::optional<LoopInfo> LI0;

  Join *joinOf(BasicBlock *Header) {
    for (Join &J : Joins)
      if (J.Header == Header)
        return &J;
    return nullptr;
  }

  Constant *i32(uint64_t V) { return ConstantInt::get(R.I32, V); }
  Constant *i64(uint64_t V) { return ConstantInt::get(R.I64, V); }

  void emitEntryAndDispatch() {
    Function &F = *S.F;
    Body = S.Entry->getSingleSuccessor();
    S.Entry->getTerminator()->eraseFromParent();
    BasicBlock *Dispatch = BasicBlock::Create(C, "autockpt.dispatch", &F);
    BasicBlock *Bad = BasicBlock::Create(C, "autockpt.bad", &F);

    IRBuilder<> B(S.Entry);
    if (S.DynamicStack)
      S.StackBase = B.CreateStackSave("autockpt.sp0");
    BasicBlock *EntryPoll = nullptr;
    for (const SafePoint &SP : S.SafePoints)
      if (SP.Kind == SafePoint::Entry)
        EntryPoll = SP.Site;
    if (EntryPoll && EntryPoll == Body) {
      // The entry poll and the restoring test in one: the flag and the mode are both zero,
      // the common case, when the state word is.  The poll's own test is in the cold block.
      BasicBlock *Cold = BasicBlock::Create(C, "autockpt.entry.cold", &F);
      LoadInst *State = R.loadState(B);
      B.CreateCondBr(B.CreateICmpNE(State, i64(0), "autockpt.busy"), Cold,
                     EntryPoll->getSingleSuccessor(), Unlikely);
      B.SetInsertPoint(Cold);
    }
    Value *Mode = R.loadMode(B);
    B.CreateCondBr(B.CreateICmpEQ(Mode, i32(ModeRestoring), "autockpt.restoring"), Dispatch,
                   Body, Unlikely);

    B.SetInsertPoint(Dispatch);
    Value *Rec = B.CreateCall(R.PopFrame, {i64(S.Fid), i64(S.Layout)}, "autockpt.rec");
    Value *Spid = B.CreateLoad(R.I32, Rec, "autockpt.spid");
    Payload = B.CreateConstInBoundsGEP1_32(Type::getInt8Ty(C), Rec, 8, "autockpt.payload");
    Switch = B.CreateSwitch(Spid, Bad, S.SafePoints.size());

    B.SetInsertPoint(Bad);
    B.CreateCall(R.BadFrame, {i64(S.Fid), Spid});
    B.CreateUnreachable();
  }

  // `save`: push the record, store the live values and allocas into it, return.
  BasicBlock *emitSave(SafePoint &SP) {
    Function &F = *S.F;
    BasicBlock *Save = BasicBlock::Create(C, "autockpt.save", &F);
    IRBuilder<> B(Save);
    B.SetCurrentDebugLocation(SP.Loc);
    Value *Size = i64(DL.getTypeAllocSize(SP.RecordTy));
    Value *SP0 = nullptr, *Dyn = nullptr;
    if (S.DynamicStack) {
      SP0 = B.CreateStackSave("autockpt.sp");
      Dyn = B.CreateSub(B.CreatePtrToInt(S.StackBase, R.I64), B.CreatePtrToInt(SP0, R.I64),
                        "autockpt.dyn");
      Size = B.CreateAdd(Size, Dyn);
    }
    Value *Buf = B.CreateCall(R.PushFrame, {i64(S.Fid), i32(SP.Id), i64(S.Layout), Size},
                              "autockpt.buf");
    unsigned K = 0;
    for (Value *V : SP.Live) {
      Value *Slot = B.CreateConstInBoundsGEP2_32(SP.RecordTy, Buf, 0, K++);
      B.CreateAlignedStore(V, Slot, Align(1));
    }
    for (AllocaInst *A : S.Allocas) {
      Value *Slot = B.CreateConstInBoundsGEP2_32(SP.RecordTy, Buf, 0, K++);
      B.CreateMemCpy(Slot, Align(1), A, A->getAlign(), A->getAllocationSize(DL)->getFixedValue());
    }
    if (S.DynamicStack) {
      B.CreateAlignedStore(Dyn, B.CreateConstInBoundsGEP2_32(SP.RecordTy, Buf, 0, K), Align(1));
      Value *Tail = B.CreateConstInBoundsGEP1_64(Type::getInt8Ty(C), Buf,
                                                 DL.getTypeAllocSize(SP.RecordTy));
      B.CreateMemCpy(Tail, Align(1), SP0, Align(16), Dyn);
    }
    if (F.getReturnType()->isVoidTy())
      B.CreateRetVoid();
    else
      B.CreateRet(PoisonValue::get(F.getReturnType()));
    return Save;
  }

  void emitPoll(SafePoint &SP) {
    BasicBlock *Site = SP.Site;
    BasicBlock *Target = Site->getSingleSuccessor();
    Site->getTerminator()->eraseFromParent();
    BasicBlock *Cold = BasicBlock::Create(C, "autockpt.poll.cold", S.F);
    BasicBlock *Save = emitSave(SP);

    IRBuilder<> B(Site);
    B.SetCurrentDebugLocation(SP.Loc);
    // Volatile: no optimiser may hoist it out of the loop or drop it (LTO runs LICM after the
    // pass), and x86 folds it into `cmpl $0, %fs:flag`, which an atomic load is not (P14).
    LoadInst *Flag = R.loadFlag(B);
    B.CreateCondBr(B.CreateICmpNE(Flag, i32(0), "autockpt.requested"), Cold, Target, Unlikely);

    B.SetInsertPoint(Cold);
    Value *Go = B.CreateCall(R.PollSlow, {}, "autockpt.go");
    B.CreateCondBr(B.CreateICmpNE(Go, i32(0)), Save, Target);
    for (PHINode &PN : Target->phis())
      PN.addIncoming(PN.getIncomingValueForBlock(Site), Cold);
  }

  void emitCallCheck(SafePoint &SP) {
    BasicBlock *After = SP.After;
    BasicBlock *Cont = After->getSingleSuccessor();
    After->getTerminator()->eraseFromParent();
    BasicBlock *Save = emitSave(SP);
    IRBuilder<> B(After);
    B.SetCurrentDebugLocation(SP.Loc);
    Value *Mode = R.loadMode(B);
    B.CreateCondBr(B.CreateICmpEQ(Mode, i32(ModeUnwinding), "autockpt.unwinding"), Save, Cont,
                   Unlikely);
  }

  // The copy of a block or value of the body, or itself (not copied: entry, arguments, constants).
  BasicBlock *resumed(BasicBlock *BB) {
    auto It = VMap.find(BB);
    return It == VMap.end() ? BB : cast<BasicBlock>(It->second);
  }
  Value *resumed(Value *V) {
    auto It = VMap.find(V);
    return It == VMap.end() ? V : static_cast<Value *>(It->second);
  }

  // A computed goto's targets are block addresses of the body, which a copy would still jump to.
  bool canCopyBody() {
    for (BasicBlock &BB : *S.F)
      if (isa<IndirectBrInst>(BB.getTerminator()) || BB.hasAddressTaken())
        return false;
    return true;
  }

  // The loops of the body, before anything is added to it.  Whether a safe point is in one.
  bool findLoops() {
    DT0.emplace(*S.F);
    LI0.emplace(*DT0);
    for (BasicBlock &BB : *S.F)
      if (unsigned D = LI0->getLoopDepth(&BB))
        Depth[&BB] = D;
    TopLoops.assign(LI0->begin(), LI0->end());
    return llvm::any_of(S.SafePoints, [&](const SafePoint &SP) { return Depth.lookup(SP.Site); });
  }

  // A block in front of the header of every top-level loop of the body that takes the edges from
  // outside the loop (later also the resume copy's back edges, and the restore of the header's
  // poll): the phis that merge restored values go there, outside the loop, so loop invariants
  // stay invariant.
  void makeJoins() {
    for (Loop *L : TopLoops) {
      BasicBlock *H = L->getHeader();
      if (H->isEHPad())
        continue;
      SmallSetVector<BasicBlock *, 4> Outside;
      for (BasicBlock *P : predecessors(H))
        if (!L->contains(P))
          Outside.insert(P);
      if (Outside.empty() || llvm::any_of(Outside, [](BasicBlock *P) {
            return !isa<BranchInst>(P->getTerminator()) && !isa<SwitchInst>(P->getTerminator());
          }))
        continue;
      Join J;
      J.Header = H;
      J.Loop.insert(L->block_begin(), L->block_end());
      J.Block = BasicBlock::Create(C, H->getName() + ".autockpt.join", S.F, H);
      for (PHINode &P : H->phis()) {
        PHINode *PJ = PHINode::Create(P.getType(), P.getNumIncomingValues(), P.getName() + ".join",
                                      J.Block);
        for (unsigned K = 0; K < P.getNumIncomingValues(); ++K)
          if (Outside.count(P.getIncomingBlock(K)))
            PJ->addIncoming(P.getIncomingValue(K), P.getIncomingBlock(K));
        P.removeIncomingValueIf([&](unsigned K) { return Outside.count(P.getIncomingBlock(K)); },
                                /*DeletePHIIfEmpty=*/false);
        P.addIncoming(PJ, J.Block);
        J.Phis[&P] = PJ;
      }
      BranchInst::Create(H, J.Block);
      for (BasicBlock *P : Outside)
        P->getTerminator()->replaceSuccessorWith(H, J.Block);
      Joins.push_back(std::move(J));
    }
    LI0.reset();
    DT0.reset();
  }

  // The resume copy: every block reachable from the body's first block, polls and saves included.
  void copyBody() {
    SmallPtrSet<BasicBlock *, 32> Seen;
    SmallVector<BasicBlock *, 32> Work = {Body};
    while (!Work.empty()) {
      BasicBlock *BB = Work.pop_back_val();
      if (!Seen.insert(BB).second)
        continue;
      HotBlocks.push_back(BB);
      for (BasicBlock *Succ : llvm::reverse(successors(BB)))
        Work.push_back(Succ);
    }
    SmallVector<BasicBlock *, 32> Copies;
    DenseMap<BasicBlock *, unsigned> CopyIndex;  // copy -> its index in HotBlocks
    for (BasicBlock *BB : HotBlocks) {
      BasicBlock *NewBB = CloneBasicBlock(BB, VMap, ".autockpt.resume", S.F);
      VMap[BB] = NewBB;
      CopyIndex[NewBB] = Copies.size();
      Copies.push_back(NewBB);
    }
    remapInstructionsInBlocks(Copies, VMap);
    // The copy is entered only by restores (added later): edges from outside it go.
    SmallPtrSet<BasicBlock *, 32> CopySet(Copies.begin(), Copies.end());
    for (BasicBlock *NewBB : Copies)
      for (PHINode &P : NewBB->phis())
        P.removeIncomingValueIf([&](unsigned K) { return !CopySet.count(P.getIncomingBlock(K)); },
                                /*DeletePHIIfEmpty=*/false);
    // The copy goes back to the body where it leaves the loops: an edge to a block outside every
    // loop goes to the body's block, a back edge of a top-level loop to the loop's join, with the
    // copy's values on the phis there.  What of the copy no restore reaches goes later.
    for (BasicBlock *BB : HotBlocks) {
      BasicBlock *CB = resumed(BB);
      Instruction *T = CB->getTerminator();
      for (unsigned K = 0; K < T->getNumSuccessors(); ++K) {
        BasicBlock *Succ = HotBlocks[CopyIndex.lookup(T->getSuccessor(K))];
        if (T->getSuccessor(K) != resumed(Succ))
          continue;  // not a block of the copy (cannot happen: the copy is closed)
        Join *J = joinOf(Succ);
        if (J && J->Loop.count(BB)) {  // a back edge of a top-level loop
          for (PHINode &P : Succ->phis())
            J->Phis[&P]->addIncoming(resumed(P.getIncomingValueForBlock(BB)), CB);
        } else if (Depth.lookup(Succ) == 0) {
          for (PHINode &P : Succ->phis())
            P.addIncoming(resumed(P.getIncomingValueForBlock(BB)), CB);
        } else {
          continue;
        }
        for (PHINode &P : T->getSuccessor(K)->phis())
          P.removeIncomingValue(CB, /*DeletePHIIfEmpty=*/false);
        T->setSuccessor(K, J && J->Loop.count(BB) ? J->Block : Succ);
      }
    }
  }

  // `restore`: reload the record; a poll continues at its target (one more incoming edge on
  // the loop header's phis), a call site is re-issued.
  void emitRestore(SafePoint &SP) {
    SP.Restore = BasicBlock::Create(C, "autockpt.restore", S.F);
    Switch->addCase(cast<ConstantInt>(i32(SP.Id)), SP.Restore);
    IRBuilder<> B(SP.Restore);
    B.SetCurrentDebugLocation(SP.Loc);
    unsigned K = 0;
    for (Value *V : SP.Live) {
      Value *Slot = B.CreateConstInBoundsGEP2_32(SP.RecordTy, Payload, 0, K++);
      SP.Reloaded.push_back(
          B.CreateAlignedLoad(V->getType(), Slot, Align(1), V->getName() + ".autockpt.reload"));
    }
    for (AllocaInst *A : S.Allocas) {
      Value *Slot = B.CreateConstInBoundsGEP2_32(SP.RecordTy, Payload, 0, K++);
      B.CreateMemCpy(A, A->getAlign(), Slot, Align(1), A->getAllocationSize(DL)->getFixedValue());
    }
    for (AllocaInst *A : S.NoSaveAllocas)  // not saved: zeros after a restore (Marks.h)
      B.CreateMemSet(A, B.getInt8(0), A->getAllocationSize(DL)->getFixedValue(), A->getAlign());
    if (S.DynamicStack) {
      // The same bytes of dynamic stack at the same addresses: from the same stack pointer at
      // entry, one allocation of the saved size ends where the saved frame's did.
      Value *Dyn = B.CreateAlignedLoad(R.I64, B.CreateConstInBoundsGEP2_32(SP.RecordTy, Payload, 0, K),
                                       Align(1), "autockpt.dyn");
      AllocaInst *Area = B.CreateAlloca(Type::getInt8Ty(C), Dyn, "autockpt.dynstack");
      Area->setAlignment(Align(16));
      Value *Tail = B.CreateConstInBoundsGEP1_64(Type::getInt8Ty(C), Payload,
                                                 DL.getTypeAllocSize(SP.RecordTy));
      B.CreateMemCpy(Area, Align(16), Tail, Align(1), Dyn);
    }
    rerunSetjmps(SP, B);
    // Re-enter the safe point's own block (in the copy): a call is re-issued; a loop header's
    // phis take the reloaded values on the new edge, and its poll runs once more (the flag is
    // clear by now).
    Join *J = joinOf(SP.Site);
    BasicBlock *Target = Depth.lookup(SP.Site) == 0 ? SP.Site : J ? J->Block : resumed(SP.Site);
    B.CreateBr(Target);
    SP.RestoreExit = B.GetInsertBlock();
    for (PHINode &PN : SP.Site->phis()) {
      auto It = llvm::find(SP.Live, &PN);
      Value *V = It == SP.Live.end() ? PoisonValue::get(PN.getType())
                                     : SP.Reloaded[It - SP.Live.begin()];
      PHINode *Into = Target == SP.Site ? &PN : J ? J->Phis[&PN] : cast<PHINode>(resumed(&PN));
      Into->addIncoming(V, SP.RestoreExit);
    }
  }

  // P15: every setjmp that ran before the safe point runs again, in this frame, so that its
  // buffer holds this process's context (stack pointer, return address, the pointer guard it
  // mangles them with).  A longjmp to it lands here, and goes on after the original setjmp
  // with the value it brought:
  //
  //   autockpt.restore:  ...reloads...
  //     %j = call i32 @_setjmp(ptr %buf.reload)        ; returns_twice
  //     br (%j != 0), label %autockpt.longjmp, label %autockpt.restore.next
  //   autockpt.longjmp:
  //     br label %autockpt.setjmp.cont                  ; %r (the original call) is %j here
  //
  // A setjmp that reaches the safe point on some paths only runs again if it ran before the
  // checkpoint (the frame saved whether it did):
  //
  //     br %ran.reload, label %autockpt.setjmp.again, label %autockpt.restore.next
  void rerunSetjmps(SafePoint &SP, IRBuilder<> &B) {
    auto Reload = [&](Value *V) {
      auto It = llvm::find(SP.Live, V);
      return It == SP.Live.end() ? V : SP.Reloaded[It - SP.Live.begin()];
    };
    for (unsigned I = 0; I < SP.Setjmps.size(); ++I) {
      SetjmpSite &J = S.Setjmps[SP.Setjmps[I]];
      BasicBlock *Before = B.GetInsertBlock();
      if (SP.SetjmpRan[I])
        B.SetInsertPoint(BasicBlock::Create(C, "autockpt.setjmp.again", S.F));
      SmallVector<Value *, 2> Args;
      for (Value *A : J.Call->args())
        Args.push_back(Reload(A));
      CallInst *Again = B.CreateCall(J.Call->getFunctionType(), J.Call->getCalledOperand(), Args,
                                     "autockpt.setjmp");
      Again->setAttributes(J.Call->getAttributes());
      Again->setCallingConv(J.Call->getCallingConv());
      BasicBlock *Landing = BasicBlock::Create(C, "autockpt.longjmp", S.F);
      BasicBlock *Next = BasicBlock::Create(C, "autockpt.restore.next", S.F);
      if (Value *Ran = SP.SetjmpRan[I])  // it had run before the checkpoint: run it again
        IRBuilder<>(Before).CreateCondBr(Reload(Ran), Again->getParent(), Next);
      B.CreateCondBr(B.CreateICmpNE(Again, Constant::getNullValue(Again->getType())), Landing,
                     Next, Unlikely);
      IRBuilder<>(Landing).CreateBr(resumed(J.Cont));
      J.Landings.push_back({Landing, Again});
      B.SetInsertPoint(Next);
    }
  }

  // Each value of the body may now have up to three kinds of definitions: its own, its copy's
  // (VMap) and the reloads of the restores that enter the copy.  Every use of the value or of its
  // copy that its own definition does not dominate takes the one that reaches it.
  void repairSSA() {
    MapVector<Value *, SmallVector<std::pair<BasicBlock *, Value *>, 4>> Defs;
    for (SafePoint &SP : S.SafePoints)
      for (unsigned K = 0; K < SP.Live.size(); ++K) {
        auto *PN = dyn_cast<PHINode>(SP.Live[K]);
        if (PN && PN->getParent() == SP.Site)
          continue;  // a header phi: re-entered through its own incoming edge
        Defs[SP.Live[K]].push_back({SP.Restore, SP.Reloaded[K]});
      }
    for (SafePoint &SP : S.SafePoints)  // a value saved as its latest definition (P15)
      for (auto &[V, At] : SP.SetjmpBridged) {
        auto It = llvm::find(SP.Live, At);
        Defs[V].push_back({SP.Restore, SP.Reloaded[It - SP.Live.begin()]});
      }
    for (SetjmpSite &J : S.Setjmps)
      for (auto &[Landing, Result] : J.Landings)
        Defs[J.Call].push_back({Landing, Result});
    if (!VMap.empty()) {
      // A value of the body or of its copy used where its definition does not dominate: across
      // a join block, or in the copy after the point where a restore enters it.
      DominatorTree DT(*S.F);
      auto Dominated = [&](Instruction *I) {
        return llvm::all_of(I->uses(), [&](const Use &U) { return DT.dominates(I, U); });
      };
      for (BasicBlock *BB : HotBlocks)
        for (Instruction &I : *BB) {
          if (I.getType()->isVoidTy() || (I.use_empty() && resumed(&I)->use_empty()))
            continue;
          auto *Copy = cast<Instruction>(resumed(&I));
          if (!Defs.count(&I) && Dominated(&I) && Dominated(Copy))
            continue;
          Defs[&I];  // no reload: only the two definitions
        }
    }
    for (auto &[V, Reloads] : Defs) {
      auto *I = cast<Instruction>(V);
      auto *Copy = cast<Instruction>(resumed(I));
      BasicBlock *DefBB = I->getParent();
      SSAUpdater SSA;
      std::string Name = V->hasName() ? (V->getName() + ".autockpt.phi").str() : "";
      SSA.Initialize(V->getType(), Name);
      SSA.AddAvailableValue(DefBB, V);
      if (Copy != I)
        SSA.AddAvailableValue(Copy->getParent(), Copy);
      for (auto &[BB, Reloaded] : Reloads)
        SSA.AddAvailableValue(BB, Reloaded);
      SmallVector<Use *, 16> Uses;
      for (Instruction *D : {I, Copy}) {
        for (Use &U : D->uses()) {
          auto *User = cast<Instruction>(U.getUser());
          if (!isa<PHINode>(User) && User->getParent() == D->getParent())
            continue;  // after the definition in its own block: already dominated
          Uses.push_back(&U);
        }
        if (Copy == I)
          break;
      }
      for (Use *U : Uses)
        SSA.RewriteUse(*U);
    }
  }
};

}  // namespace

void emitSaveRestore(FunctionShape &S, const RuntimeABI &R) { Emitter(S, R).run(); }

}  // namespace autockpt
