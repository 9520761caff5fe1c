// Declares the runtime's entry points in a module, matching include/autockpt/abi.h.
#include "RuntimeABI.h"

#include "llvm/IR/Attributes.h"
#include "llvm/IR/DerivedTypes.h"

using namespace llvm;

namespace autockpt {

RuntimeABI::RuntimeABI(Module &M) {
  LLVMContext &C = M.getContext();
  I32 = Type::getInt32Ty(C);
  I64 = Type::getInt64Ty(C);
  Ptr = PointerType::get(C, 0);
  Void = Type::getVoidTy(C);
  State = M.getGlobalVariable("__autockpt_state", /*AllowInternal=*/true);
  if (!State) {
    State = new GlobalVariable(M, I64, /*isConstant=*/false, GlobalValue::ExternalLinkage,
                               nullptr, "__autockpt_state");
    State->setAlignment(Align(8));
  }
  // One state word per thread (docs/design.md H2).  In an executable the runtime is linked
  // statically and defines it: local-exec, one `cmpl $0, %fs:off` like a global's compare.  In
  // a shared library, initial-exec: the word is in the executable's static TLS block.
  bool Executable = M.getPICLevel() == PICLevel::NotPIC || M.getPIELevel() != PIELevel::Default;
  State->setThreadLocalMode(Executable ? GlobalValue::LocalExecTLSModel
                                       : GlobalValue::InitialExecTLSModel);
  if (Executable)
    State->setDSOLocal(true);

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

FunctionCallee RuntimeABI::mpiRefused(Module &M) {
  LLVMContext &C = M.getContext();
  AttributeList NoReturn = AttributeList()
                               .addFnAttribute(C, Attribute::Cold)
                               .addFnAttribute(C, Attribute::NoInline)
                               .addFnAttribute(C, Attribute::NoReturn);
  return M.getOrInsertFunction("__autockpt_mpi_refused", NoReturn, Type::getVoidTy(C),
                               PointerType::get(C, 0));
}

static Value *stateAddress(IRBuilderBase &B, GlobalVariable *State) {
  CallInst *At = B.CreateThreadLocalAddress(State);
  At->setName("autockpt.tls");
  return At;
}

LoadInst *RuntimeABI::loadFlag(IRBuilderBase &B) const {
  LoadInst *L = B.CreateAlignedLoad(I32, stateAddress(B, State), Align(8), "autockpt.flag");
  L->setVolatile(true);
  return L;
}

LoadInst *RuntimeABI::loadMode(IRBuilderBase &B) const {
  Value *At = B.CreateConstInBoundsGEP1_64(B.getInt8Ty(), stateAddress(B, State), 4,
                                           "autockpt.modep");
  return B.CreateAlignedLoad(I32, At, Align(4), "autockpt.mode");
}

LoadInst *RuntimeABI::loadState(IRBuilderBase &B) const {
  LoadInst *L = B.CreateAlignedLoad(I64, stateAddress(B, State), Align(8), "autockpt.state");
  L->setVolatile(true);
  return L;
}

}  // namespace autockpt
