// Refuses the MPI calls the MPI layer does not wrap (docs/design.md M18).  The program's
// communicators, datatypes, groups, requests and error handlers are virtual handles of the
// layer's (M4, M10, M16): an unwrapped call would hand one to the library (a crash, or a wrong
// answer), or make a library object no restart makes again.  So every use of an MPI function
// that is neither redirected (redirects_mpi.def) nor known to take no handle (mpi_allowed.def)
// goes to a stub of the same type:
//
//   define internal i32 @__autockpt_refused.MPI_Type_set_name(ptr %0, ptr %1) {
//     call void @__autockpt_mpi_refused(ptr @autockpt.mpi.name)   ; noreturn: exit 70
//     unreachable
//   }
//
// and the compiler warns at the first call.  Fortran's bindings (mpi_send_, from flang's
// `use mpi`) are refused the same way: the layer wraps the C bindings only.
#include "MpiCalls.h"

#include "RuntimeABI.h"

#include "llvm/ADT/StringSet.h"
#include "llvm/Analysis/OptimizationRemarkEmitter.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/DiagnosticInfo.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/InstrTypes.h"

using namespace llvm;

namespace autockpt {

namespace {

const StringSet<> &allowed() {
  static const StringSet<> Names = {
#define AUTOCKPT_MPI_ALLOWED(Name) #Name,
#include "autockpt/mpi_allowed.def"
#undef AUTOCKPT_MPI_ALLOWED
  };
  return Names;
}

// Whether the module came from flang: its identification, or the Fortran runtime's and
// flang's mangled names (a module compiled without llvm.ident).
bool isFortranModule(const Module &M) {
  if (NamedMDNode *Ident = M.getNamedMetadata("llvm.ident"))
    for (const MDNode *N : Ident->operands())
      if (N->getNumOperands())
        if (auto *S = dyn_cast<MDString>(N->getOperand(0)); S && S->getString().contains("flang"))
          return true;
  for (const Function &F : M)
    if (F.getName().starts_with("_Fortran") || F.getName().starts_with("_QQ"))
      return true;
  return false;
}

// Why the library function Name must not be called from instrumented code, or "" if it may.
// The C bindings' names are reserved by the MPI standard (MPI_, PMPI_, and the extensions'
// MPIX_); Fortran's are the lower-case ones flang emits (mpi_send_), in a Fortran module or
// with the trailing underscore of Fortran's linkage.
StringRef refusal(StringRef Name, bool Fortran) {
  StringRef C = Name;
  if (C.starts_with("PMPI_") || C.starts_with("PMPIX_"))
    C = C.drop_front(1);
  if (C.starts_with("MPI_") || C.starts_with("MPIX_"))
    return allowed().contains(C) ? "" : "c";
  StringRef F = Name;
  if (F.starts_with("pmpi_"))
    F = F.drop_front(1);
  if (F.starts_with("mpi_") && F.size() > 4 && (Fortran || F.ends_with("_")))
    return "fortran";
  return "";
}

// The call site the warning points at: the first in source order that has a location.
const CallBase *firstCall(Function &F) {
  const CallBase *Best = nullptr;
  auto Key = [](const CallBase *CB) {
    const DebugLoc &L = CB->getDebugLoc();
    return std::make_pair(L ? L.getLine() : ~0u, L ? L.getCol() : ~0u);
  };
  for (User *U : F.users())
    if (auto *CB = dyn_cast<CallBase>(U); CB && CB->getFunction())
      if (!Best || Key(CB) < Key(Best))
        Best = CB;
  return Best;
}

void warnRefused(Function &F, StringRef Kind) {
  std::string Msg = (Twine("autockpt: ") + F.getName() +
                     (Kind == "fortran"
                          ? " is a Fortran MPI binding; autockpt wraps the C bindings only"
                          : " is not supported by autockpt yet") +
                     ": the program stops with an error if it calls it (docs/design.md M18)")
                        .str();
  const CallBase *At = firstCall(F);
  if (!At)
    return;  // only its address is taken: the stub says so if it is ever called
  Function &Caller = *const_cast<Function *>(At->getFunction());
  Caller.getContext().diagnose(
      DiagnosticInfoUnsupported(Caller, Msg, DiagnosticLocation(At->getDebugLoc()), DS_Warning));
  OptimizationRemarkEmitter ORE(&Caller);
  ORE.emit([&] {
    return OptimizationRemarkMissed("autockpt", "MpiRefused", At) << Msg;
  });
}

}  // namespace

unsigned refuseUnwrappedMpiCalls(Module &M) {
  bool Fortran = isFortranModule(M);
  std::vector<std::pair<Function *, StringRef>> Refused;
  for (Function &F : M) {
    if (!F.isDeclaration() || F.use_empty() || F.isIntrinsic())
      continue;
    StringRef Kind = refusal(F.getName(), Fortran);
    if (!Kind.empty())
      Refused.push_back({&F, Kind});
  }
  for (auto [F, Kind] : Refused) {
    warnRefused(*F, Kind);
    Function *Stub = Function::Create(F->getFunctionType(), GlobalValue::InternalLinkage,
                                      "__autockpt_refused." + F->getName(), M);
    IRBuilder<> B(BasicBlock::Create(M.getContext(), "", Stub));
    Constant *Name = B.CreateGlobalString(F->getName(), "autockpt.mpi.name", 0, &M);
    B.CreateCall(RuntimeABI::mpiRefused(M), {Name});
    B.CreateUnreachable();
    F->replaceAllUsesWith(Stub);
  }
  return unsigned(Refused.size());
}

}  // namespace autockpt
