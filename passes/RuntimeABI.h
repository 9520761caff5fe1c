// Every runtime entry point the pass calls, declared once (see include/autockpt/abi.h).
#pragma once

#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/Module.h"

namespace autockpt {

struct RuntimeABI {
  llvm::Type *I32, *I64, *Ptr, *Void;
  // u64 __autockpt_state, thread-local: the flag (low half) and the mode (high half).
  llvm::GlobalVariable *State;
  llvm::FunctionCallee PollSlow, PushFrame, PopFrame, BadFrame, RegisterModule, RunCtor;

  explicit RuntimeABI(llvm::Module &M);

  // Loads of this thread's state word, emitted at B's insertion point: the flag (volatile, P14),
  // the mode, or the whole word (volatile).  Each goes through llvm.threadlocal.address, which
  // x86 folds into the load: `cmpl $0, %fs:__autockpt_state@TPOFF` in an executable.
  llvm::LoadInst *loadFlag(llvm::IRBuilderBase &B) const;
  llvm::LoadInst *loadMode(llvm::IRBuilderBase &B) const;
  llvm::LoadInst *loadState(llvm::IRBuilderBase &B) const;

  // void __autockpt_mpi_refused(const char *call), noreturn: an MPI call the layer does not wrap
  // (docs/design.md M18).  Declared only in a module that needs it.
  static llvm::FunctionCallee mpiRefused(llvm::Module &M);

  // Names the pass never instruments or rewrites: the runtime's own.
  static bool isRuntimeName(llvm::StringRef Name) { return Name.starts_with("__autockpt_"); }
};

// Values of __autockpt_mode (AUTOCKPT_MODE_* in abi.h).
enum : unsigned { ModeRunning = 0, ModeUnwinding = 1, ModeRestoring = 2 };

}  // namespace autockpt
