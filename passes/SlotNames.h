// Names the fields of the frame records after the source variables they hold (from debug info),
// with a type and how to show the value, for `autockpt inspect`.  Reads the IR, changes nothing.
#pragma once

#include "Shape.h"

#include "llvm/IR/DataLayout.h"

namespace autockpt {

// Fills S.Locals and every safe point's Values and LocalsOffset; the RecordTy must be laid out.
void describeSlots(FunctionShape &S, const llvm::DataLayout &DL);

}  // namespace autockpt
