// DESIGN D9, docs/design.md M18: an MPI call the layer does not wrap never runs with the layer's
// virtual handles.  Each is replaced by a stub that stops the program at the call, saying which
// call autockpt does not support yet, and the compiler warns where it is first called.
#pragma once

#include "llvm/IR/Module.h"

namespace autockpt {

// Runs after redirectHeapCalls (the wrapped MPI calls are redirected by then).  Returns the
// number of MPI functions refused.
unsigned refuseUnwrappedMpiCalls(llvm::Module &M);

}  // namespace autockpt
