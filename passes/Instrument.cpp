// The module pass: which functions are checkpointable, then per function the recipe
// normalise (SafePoints) -> analyse (Liveness) -> lay out (FrameLayout) -> emit (SaveRestore),
// then the module tables.
#include "Instrument.h"

#include "Chunks.h"
#include "Compat.h"
#include "FrameLayout.h"
#include "HeapCalls.h"
#include "Liveness.h"
#include "Marks.h"
#include "MpiCalls.h"
#include "ModuleTables.h"
#include "RuntimeABI.h"
#include "SafePoints.h"
#include "SaveRestore.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SCCIterator.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Analysis/CallGraph.h"
#include "llvm/Analysis/CycleAnalysis.h"
#include "llvm/Analysis/OptimizationRemarkEmitter.h"
#include "llvm/Analysis/TargetLibraryInfo.h"
#include "llvm/IR/AttributeMask.h"
#include "llvm/IR/Attributes.h"
#include "llvm/IR/DiagnosticInfo.h"
#include "llvm/IR/InstIterator.h"
#include "llvm/IR/IntrinsicInst.h"
#include "llvm/IR/Verifier.h"

using namespace llvm;

namespace autockpt {

namespace {

constexpr const char *kRemarkPass = "autockpt";  // -Rpass=autockpt, -Rpass-missed=autockpt

// External functions that TargetLibraryInfo does not know but that never call back into the
// program, so a call to them needs no check afterwards.
const StringSet<> &leafExternals() {
  static const StringSet<> Names = {
      "usleep", "sleep", "nanosleep", "clock_gettime", "gettimeofday", "clock", "getpid",
      "getppid", "sysconf", "sched_yield", "isatty", "getenv", "secure_getenv", "setenv",
      "unsetenv", "omp_get_wtime", "omp_get_thread_num", "omp_get_num_threads",
      "omp_get_max_threads", "__errno_location", "__assert_fail", "__stack_chk_fail",
      "strerror", "perror", "rand", "srand", "random", "srandom", "drand48", "srand48",
      "lrand48", "erand48"};
  return Names;
}

// Library code that is never instrumented and never calls back: the C++ runtime and the
// non-template parts of libstdc++ (templates are instantiated, and so defined, in the module).
// The runtime's replacements of blocking calls (redirects.def): safe points, unlike the rest of
// the runtime's entry points.
const StringSet<> &blockingWrappers() {
  static const StringSet<> Names = {
#define AUTOCKPT_REDIRECT(Name)
#define AUTOCKPT_BLOCKING(Name) "__autockpt_" #Name,
#include "autockpt/redirects.def"
#undef AUTOCKPT_BLOCKING
#undef AUTOCKPT_REDIRECT
  };
  return Names;
}

bool isLibraryLeafName(StringRef N) {
  return N.starts_with("_ZNSt") || N.starts_with("_ZNKSt") || N.starts_with("_ZSt") ||
         N.starts_with("__cxa_") || N.starts_with("_Unwind_") || N.starts_with("__gxx_");
}

class ModuleInstrumenter {
 public:
  ModuleInstrumenter(Module &M, ModuleAnalysisManager &MAM)
      : M(M), FAM(MAM.getResult<FunctionAnalysisManagerModuleProxy>(M).getManager()) {}

  // Decides which functions are checkpointable and shapes each of them.  With Emit false the
  // IR is normalised and analysed but no save/restore code is generated (printer passes).
  std::vector<FunctionShape> shapeFunctions() {
    findCandidates();
    findRecursion();
    findCheckpointable();
    std::vector<FunctionShape> Shapes;
    for (Function *F : Candidates) {
      if (!Checkpointable.count(F)) {
        remarkUnpolledLoops(*F);
        continue;
      }
      FunctionShape S;
      S.F = F;
      auto IsCheckpointable = [this](const CallBase &CB) { return isCheckpointableCall(CB); };
      auto PollsAtEntry = [this](const CallBase &CB) { return callPollsAtEntry(CB); };
      SafePointPolicy Policy;  // function_refs: the lambdas must outlive it
      Policy.IsCheckpointableCall = IsCheckpointable;
      Policy.CallPollsAtEntry = PollsAtEntry;
      Policy.PollAtEntry = Recursive.count(F);
      Policy.NoLoopPolls = F->hasFnAttribute(kNoPollAttr);
      OptimizationRemarkEmitter ORE(F);
      auto Unpolled = [&](BasicBlock *H, DebugLoc Loc, StringRef Why) {
        ORE.emit([&] {
          return OptimizationRemarkMissed(kRemarkPass, "LoopNotPolled",
                                          Loc ? DiagnosticLocation(Loc) : DiagnosticLocation(),
                                          H)
                 << Why;
        });
      };
      Policy.Unpolled = Unpolled;
      // Counted loops that would poll every iteration poll once per chunk instead (P19).
      if (chunkLoops(*F, loopFacts(*F), Policy))
        FAM.invalidate(*F, PreservedAnalyses::none());
      // Checkpointable-ness of calls must be decided on the original IR, so the analyses are
      // computed before anything changes in F.
      placeSafePoints(S, loopFacts(*F), Policy);
      FAM.invalidate(*F, PreservedAnalyses::none());
      if (S.SafePoints.empty())
        continue;
      if (std::string Why = coverSetjmps(S); !Why.empty()) {
        warn(*F, "function '" + F->getName() + "' is not instrumented because " + Why +
                     "; checkpoints wait until it returns");
        continue;  // normalised but harmless: only blocks were split
      }
      computeLiveness(S);
      bridgeSetjmpLiveValues(S);
      std::string Why;
      if (!layoutFrames(S, M.getDataLayout(), &Why)) {
        warn(*F, "cannot be instrumented: " + Why);
        continue;  // normalised but harmless: only blocks were split
      }
      remarkSafePoints(S, ORE);
      Shapes.push_back(std::move(S));
    }
    return Shapes;
  }

  void instrument() {
    RuntimeABI R(M);
    redirectHeapCalls(M);
    refuseUnwrappedMpiCalls(M);
    std::vector<FunctionShape> Shapes = shapeFunctions();
    for (FunctionShape &S : Shapes) {
      emitSaveRestore(S, R);
      dropMemoryFacts(*S.F);
    }
    wrapConstructors(M, R);
    emitModuleTables(M, R, Shapes);
    renameMain(M);
    M.getOrInsertNamedMetadata("autockpt.instrumented");
  }

 private:
  Module &M;
  FunctionAnalysisManager &FAM;
  std::vector<Function *> Candidates;
  DenseSet<Function *> CandidateSet, Recursive, Checkpointable;

  // A function left without safe points may still have loops that a mark kept free of polls:
  // the remarks say so (the loops of a plain unmarked function are bounded, or it has none).
  void remarkUnpolledLoops(Function &F) {
    OptimizationRemarkEmitter ORE(&F);
    if (!ORE.allowExtraAnalysis(kRemarkPass))
      return;
    auto Unpolled = [&](BasicBlock *H, DebugLoc Loc, StringRef Why) {
      ORE.emit([&] {
        return OptimizationRemarkMissed(kRemarkPass, "LoopNotPolled",
                                        Loc ? DiagnosticLocation(Loc) : DiagnosticLocation(), H)
               << Why;
      });
    };
    SafePointPolicy Policy;
    Policy.NoLoopPolls = F.hasFnAttribute(kNoPollAttr);
    Policy.Unpolled = Unpolled;
    pollHeaders(loopFacts(F), Policy);
  }

  static void remarkSafePoints(const FunctionShape &S, OptimizationRemarkEmitter &ORE) {
    unsigned Polls = 0, Calls = 0;
    for (const SafePoint &SP : S.SafePoints)
      (SP.Kind == SafePoint::Call ? Calls : Polls) += 1;
    ORE.emit([&] {
      return OptimizationRemark(kRemarkPass, "SafePoints", S.F)
             << "'" << ore::NV("Function", S.F->getName()) << "' is checkpointable: "
             << ore::NV("Polls", Polls) << " poll(s), " << ore::NV("Calls", Calls)
             << " call(s) checked after return";
    });
  }

  // A warning, and the same as a missed remark (-Rpass-missed=autockpt, optimisation records).
  void warn(const Function &F, const Twine &Msg) {
    M.getContext().diagnose(DiagnosticInfoUnsupported(
        F, "autockpt: " + Msg, DiagnosticLocation(F.getSubprogram()), DS_Warning));
    OptimizationRemarkEmitter ORE(&F);
    ORE.emit([&] { return OptimizationRemarkMissed(kRemarkPass, "Excluded", &F) << Msg.str(); });
  }

  // Why F cannot be instrumented, or empty.
  static std::string exclusionReason(Function &F) {
    if (F.hasFnAttribute(Attribute::Naked))
      return "it is naked";
    for (Instruction &I : instructions(F)) {
      if (I.getType()->isTokenTy())
        return "it uses token values (coroutines or funclet exception handling)";
      if (isa<CallBrInst>(I))
        return "it contains asm goto";
      if (auto *CB = dyn_cast<CallBase>(&I)) {
        if (CB->hasFnAttr(Attribute::ReturnsTwice) && (!isSetjmpCall(*CB) || isa<InvokeInst>(CB)))
          return "it calls a function that returns twice (vfork, or setjmp in a try block)";
        if (auto *CI = dyn_cast<CallInst>(CB); CI && CI->isMustTailCall())
          return "it contains a musttail call";
      }
    }
    return "";
  }

  LoopFacts loopFacts(Function &F) {
    return {FAM.getResult<CycleAnalysis>(F), FAM.getResult<LoopAnalysis>(F),
            FAM.getResult<ScalarEvolutionAnalysis>(F), FAM.getResult<DominatorTreeAnalysis>(F)};
  }

  // Whether F has a cycle that needs a poll (P12: bounded loops need none).
  bool hasPolledCycles(Function &F) {
    SafePointPolicy NoCalls;
    NoCalls.NoLoopPolls = F.hasFnAttribute(kNoPollAttr);
    if (!pollHeaders(loopFacts(F), NoCalls).empty())
      return true;
    for (Instruction &I : instructions(F))
      if (asSafePointMarker(I))
        return true;
    return false;
  }

  bool callPollsAtEntry(const CallBase &CB) {
    auto *Callee = dyn_cast<Function>(CB.getCalledOperand()->stripPointerCasts());
    return Callee && Recursive.count(Callee) && Checkpointable.count(Callee);
  }

  void findCandidates() {
    for (Function &F : M) {
      if (F.isDeclaration() || F.hasAvailableExternallyLinkage() ||
          RuntimeABI::isRuntimeName(F.getName()))
        continue;
      std::string Why = exclusionReason(F);
      if (!Why.empty()) {
        // Say so only where a checkpoint is lost: the function loops or makes calls.
        warn(F, "function '" + F.getName() + "' is not instrumented because " + Why +
                    "; checkpoints wait until it returns");
        continue;
      }
      Candidates.push_back(&F);
      CandidateSet.insert(&F);
    }
  }

  void findRecursion() {
    CallGraph CG(M);
    for (scc_iterator<CallGraph *> I = scc_begin(&CG); !I.isAtEnd(); ++I) {
      if (!I.hasCycle())
        continue;
      for (CallGraphNode *N : *I)
        if (Function *F = N->getFunction(); F && CandidateSet.count(F))
          Recursive.insert(F);
    }
  }

  bool isLeafExternal(Function &Callee, Function &Caller) {
    if (leafExternals().contains(Callee.getName()) || isLibraryLeafName(Callee.getName()))
      return true;
    LibFunc LF;
    auto &TLI = FAM.getResult<TargetLibraryAnalysis>(Caller);
    return TLI.getLibFunc(Callee, LF) && TLI.has(LF);
  }

  bool isCheckpointableCall(const CallBase &CB) {
    if (CB.isInlineAsm() || CB.hasFnAttr(Attribute::ReturnsTwice))
      return false;  // setjmp: re-run by the restores of the safe points after it (P15)
    auto *Callee = dyn_cast<Function>(CB.getCalledOperand()->stripPointerCasts());
    if (!Callee)
      return true;  // indirect: may be any instrumented function
    if (blockingWrappers().contains(Callee->getName()))
      return true;
    if (Callee->isIntrinsic() || RuntimeABI::isRuntimeName(Callee->getName()))
      return false;
    if (Checkpointable.count(Callee))
      return true;
    if (Callee->isDeclaration())  // defined in another translation unit, or a library
      return !isLeafExternal(*Callee, *const_cast<Function *>(CB.getFunction()));
    return false;  // defined here: checkpointable or not, as decided
  }

  void findCheckpointable() {
    for (Function *F : Candidates)
      if (Recursive.count(F) || hasPolledCycles(*F))
        Checkpointable.insert(F);
    for (bool Changed = true; Changed;) {
      Changed = false;
      for (Function *F : Candidates) {
        if (Checkpointable.count(F))
          continue;
        for (Instruction &I : instructions(*F))
          if (auto *CB = dyn_cast<CallBase>(&I); CB && isCheckpointableCall(*CB)) {
            Checkpointable.insert(F);
            Changed = true;
            break;
          }
      }
    }
  }

  // An instrumented function writes memory (its frame record) and may return early while
  // unwinding: facts like memory(none) inferred before the pass no longer hold.
  // Its value returned while unwinding is meaningless (the caller tests the mode first), so
  // return attributes that make such a value undefined behaviour (noundef, nonnull, ...) go:
  // an optimiser that runs later (LTO) would otherwise delete the save blocks.
  // It also gets an unwind table: the runtime walks the stack with the unwinder before it
  // unwinds (R3), and a frame without one ends the walk short of main, so every checkpoint
  // waited (flang emits none: its OpenMP regions never checkpointed, P17).
  static void dropMemoryFacts(Function &F) {
    if (!F.hasUWTable())
      F.setUWTableKind(UWTableKind::Async);
    AttributeMask UB = AttributeFuncs::getUBImplyingAttributes();
    F.removeFnAttr(Attribute::Memory);
    F.removeFnAttr(Attribute::Speculatable);
    F.removeFnAttr(Attribute::NoSync);
    F.removeRetAttrs(UB);
    for (User *U : F.users())
      if (auto *CB = dyn_cast<CallBase>(U); CB && CB->getCalledOperand() == &F) {
        CB->removeFnAttr(Attribute::Memory);
        CB->removeRetAttrs(UB);
      }
  }
};

bool skipModule(Module &M) {
  Triple T = targetTriple(M);
  if (T.isNVPTX() || T.isAMDGPU() || T.isSPIRV())
    return true;  // the device side of a CUDA/HIP compilation is never instrumented
  return M.getNamedMetadata("autockpt.instrumented") != nullptr;  // e.g. again at LTO link
}

}  // namespace

PreservedAnalyses AutockptPass::run(Module &M, ModuleAnalysisManager &MAM) {
  if (skipModule(M))
    return PreservedAnalyses::all();
  normalizeMarks(M, MAM);  // a module that did not pass PipelineStartEP (opt, LTO)
  ModuleInstrumenter(M, MAM).instrument();
  return PreservedAnalyses::none();
}

PreservedAnalyses PrintSafePointsPass::run(Module &M, ModuleAnalysisManager &MAM) {
  static const char *const KindName[] = {"poll", "call", "entry"};
  normalizeMarks(M, MAM);
  for (FunctionShape &S : ModuleInstrumenter(M, MAM).shapeFunctions()) {
    OS << "autockpt: function " << S.F->getName() << ": " << S.SafePoints.size()
       << " safe point(s), " << S.Allocas.size() << " saved alloca(s)"
       << (S.DynamicStack ? ", dynamic stack" : "") << "\n";
    for (SafePoint &SP : S.SafePoints) {
      OS << "  #" << SP.Id << " " << KindName[SP.Kind] << " in " << SP.Site->getName();
      if (SP.TheCall)
        if (Function *Callee = SP.TheCall->getCalledFunction())
          OS << " to " << Callee->getName();
      OS << "; live:";
      for (Value *V : SP.Live) {
        OS << " ";
        V->printAsOperand(OS, /*PrintType=*/false);
      }
      OS << "\n";
    }
  }
  return PreservedAnalyses::none();
}

}  // namespace autockpt
