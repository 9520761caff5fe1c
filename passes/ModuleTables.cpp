// Emits the autockpt_module descriptor of include/autockpt/abi.h and its registering
// constructor.  Writable globals are listed so the runtime saves and restores their bytes.
#include "ModuleTables.h"

#include "Marks.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/DebugInfoMetadata.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/Transforms/Utils/ModuleUtils.h"

#include "autockpt/abi.h"

using namespace llvm;

namespace autockpt {

namespace {

class TableBuilder {
 public:
  TableBuilder(Module &M, const RuntimeABI &R) : M(M), R(R), C(M.getContext()) {}

  Constant *string(StringRef S) {
    auto It = Strings.find(S);
    if (It != Strings.end())
      return It->second;
    Constant *Init = ConstantDataArray::getString(C, S);
    auto *G = new GlobalVariable(M, Init->getType(), true, GlobalValue::PrivateLinkage, Init,
                                 "autockpt.str");
    G->setUnnamedAddr(GlobalValue::UnnamedAddr::Global);
    G->setAlignment(Align(1));
    return Strings[S] = G;
  }

  Constant *array(Type *Ty, ArrayRef<Constant *> Elems, StringRef Name) {
    if (Elems.empty())
      return null();
    ArrayType *ATy = ArrayType::get(Ty, Elems.size());
    return new GlobalVariable(M, ATy, true, GlobalValue::PrivateLinkage,
                              ConstantArray::get(ATy, Elems), Name);
  }

  // A constant array emitted once however often it is asked for (constants are uniqued).
  Constant *sharedArray(StructType *Ty, ArrayRef<Constant *> Elems, StringRef Name) {
    if (Elems.empty())
      return null();
    Constant *Init = ConstantArray::get(ArrayType::get(Ty, Elems.size()), Elems);
    Constant *&G = Arrays[Init];
    if (!G)
      G = new GlobalVariable(M, Init->getType(), true, GlobalValue::PrivateLinkage, Init, Name);
    return G;
  }

  // struct autockpt_slot { const char *name, *type; u64 offset, size; u32 kind, flags; }
  Constant *slot(StructType *SlotTy, const Slot &S) {
    return ConstantStruct::get(
        SlotTy, {S.Name.empty() ? null() : string(S.Name), string(S.Type), i64(S.Offset),
                 i64(S.Size), i32(S.Kind), i32(S.AddressOf ? AUTOCKPT_SLOT_ADDRESS_OF : 0)});
  }

  Constant *null() { return ConstantPointerNull::get(cast<PointerType>(R.Ptr)); }

  Constant *i32(uint64_t V) { return ConstantInt::get(R.I32, V); }
  Constant *i64(uint64_t V) { return ConstantInt::get(R.I64, V); }

  Module &M;
  const RuntimeABI &R;
  LLVMContext &C;
  StringMap<Constant *> Strings;
  DenseMap<Constant *, Constant *> Arrays;
};

bool isSavedGlobal(const GlobalVariable &GV) {
  if (GV.isDeclaration() || GV.isConstant() || GV.hasAvailableExternallyLinkage() ||
      GV.hasAppendingLinkage())
    return false;
  StringRef N = GV.getName();
  if (N.starts_with("llvm.") || N.starts_with("__autockpt") || N.starts_with("autockpt."))
    return false;
  if (GV.hasSection() && GV.getSection() == "llvm.metadata")
    return false;
  // nosave: after a restart it holds its initial value; a nosave pointer is saved, and the
  // block it points to is left out instead (C3).
  if (GV.hasMetadata(kNoSaveMD) && !GV.getValueType()->isPointerTy())
    return false;
  return GV.getParent()->getDataLayout().getTypeAllocSize(GV.getValueType()) != 0;
}

StringRef sourceFile(const FunctionShape &S) {
  if (DISubprogram *SP = S.F->getSubprogram())
    return SP->getFilename();
  return S.F->getParent()->getSourceFileName();
}

}  // namespace

void emitModuleTables(Module &M, const RuntimeABI &R, const std::vector<FunctionShape> &Shapes) {
  TableBuilder T(M, R);
  LLVMContext &C = M.getContext();
  const DataLayout &DL = M.getDataLayout();

  // struct autockpt_global { void *addr; u64 size; const char *name; }
  StructType *GlobalTy = StructType::get(C, {R.Ptr, R.I64, R.Ptr});
  // A thread-local variable has no constant address: the constructor, which runs on the main
  // thread (the one that runs the user's main), fills in that thread's instance.
  std::vector<Constant *> Globals, NoSavePointers;
  std::vector<std::pair<unsigned, GlobalVariable *>> ThreadLocals;
  for (GlobalVariable &GV : M.globals()) {
    if (!isSavedGlobal(GV))
      continue;
    if (GV.hasMetadata(kNoSaveMD) && !GV.isThreadLocal())
      NoSavePointers.push_back(&GV);
    Constant *Addr = &GV;
    if (GV.isThreadLocal()) {
      ThreadLocals.push_back({unsigned(Globals.size()), &GV});
      Addr = ConstantPointerNull::get(cast<PointerType>(R.Ptr));
    }
    Globals.push_back(ConstantStruct::get(
        GlobalTy, {Addr, T.i64(DL.getTypeAllocSize(GV.getValueType())), T.string(GV.getName())}));
  }

  // struct autockpt_slot { const char *name, *type; u64 offset, size; u32 kind, flags; }
  StructType *SlotTy = StructType::get(C, {R.Ptr, R.Ptr, R.I64, R.I64, R.I32, R.I32});
  auto Slots = [&](const std::vector<Slot> &In, StringRef Name) {
    std::vector<Constant *> Out;
    for (const Slot &S : In)
      Out.push_back(T.slot(SlotTy, S));
    return T.sharedArray(SlotTy, Out, Name);
  };
  // struct autockpt_safepoint { u32 line, kind; const autockpt_slot *values;
  //                             u32 nvalues, locals_offset; }
  StructType *SafePointTy = StructType::get(C, {R.I32, R.I32, R.Ptr, R.I32, R.I32});
  // struct autockpt_function { void *addr; u64 fid, layout; const char *name, *file;
  //                            const autockpt_safepoint *safepoints; u32 n, nlocals;
  //                            const autockpt_slot *locals; }
  StructType *FunctionTy =
      StructType::get(C, {R.Ptr, R.I64, R.I64, R.Ptr, R.Ptr, R.Ptr, R.I32, R.I32, R.Ptr});
  std::vector<Constant *> Functions;
  for (const FunctionShape &S : Shapes) {
    std::vector<Constant *> SPs;
    for (const SafePoint &SP : S.SafePoints)
      SPs.push_back(ConstantStruct::get(
          SafePointTy, {T.i32(SP.Loc ? SP.Loc.getLine() : 0), T.i32(SP.Kind),
                        Slots(SP.Values, "autockpt.values"), T.i32(SP.Values.size()),
                        T.i32(SP.LocalsOffset)}));
    Functions.push_back(ConstantStruct::get(
        FunctionTy, {S.F, T.i64(S.Fid), T.i64(S.Layout), T.string(S.F->getName()),
                     T.string(sourceFile(S)), T.array(SafePointTy, SPs, "autockpt.safepoints"),
                     T.i32(SPs.size()), T.i32(S.Locals.size()),
                     Slots(S.Locals, "autockpt.locals")}));
  }

  // struct autockpt_module { u32 abi, reserved; const char *name; globals, n; functions, n;
  //                          nosave_pointers, n; }
  StructType *ModuleTy =
      StructType::get(C, {R.I32, R.I32, R.Ptr, R.Ptr, R.I64, R.Ptr, R.I64, R.Ptr, R.I64});
  Constant *Desc = ConstantStruct::get(
      ModuleTy, {T.i32(AUTOCKPT_ABI_VERSION), T.i32(0), T.string(M.getModuleIdentifier()),
                 T.array(GlobalTy, Globals, "autockpt.globals"), T.i64(Globals.size()),
                 T.array(FunctionTy, Functions, "autockpt.functions"), T.i64(Functions.size()),
                 T.array(R.Ptr, NoSavePointers, "autockpt.nosave_pointers"),
                 T.i64(NoSavePointers.size())});
  auto *DescGV = new GlobalVariable(M, ModuleTy, true, GlobalValue::PrivateLinkage, Desc,
                                    "autockpt.module");

  Function *Ctor = Function::Create(FunctionType::get(R.Void, false),
                                    GlobalValue::InternalLinkage, "autockpt.module_ctor", &M);
  IRBuilder<> B(BasicBlock::Create(C, "", Ctor));
  if (!ThreadLocals.empty()) {
    auto *Table = cast<GlobalVariable>(cast<ConstantStruct>(Desc)->getOperand(3));
    Table->setConstant(false);
    for (auto [Index, GV] : ThreadLocals)
      B.CreateStore(B.CreateThreadLocalAddress(GV),
                    B.CreateInBoundsGEP(Table->getValueType(), Table,
                                        {T.i32(0), T.i32(Index), T.i32(0)}));
  }
  B.CreateCall(R.RegisterModule, {DescGV});
  B.CreateRetVoid();
  appendToGlobalCtors(M, Ctor, /*Priority=*/0);
}

void wrapConstructors(Module &M, const RuntimeABI &R) {
  GlobalVariable *Ctors = M.getGlobalVariable("llvm.global_ctors");
  if (!Ctors || !Ctors->hasInitializer())
    return;
  auto *Array = dyn_cast<ConstantArray>(Ctors->getInitializer());
  if (!Array)
    return;  // zeroinitializer: nothing listed
  LLVMContext &C = M.getContext();
  std::vector<Constant *> Entries;
  bool Changed = false;
  for (Use &U : Array->operands()) {
    auto *Entry = cast<ConstantStruct>(U.get());
    auto *Fn = dyn_cast<Function>(Entry->getOperand(1)->stripPointerCasts());
    if (!Fn || RuntimeABI::isRuntimeName(Fn->getName()) ||
        Fn->getName().starts_with("autockpt.")) {
      Entries.push_back(Entry);
      continue;
    }
    // { priority, wrapper, associated data }: the linker still drops the entry with its comdat.
    Function *Wrapper = Function::Create(FunctionType::get(R.Void, false),
                                         GlobalValue::InternalLinkage, "autockpt.ctor", &M);
    IRBuilder<> B(BasicBlock::Create(C, "", Wrapper));
    B.CreateCall(R.RunCtor, {Entry->getOperand(1)});
    B.CreateRetVoid();
    Entries.push_back(ConstantStruct::get(
        Entry->getType(), {Entry->getOperand(0), Wrapper, Entry->getOperand(2)}));
    Changed = true;
  }
  if (!Changed)
    return;
  Ctors->setInitializer(ConstantArray::get(Array->getType(), Entries));
}

bool renameMain(Module &M) {
  Function *Main = M.getFunction("main");
  if (!Main || Main->isDeclaration())
    return false;
  Main->setName("__autockpt_user_main");
  return true;
}

}  // namespace autockpt
