// Declares the runtime's entry points in a module, matching include/autockpt/abi.h.
#include "RuntimeABI.h"

#include "llvm/IR/Attributes.h"
#include "llvm/IR/DerivedTypes.h"

using namespace llvm;

namespace autockpt {

static GlobalVariable *externalI32(Module &M, StringRef Name) {
  if (GlobalVariable *G = M.getGlobalVariable(Name, /*AllowInternal=*/true))
    return G;
  return new GlobalVariable(M, Type::getInt32Ty(M.getContext()), /*isConstant=*/false,
                            GlobalValue::ExternalLinkage, nullptr, Name);
}

RuntimeABI::RuntimeABI(Module &M) {
  LLVMContext &C = M.getContext();
  I32 = Type::getInt32Ty(C);
  I64 = Type::getInt64Ty(C);
  Ptr = PointerType::get(C, 0);
  Void = Type::getVoidTy(C);
  Flag = externalI32(M, "__autockpt_flag");
  Mode = externalI32(M, "__autockpt_mode");
  State = M.getGlobalVariable("__autockpt_state", /*AllowInternal=*/true);
  if (!State) {
    State = new GlobalVariable(M, I64, /*isConstant=*/false, GlobalValue::ExternalLinkage,
                               nullptr, "__autockpt_state");
    State->setAlignment(Align(8));
  }
  // In an executable the runtime is linked statically: the state is then addressed directly
  // (one `cmp $0, sym(%rip)`) instead of through the GOT, which cost a register per function.
  bool Executable = M.getPICLevel() == PICLevel::NotPIC || M.getPIELevel() != PIELevel::Default;
  if (Executable) {
    Flag->setDSOLocal(true);
    Mode->setDSOLocal(true);
    State->setDSOLocal(true);
  }

  AttributeList Cold = AttributeList().addFnAttribute(C, Attribute::Cold).addFnAttribute(
      C, Attribute::NoInline);
  PollSlow = M.getOrInsertFunction("__autockpt_poll_slow", Cold, I32);
  PushFrame = M.getOrInsertFunction("__autockpt_push_frame", Cold, Ptr, I64, I32, I64, I64);
  PopFrame = M.getOrInsertFunction("__autockpt_pop_frame", Cold, Ptr, I64, I64);
  AttributeList NoReturn = Cold.addFnAttribute(C, Attribute::NoReturn);
  BadFrame = M.getOrInsertFunction("__autockpt_bad_frame", NoReturn, Void, I64, I32);
  RegisterModule = M.getOrInsertFunction("__autockpt_register_module", Void, Ptr);
  RunCtor = M.getOrInsertFunction("__autockpt_run_ctor", Void, Ptr);
}

}  // namespace autockpt
