// DESIGN D4: the application's heap lives in the runtime's arena.  Every use of a C or C++
// allocation function in an instrumented module is redirected to the runtime's version.
#pragma once

#include "llvm/IR/Module.h"

namespace autockpt {

// Returns the number of functions redirected.
unsigned redirectHeapCalls(llvm::Module &M);

}  // namespace autockpt
