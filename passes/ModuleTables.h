// Per-module tables (functions, safe points, writable globals) and the constructor that hands
// them to the runtime; also renames the user's main.
#pragma once

#include "RuntimeABI.h"
#include "Shape.h"

#include <vector>

namespace autockpt {

void emitModuleTables(llvm::Module &M, const RuntimeABI &R,
                      const std::vector<FunctionShape> &Shapes);

// Routes every static constructor of the module (llvm.global_ctors) through
// __autockpt_run_ctor, which skips it in a restarted process: the image holds what it did.
void wrapConstructors(llvm::Module &M, const RuntimeABI &R);

// main -> __autockpt_user_main (the runtime owns main).  Returns true if renamed.
bool renameMain(llvm::Module &M);

}  // namespace autockpt
