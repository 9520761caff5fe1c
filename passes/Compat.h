// The only place that knows which LLVM major the plugin is compiled against (19 or 22).
#pragma once

#include "llvm/Config/llvm-config.h"
#include "llvm/IR/Module.h"
#include "llvm/TargetParser/Triple.h"

#if LLVM_VERSION_MAJOR >= 22
#include "llvm/Plugins/PassPlugin.h"
#else
#include "llvm/Passes/PassPlugin.h"
#endif

namespace autockpt {

// Module::getTargetTriple() returns a std::string in 19 and a Triple in 22.
inline llvm::Triple targetTriple(const llvm::Module &M) { return llvm::Triple(M.getTargetTriple()); }

// Since LLVM 20 the OptimizerLastEP callback is told which LTO phase it runs in; 19 cannot tell.
#if LLVM_VERSION_MAJOR >= 20
#define AUTOCKPT_EP_LTO_PHASE_PARAM , llvm::ThinOrFullLTOPhase
#else
#define AUTOCKPT_EP_LTO_PHASE_PARAM
#endif

}  // namespace autockpt
