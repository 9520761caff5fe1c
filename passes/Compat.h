// The only place that knows which LLVM major the plugin is compiled against (19 or 22).
#pragma once

#include "llvm/ADT/SmallVector.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/IR/DebugInfo.h"
#include "llvm/IR/DebugProgramInstruction.h"
#include "llvm/IR/IntrinsicInst.h"
#include "llvm/IR/Module.h"
#include "llvm/TargetParser/Triple.h"

#include <type_traits>

#if LLVM_VERSION_MAJOR >= 22
#include "llvm/Plugins/PassPlugin.h"
#else
#include "llvm/Passes/PassPlugin.h"
#endif

namespace autockpt {

// Module::getTargetTriple() returns a std::string in 19 and a Triple in 22.
inline llvm::Triple targetTriple(const llvm::Module &M) { return llvm::Triple(M.getTargetTriple()); }

// Since LLVM 20 the OptimizerLastEP callback is told which LTO phase it runs in; 19 cannot tell.
#if LLVM_VERSION_MAJOR >= 20
#define AUTOCKPT_EP_LTO_PHASE_PARAM , llvm::ThinOrFullLTOPhase
#else
#define AUTOCKPT_EP_LTO_PHASE_PARAM
#endif

// A debug record that names a value as a source variable or as its address.
struct DebugUse {
  llvm::DILocalVariable *Var;
  llvm::DIExpression *Expr;  // applied to the value (its fragment, if any, is the variable's)
  bool Address;              // dbg.declare, or dbg.assign's address: the value is &Var
};

namespace detail {
// The same for an intrinsic (llvm.dbg.*) and a record (#dbg_*): their accessors are spelled alike.
template <class R>
void addDebugUse(llvm::SmallVectorImpl<DebugUse> &Out, llvm::Value *V, R &Rec, bool Declare,
                 bool Assign) {
  if constexpr (!std::is_same_v<R, llvm::DbgVariableIntrinsic>)  // a record, or llvm.dbg.assign
    if (Assign && Rec.getAddress() == V && Rec.getAddressExpression()->getNumElements() == 0)
      Out.push_back({Rec.getVariable(), Rec.getExpression(), true});
  if (!Rec.hasArgList() && Rec.getVariableLocationOp(0) == V)
    Out.push_back({Rec.getVariable(), Rec.getExpression(), Declare});
}
}  // namespace detail

// The debug records (dbg.value, dbg.declare, dbg.assign) that describe V.  LLVM 19 modules may
// still hold them as intrinsics; 22 has records only.
inline llvm::SmallVector<DebugUse, 4> debugUses(llvm::Value *V) {
  llvm::SmallVector<DebugUse, 4> Out;
  llvm::SmallVector<llvm::DbgVariableRecord *, 4> Records;
#if LLVM_VERSION_MAJOR >= 22
  llvm::findDbgUsers(V, Records);
#else
  llvm::SmallVector<llvm::DbgVariableIntrinsic *, 4> Intrinsics;
  llvm::findDbgUsers(Intrinsics, V, &Records);
  for (llvm::DbgVariableIntrinsic *I : Intrinsics) {
    if (auto *A = llvm::dyn_cast<llvm::DbgAssignIntrinsic>(I))
      detail::addDebugUse(Out, V, *A, false, true);
    else
      detail::addDebugUse(Out, V, *I, llvm::isa<llvm::DbgDeclareInst>(I), false);
  }
#endif
  for (llvm::DbgVariableRecord *R : Records)
    detail::addDebugUse(Out, V, *R, R->isDbgDeclare(), R->isDbgAssign());
  return Out;
}

}  // namespace autockpt
