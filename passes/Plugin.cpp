// Plugin entry: registers the pass at the end of the optimisation pipeline (DESIGN D2) and
// the pipeline names `autockpt` and `print-autockpt-safepoints` for opt.
#include "Compat.h"
#include "Instrument.h"
#include "Marks.h"

#include "llvm/Passes/PassBuilder.h"

using namespace llvm;

extern "C" LLVM_ATTRIBUTE_WEAK PassPluginLibraryInfo llvmGetPassPluginInfo() {
  return {LLVM_PLUGIN_API_VERSION, "autockpt", "0.1", [](PassBuilder &PB) {
            // Last in the pipeline, so inlining and vectorisation see the original program.
            // Under -flto this is the pre-link compile: the plugin is not loaded into the
            // linker by -fpass-plugin, so this is the only chance to instrument (see
            // docs/design.md P11).  If it is loaded at link time too, the module's
            // autockpt.instrumented marker makes the second run a no-op.
            // The source's marks (pragmas, attributes) are read before anything optimises
            // the annotations away or moves them (Marks.h), at -O0 too.
            PB.registerPipelineStartEPCallback([](ModulePassManager &MPM, OptimizationLevel) {
              MPM.addPass(autockpt::NormalizeMarksPass());
            });
            PB.registerOptimizerLastEPCallback(
                [](ModulePassManager &MPM, OptimizationLevel AUTOCKPT_EP_LTO_PHASE_PARAM) {
                  MPM.addPass(autockpt::AutockptPass());
                });
            PB.registerFullLinkTimeOptimizationLastEPCallback(
                [](ModulePassManager &MPM, OptimizationLevel) {
                  MPM.addPass(autockpt::AutockptPass());
                });
            PB.registerPipelineParsingCallback(
                [](StringRef Name, ModulePassManager &MPM, ArrayRef<PassBuilder::PipelineElement>) {
                  if (Name == "autockpt") {
                    MPM.addPass(autockpt::AutockptPass());
                    return true;
                  }
                  if (Name == "autockpt-marks") {
                    MPM.addPass(autockpt::NormalizeMarksPass());
                    return true;
                  }
                  if (Name == "print-autockpt-safepoints") {
                    MPM.addPass(autockpt::PrintSafePointsPass(llvm::outs()));
                    return true;
                  }
                  return false;
                });
          }};
}
