// What is live across each safe point: SSA values (not arguments, not the static allocas,
// which are saved by contents) live on entry to the safe point's block.
#pragma once

#include "Shape.h"

namespace autockpt {

// Fills SafePoint::Live for every safe point of S, in a deterministic order (instruction order).
void computeLiveness(FunctionShape &S);

}  // namespace autockpt
