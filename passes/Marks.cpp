// Reads the marks the source left (see Marks.h) and turns them into the forms the pass uses.
#include "Marks.h"

#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/Analysis/LoopInfo.h"
#include "llvm/Analysis/ValueTracking.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/DiagnosticInfo.h"
#include "llvm/IR/Dominators.h"
#include "llvm/IR/InstIterator.h"
#include "llvm/IR/IntrinsicInst.h"
#include "llvm/IR/Module.h"

using namespace llvm;

namespace autockpt {

namespace {

// The string of an annotation's second operand, or "".
StringRef annotationString(Value *V) {
  StringRef S;
  if (getConstantStringInfo(V->stripPointerCasts(), S))
    return S;
  return "";
}

bool isAnnotation(const Instruction &I, Intrinsic::ID ID) {
  auto *II = dyn_cast<IntrinsicInst>(&I);
  return II && II->getIntrinsicID() == ID;
}

void warnAt(Instruction &I, const Twine &Msg) {
  Function &F = *I.getFunction();
  F.getContext().diagnose(DiagnosticInfoUnsupported(
      F, "autockpt: " + Msg, DiagnosticLocation(I.getDebugLoc()), DS_Warning));
}

// The loop a `#pragma autockpt nopoll` marker stands before: the first loop header reached from
// the marker along single successors (a for-init may end its block), in the marker's own loop.
Loop *loopAfter(Instruction &Marker, LoopInfo &LI) {
  BasicBlock *BB = Marker.getParent();
  Loop *Outer = LI.getLoopFor(BB);
  SmallPtrSet<BasicBlock *, 8> Seen;
  for (unsigned Steps = 0; BB && Steps < 16 && Seen.insert(BB).second; ++Steps) {
    if (Loop *L = LI.getLoopFor(BB); L && L->getHeader() == BB && L->getParentLoop() == Outer)
      return L;
    BB = BB->getUniqueSuccessor();
  }
  return nullptr;
}

// Marks a loop nest nopoll: its loop id gets the property (made distinct if it had none).
void markNoPoll(Loop &L) {
  LLVMContext &C = L.getHeader()->getContext();
  MDNode *Prop = MDNode::get(C, MDString::get(C, kNoPollLoopProp));
  MDNode *ID = makePostTransformationMetadata(C, L.getLoopID(), {kNoPollLoopProp}, {Prop});
  L.setLoopID(ID);
}

void normalizeGlobalAnnotations(Module &M) {
  GlobalVariable *GA = M.getNamedGlobal("llvm.global.annotations");
  if (!GA || !GA->hasInitializer())
    return;
  auto *Arr = dyn_cast<ConstantArray>(GA->getInitializer());
  if (!Arr)
    return;
  std::vector<Constant *> Keep;
  for (Use &U : Arr->operands()) {
    auto *E = cast<Constant>(U.get());
    auto *GV = dyn_cast<GlobalValue>(E->getOperand(0)->stripPointerCasts());
    StringRef What = annotationString(E->getOperand(1));
    if (!GV || !What.starts_with("autockpt.")) {
      Keep.push_back(E);
      continue;
    }
    if (What == "autockpt.nopoll") {
      if (auto *F = dyn_cast<Function>(GV))
        F->addFnAttr(kNoPollAttr);
    } else if (What == "autockpt.nosave") {
      if (auto *V = dyn_cast<GlobalVariable>(GV))
        V->setMetadata(kNoSaveMD, MDNode::get(M.getContext(), {}));
    }
  }
  if (Keep.size() == Arr->getNumOperands())
    return;
  if (Keep.empty()) {
    GA->eraseFromParent();
    return;
  }
  auto *Ty = ArrayType::get(Arr->getType()->getElementType(), Keep.size());
  auto *New = new GlobalVariable(M, Ty, GA->isConstant(), GA->getLinkage(),
                                 ConstantArray::get(Ty, Keep), "", GA, GA->getThreadLocalMode());
  New->setSection(GA->getSection());
  New->takeName(GA);
  GA->eraseFromParent();
}

void normalizeFunction(Function &F, FunctionAnalysisManager &FAM) {
  SmallVector<Instruction *, 4> NoPollMarkers, Dead;
  for (Instruction &I : instructions(F)) {
    if (isAnnotation(I, Intrinsic::var_annotation)) {
      if (annotationString(I.getOperand(1)) != "autockpt.nosave")
        continue;
      if (auto *A = dyn_cast<AllocaInst>(I.getOperand(0)->stripPointerCasts()))
        A->setMetadata(kNoSaveMD, MDNode::get(F.getContext(), {}));
      Dead.push_back(&I);
    } else if (isAnnotation(I, Intrinsic::annotation) &&
               annotationString(I.getOperand(1)) == "autockpt.nopoll") {
      NoPollMarkers.push_back(&I);
    }
  }
  // A nopoll function's loops carry the property too, so that they keep it once inlined.
  if (F.hasFnAttribute(kNoPollAttr))
    for (Loop *L : FAM.getResult<LoopAnalysis>(F))
      markNoPoll(*L);
  if (!NoPollMarkers.empty()) {
    LoopInfo &LI = FAM.getResult<LoopAnalysis>(F);
    for (Instruction *I : NoPollMarkers) {
      if (Loop *L = loopAfter(*I, LI))
        markNoPoll(*L);
      else
        warnAt(*I, "'#pragma autockpt nopoll' is not followed by a loop; it is ignored");
      I->replaceAllUsesWith(I->getOperand(0));
      Dead.push_back(I);
    }
  }
  for (Instruction *I : Dead)
    I->eraseFromParent();
  if (!Dead.empty())
    FAM.invalidate(F, PreservedAnalyses::none());
}

}  // namespace

void normalizeMarks(Module &M, ModuleAnalysisManager &MAM) {
  normalizeGlobalAnnotations(M);
  auto &FAM = MAM.getResult<FunctionAnalysisManagerModuleProxy>(M).getManager();
  for (Function &F : M)
    if (!F.isDeclaration())
      normalizeFunction(F, FAM);
}

PreservedAnalyses NormalizeMarksPass::run(Module &M, ModuleAnalysisManager &MAM) {
  normalizeMarks(M, MAM);
  return PreservedAnalyses::none();
}

bool inNoPollLoop(const Loop *L) {
  for (; L; L = L->getParentLoop())
    if (getBooleanLoopAttribute(L, kNoPollLoopProp))
      return true;
  return false;
}

CallInst *asSafePointMarker(Instruction &I) {
  if (isAnnotation(I, Intrinsic::annotation) &&
      annotationString(I.getOperand(1)) == "autockpt.safepoint")
    return cast<CallInst>(&I);
  return nullptr;
}

}  // namespace autockpt
