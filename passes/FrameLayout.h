// The saved frame's layout: one packed record type per safe point (live values, then the bytes
// of every static alloca), the function id and a hash of all the record layouts.
#pragma once

#include "Shape.h"

#include "llvm/IR/DataLayout.h"

namespace autockpt {

// Stable 64-bit id of a function: FNV-1a of its name, salted with the module for local names.
uint64_t functionId(const llvm::Function &F);

// Fills S.Fid, S.Layout, every SafePoint::RecordTy and the slot descriptions (SlotNames.h).
// Returns false (and says why in *Why) when a record cannot be laid out, e.g. a scalable
// vector or a token is live.
bool layoutFrames(FunctionShape &S, const llvm::DataLayout &DL, std::string *Why);

}  // namespace autockpt
