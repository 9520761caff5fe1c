// Per-module tables (functions, safe points, writable globals) and the constructor that hands
// them to the runtime; also renames the user's main.
#pragma once

#include "RuntimeABI.h"
#include "Shape.h"

#include <vector>

namespace autockpt {

void emitModuleTables(llvm::Module &M, const RuntimeABI &R,
                      const std::vector<FunctionShape> &Shapes);

// main -> __autockpt_user_main (the runtime owns main).  Returns true if renamed.
bool renameMain(llvm::Module &M);

}  // namespace autockpt
