// Slot descriptions from debug info.  A saved live value is a variable when a dbg.value describes
// it, or a variable's address when a dbg.declare (or dbg.assign) does; a saved alloca's bytes are
// the variable declared at it.  Expressions other than a fragment or one DW_OP_deref (the value
// is then no longer the variable itself) leave a slot unnamed: a temporary.
#include "SlotNames.h"

#include "Compat.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/BinaryFormat/Dwarf.h"
#include "llvm/IR/DebugInfoMetadata.h"
#include "llvm/Support/raw_ostream.h"

#include "autockpt/abi.h"

#include <optional>

using namespace llvm;

namespace autockpt {

namespace {

std::string irTypeName(Type *T) {
  std::string S;
  raw_string_ostream OS(S);
  T->print(OS);
  return S;
}

const DIType *stripQualifiers(const DIType *T) {
  while (auto *D = dyn_cast_or_null<DIDerivedType>(T)) {
    unsigned Tag = D->getTag();
    if (Tag != dwarf::DW_TAG_typedef && Tag != dwarf::DW_TAG_const_type &&
        Tag != dwarf::DW_TAG_volatile_type && Tag != dwarf::DW_TAG_restrict_type &&
        Tag != dwarf::DW_TAG_atomic_type)
      break;
    T = D->getBaseType();
  }
  return T;
}

std::string sourceTypeName(const DIType *T);

// "int *", "char **".
std::string pointerTo(const DIType *T, StringRef Sigil) {
  std::string Base = sourceTypeName(T);
  return Base + (StringRef(Base).ends_with("*") ? "" : " ") + Sigil.str();
}

// A C-like spelling of a debug-info type: "int", "double *", "struct point", "double[100]".
std::string sourceTypeName(const DIType *T) {
  if (!T)
    return "void";
  if (auto *D = dyn_cast<DIDerivedType>(T)) {
    switch (D->getTag()) {
    case dwarf::DW_TAG_pointer_type:
      return pointerTo(D->getBaseType(), "*");
    case dwarf::DW_TAG_reference_type:
      return pointerTo(D->getBaseType(), "&");
    case dwarf::DW_TAG_rvalue_reference_type:
      return pointerTo(D->getBaseType(), "&&");
    case dwarf::DW_TAG_const_type:
      return "const " + sourceTypeName(D->getBaseType());
    case dwarf::DW_TAG_volatile_type:
      return "volatile " + sourceTypeName(D->getBaseType());
    case dwarf::DW_TAG_atomic_type:
      return "_Atomic " + sourceTypeName(D->getBaseType());
    case dwarf::DW_TAG_ptr_to_member_type:
      return "member pointer";
    default:  // typedef, restrict, ...
      return D->getName().empty() ? sourceTypeName(D->getBaseType()) : D->getName().str();
    }
  }
  if (auto *C = dyn_cast<DICompositeType>(T)) {
    if (C->getTag() == dwarf::DW_TAG_array_type) {
      std::string Dims;
      for (DINode *E : C->getElements())
        if (auto *SR = dyn_cast<DISubrange>(E)) {
          auto *N = dyn_cast_if_present<ConstantInt *>(SR->getCount());
          Dims += N ? "[" + std::to_string(N->getSExtValue()) + "]" : "[]";
        }
      return sourceTypeName(C->getBaseType()) + Dims;
    }
    std::string Name = C->getName().empty() ? "<anonymous>" : C->getName().str();
    switch (C->getTag()) {
    case dwarf::DW_TAG_structure_type:
      return "struct " + Name;
    case dwarf::DW_TAG_union_type:
      return "union " + Name;
    case dwarf::DW_TAG_enumeration_type:
      return "enum " + Name;
    default:
      return Name;
    }
  }
  if (isa<DISubroutineType>(T))
    return "function";
  return T->getName().empty() ? "?" : T->getName().str();
}

// DW_ATE_* of a source type that is a base type under its typedefs and qualifiers, else 0.
unsigned encoding(const DIType *T) {
  auto *B = dyn_cast_or_null<DIBasicType>(stripQualifiers(T));
  return B ? B->getEncoding() : 0;
}

// How `autockpt inspect` shows a saved value of IR type T: by T, with the source type's
// signedness, and as a float where the source type is one that the IR holds as an integer.
unsigned slotKind(Type *T, const DIType *Source) {
  if (T->isPointerTy())
    return AUTOCKPT_SLOT_POINTER;
  if (T->isFloatTy() || T->isDoubleTy())
    return AUTOCKPT_SLOT_FLOAT;
  auto *IT = dyn_cast<IntegerType>(T);
  if (!IT || IT->getBitWidth() > 64)
    return AUTOCKPT_SLOT_BYTES;
  switch (encoding(Source)) {
  case dwarf::DW_ATE_float:
    return (IT->getBitWidth() == 32 || IT->getBitWidth() == 64) &&
                   stripQualifiers(Source)->getSizeInBits() == IT->getBitWidth()
               ? AUTOCKPT_SLOT_FLOAT
               : AUTOCKPT_SLOT_BYTES;
  case dwarf::DW_ATE_unsigned:
  case dwarf::DW_ATE_unsigned_char:
  case dwarf::DW_ATE_boolean:
  case dwarf::DW_ATE_UTF:
    return AUTOCKPT_SLOT_UINT;
  default:
    return AUTOCKPT_SLOT_INT;
  }
}

// The name of the part of a variable that a fragment covers: "p.x", "a[3]", else "p (part)".
std::string fragmentName(StringRef Var, const DIType *T, DIExpression::FragmentInfo Frag) {
  const DIType *S = stripQualifiers(T);
  if (auto *C = dyn_cast_or_null<DICompositeType>(S)) {
    if (C->getTag() == dwarf::DW_TAG_array_type) {
      const DIType *Elem = stripQualifiers(C->getBaseType());
      uint64_t Bits = Elem ? Elem->getSizeInBits() : 0;
      if (Bits && Frag.SizeInBits == Bits && Frag.OffsetInBits % Bits == 0)
        return (Var + "[" + Twine(Frag.OffsetInBits / Bits) + "]").str();
    } else {
      for (DINode *E : C->getElements())
        if (auto *M = dyn_cast<DIDerivedType>(E);
            M && M->getTag() == dwarf::DW_TAG_member && M->getOffsetInBits() == Frag.OffsetInBits &&
            M->getSizeInBits() == Frag.SizeInBits && !M->getName().empty())
          return (Var + "." + M->getName()).str();
    }
  }
  return (Var + " (part)").str();
}

class Namer {
 public:
  Namer(const Function &F, const DataLayout &DL) : Home(F.getSubprogram()), DL(DL) {}

  // A live value: the variable it is, or else the variable whose address it is.
  Slot value(Value *V) {
    Slot S = describe(V, 0, V->getType());
    if (S.Name.empty()) {
      S = describe(V, 1, V->getType(), /*AddressType=*/true);
      S.AddressOf = !S.Name.empty();
    }
    S.Size = DL.getTypeAllocSize(V->getType());
    return S;
  }

  // An alloca saved by its bytes: the variable that lives in it.
  Slot memory(AllocaInst *A) {
    Slot S = describe(A, 1, A->getAllocatedType());
    if (A->isArrayAllocation())
      S.Kind = AUTOCKPT_SLOT_BYTES;
    S.Size = A->getAllocationSize(DL)->getFixedValue();
    return S;
  }

 private:
  const DISubprogram *Home;
  const DataLayout &DL;
  DenseMap<Value *, SmallVector<DebugUse, 4>> Uses;

  // How many loads lead from the value to the variable: 0 it is the variable, 1 its address.
  static std::optional<unsigned> indirection(const DebugUse &U) {
    unsigned Ops = U.Expr->getNumElements() - (U.Expr->isFragment() ? 3 : 0);
    unsigned Loads = U.Address ? 1 : 0;
    if (Ops == 0)
      return Loads;
    if (Ops == 1 && U.Expr->getElement(0) == dwarf::DW_OP_deref)
      return Loads + 1;
    return std::nullopt;
  }

  // "i"; "p.x" for a fragment; "inlined::i" for a variable of an inlined callee.
  std::string name(const DebugUse &U) {
    std::string N = U.Var->getName().str();
    if (std::optional<DIExpression::FragmentInfo> Frag = U.Expr->getFragmentInfo())
      N = fragmentName(N, U.Var->getType(), *Frag);
    const DISubprogram *Owner = U.Var->getScope() ? U.Var->getScope()->getSubprogram() : nullptr;
    if (Owner && Home && Owner != Home && !Owner->getName().empty())
      N = (Owner->getName() + "::" + N).str();
    return N;
  }

  // The variables that are `Loads` loads away from V, and the slot's type: with exactly one
  // variable, whole, its source type (a pointer to it with AddressType), else T.
  Slot describe(Value *V, unsigned Loads, Type *T, bool AddressType = false) {
    auto It = Uses.find(V);
    if (It == Uses.end())
      It = Uses.insert({V, debugUses(V)}).first;
    SmallVector<std::string, 2> Names;
    const DIType *Source = nullptr;
    bool Whole = true;
    for (const DebugUse &U : It->second) {
      if (indirection(U) != Loads || U.Var->getName().empty())
        continue;
      std::string N = name(U);
      if (is_contained(Names, N))
        continue;
      Names.push_back(N);
      Source = U.Var->getType();
      Whole &= !U.Expr->isFragment();
    }
    Slot S;
    S.Name = join(Names, ", ");
    bool Typed = Names.size() == 1 && Whole && Source;
    S.Type = !Typed ? irTypeName(T) : AddressType ? pointerTo(Source, "*") : sourceTypeName(Source);
    S.Kind = slotKind(T, Typed ? Source : nullptr);
    return S;
  }
};

}  // namespace

void describeSlots(FunctionShape &S, const DataLayout &DL) {
  Namer N(*S.F, DL);
  S.Locals.clear();
  uint64_t Offset = 0;
  for (AllocaInst *A : S.Allocas) {
    S.Locals.push_back(N.memory(A));
    S.Locals.back().Offset = Offset;
    Offset += S.Locals.back().Size;
  }
  for (SafePoint &SP : S.SafePoints) {
    const StructLayout *L = DL.getStructLayout(SP.RecordTy);
    SP.Values.clear();
    for (unsigned K = 0; K < SP.Live.size(); ++K) {
      SP.Values.push_back(N.value(SP.Live[K]));
      SP.Values.back().Offset = L->getElementOffset(K);
    }
    SP.LocalsOffset = SP.Live.size() < SP.RecordTy->getNumElements()
                          ? L->getElementOffset(SP.Live.size())
                          : L->getSizeInBytes();
  }
}

}  // namespace autockpt
