// Frame record layouts and the hashes that bind a saved record to the code that reads it; the
// description of each field (SlotNames) goes with the layout.
#include "FrameLayout.h"

#include "SlotNames.h"

#include "llvm/IR/DerivedTypes.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;

namespace autockpt {

namespace {

struct Fnv64 {
  uint64_t H = 0xcbf29ce484222325ull;
  void add(StringRef S) {
    for (unsigned char C : S) {
      H ^= C;
      H *= 0x100000001b3ull;
    }
    add(uint64_t(S.size()));
  }
  void add(uint64_t V) {
    for (int K = 0; K < 8; ++K) {
      H ^= (V >> (8 * K)) & 0xff;
      H *= 0x100000001b3ull;
    }
  }
};

std::string typeName(Type *T) {
  std::string S;
  raw_string_ostream OS(S);
  T->print(OS);
  return S;
}

}  // namespace

uint64_t functionId(const Function &F) {
  Fnv64 H;
  if (F.hasLocalLinkage())
    H.add(F.getParent()->getModuleIdentifier());
  H.add(F.getName());
  return H.H;
}

bool layoutFrames(FunctionShape &S, const DataLayout &DL, std::string *Why) {
  LLVMContext &C = S.F->getContext();
  Fnv64 H;
  H.add(S.F->getName());
  H.add(uint64_t(S.SafePoints.size()));
  SmallVector<Type *, 8> AllocaTys;
  for (AllocaInst *A : S.Allocas) {
    std::optional<TypeSize> Size = A->getAllocationSize(DL);
    if (!Size || Size->isScalable()) {
      *Why = "a local variable has no fixed size";
      return false;
    }
    AllocaTys.push_back(ArrayType::get(Type::getInt8Ty(C), Size->getFixedValue()));
  }
  for (SafePoint &SP : S.SafePoints) {
    SmallVector<Type *, 16> Fields;
    for (Value *V : SP.Live) {
      Type *T = V->getType();
      if (T->isTokenTy() || (T->isVectorTy() && cast<VectorType>(T)->getElementCount().isScalable())) {
        *Why = "a value of type " + typeName(T) + " is live across a safe point";
        return false;
      }
      Fields.push_back(T);
    }
    Fields.append(AllocaTys.begin(), AllocaTys.end());
    if (S.DynamicStack)
      Fields.push_back(Type::getInt64Ty(C));  // bytes of dynamic stack that follow the record
    SP.RecordTy = StructType::get(C, Fields, /*isPacked=*/true);
    H.add(uint64_t(SP.Id));
    H.add(uint64_t(SP.Kind));
    H.add(typeName(SP.RecordTy));
  }
  S.Fid = functionId(*S.F);
  S.Layout = H.H;
  describeSlots(S, DL);
  return true;
}

}  // namespace autockpt
