// The autockpt module pass: the driver that reads like the list of its phases.
#pragma once

#include "llvm/IR/PassManager.h"
#include "llvm/Support/raw_ostream.h"

namespace autockpt {

struct AutockptPass : llvm::PassInfoMixin<AutockptPass> {
  llvm::PreservedAnalyses run(llvm::Module &M, llvm::ModuleAnalysisManager &MAM);
  static bool isRequired() { return true; }  // -O0 code (optnone) is instrumented too
};

// print-autockpt-safepoints: normalises and analyses every function as the pass would, then
// prints each safe point with its live values, instead of emitting the save/restore code.
struct PrintSafePointsPass : llvm::PassInfoMixin<PrintSafePointsPass> {
  llvm::raw_ostream &OS;
  explicit PrintSafePointsPass(llvm::raw_ostream &OS) : OS(OS) {}
  llvm::PreservedAnalyses run(llvm::Module &M, llvm::ModuleAnalysisManager &MAM);
  static bool isRequired() { return true; }
};

}  // namespace autockpt
