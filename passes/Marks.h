// What the program's source asked of the pass (the clang plugin's pragmas and attributes, or
// include/autockpt/marks.h without the plugin), read from the one IR form both leave
// (docs/design.md C1):
//   - `annotate("autockpt.nopoll")` on a function, `annotate("autockpt.nosave")` on a global
//     (llvm.global.annotations) or a local variable (llvm.var.annotation);
//   - `llvm.annotation(i32 0, "autockpt.nopoll" | "autockpt.safepoint", file, line)` calls at a
//     statement (what `#pragma autockpt nopoll|safepoint` expands to).
// normalizeMarks turns them into the forms the pass reads later and that survive optimisation:
//   function  -> attribute "autockpt-nopoll";  global/alloca -> !autockpt.nosave metadata;
//   nopoll marker before a loop -> the loop's !llvm.loop property !{!"autockpt.nopoll"}.
// Safe-point markers stay where they are until the pass places a poll there.
#pragma once

#include "llvm/IR/PassManager.h"

namespace llvm {
class CallInst;
class Instruction;
class Loop;
}

namespace autockpt {

inline constexpr const char *kNoPollAttr = "autockpt-nopoll";
inline constexpr const char *kNoSaveMD = "autockpt.nosave";
inline constexpr const char *kNoPollLoopProp = "autockpt.nopoll";

// Runs first in the pipeline (PipelineStartEP), and again at the start of the pass itself so that
// a module that skipped it (opt -passes=autockpt) is read the same way.  Idempotent.
void normalizeMarks(llvm::Module &M, llvm::ModuleAnalysisManager &MAM);

struct NormalizeMarksPass : llvm::PassInfoMixin<NormalizeMarksPass> {
  llvm::PreservedAnalyses run(llvm::Module &M, llvm::ModuleAnalysisManager &MAM);
  static bool isRequired() { return true; }
};

// Whether L or a loop around it carries the nopoll property.
bool inNoPollLoop(const llvm::Loop *L);

// A `#pragma autockpt safepoint` marker, or null.
llvm::CallInst *asSafePointMarker(llvm::Instruction &I);

}  // namespace autockpt
