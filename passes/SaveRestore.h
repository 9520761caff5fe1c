// Emits the code that saves frames while unwinding and re-enters them while restoring.
#pragma once

#include "RuntimeABI.h"
#include "Shape.h"

namespace autockpt {

// Requires a normalised, analysed, laid-out shape (SafePoints, Liveness, FrameLayout).
void emitSaveRestore(FunctionShape &S, const RuntimeABI &R);

}  // namespace autockpt
