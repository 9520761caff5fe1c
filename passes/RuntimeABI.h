// Every runtime entry point the pass calls, declared once (see include/autockpt/abi.h).
#pragma once

#include "llvm/IR/Module.h"

namespace autockpt {

struct RuntimeABI {
  llvm::Type *I32, *I64, *Ptr, *Void;
  llvm::GlobalVariable *Flag;  // volatile int __autockpt_flag
  llvm::GlobalVariable *Mode;  // int __autockpt_mode
  llvm::GlobalVariable *State;  // u64 __autockpt_state: the flag (low half) and the mode
  llvm::FunctionCallee PollSlow, PushFrame, PopFrame, BadFrame, RegisterModule, RunCtor;

  explicit RuntimeABI(llvm::Module &M);

  // Names the pass never instruments or rewrites: the runtime's own.
  static bool isRuntimeName(llvm::StringRef Name) { return Name.starts_with("__autockpt_"); }
};

// Values of __autockpt_mode (AUTOCKPT_MODE_* in abi.h).
enum : unsigned { ModeRunning = 0, ModeUnwinding = 1, ModeRestoring = 2 };

}  // namespace autockpt
