// Per-function instrumentation state shared by the phases (like coro::Shape): the safe points,
// what is live across each, and the frame layout.  Built by SafePoints/Liveness/FrameLayout,
// consumed by SaveRestore and ModuleTables.
#pragma once

#include "llvm/ADT/SmallVector.h"
#include "llvm/IR/Function.h"
#include "llvm/IR/Instructions.h"

#include <cstdint>
#include <string>
#include <vector>

namespace autockpt {

// What one field of a frame record holds, for `autockpt inspect` (autockpt_slot in abi.h).
struct Slot {
  std::string Name;  // the source variable(s), from debug info; empty for a temporary
  std::string Type;  // the source type when known, else the IR type
  uint64_t Offset = 0, Size = 0;
  unsigned Kind = 0;  // AUTOCKPT_SLOT_*
  bool AddressOf = false;  // the value is the named variable's address
};

struct SafePoint {
  enum KindT : unsigned { Poll = 0, Call = 1, Entry = 2 } Kind = Poll;
  unsigned Id = 0;  // 1-based, in instruction order; 0 is never a valid id
  // Poll: a loop header that holds only phis and `br Target`; Entry: a block that holds only
  // `br Target`.  The poll replaces the branch, and a restore re-enters the block itself.
  // Call: the block that starts with the call (or invoke) to re-issue on restore.
  llvm::BasicBlock *Site = nullptr;
  llvm::CallBase *TheCall = nullptr;  // Call only
  // Call only: the block whose `br` becomes the "is the callee unwinding?" test.  For a call,
  // Site itself (it ends in `br cont`); for an invoke, the split normal-destination edge.
  llvm::BasicBlock *After = nullptr;
  llvm::DebugLoc Loc;
  // SSA values live at the safe point (arguments excluded): for a call, on entry to Site; for a
  // poll, at the end of Site (so a header's phis are included).
  std::vector<llvm::Value *> Live;
  // {Live..., [allocas as bytes]..., i64 dynamic bytes if DynamicStack}, packed.
  llvm::StructType *RecordTy = nullptr;
  std::vector<Slot> Values;   // parallel to Live, offsets from the record's start
  uint64_t LocalsOffset = 0;  // where the bytes of the allocas start in the record
  llvm::BasicBlock *Restore = nullptr;   // reloads the record, then continues at Site/Target
  llvm::BasicBlock *RestoreExit = nullptr;  // the restore's last block (after setjmps re-run)
  std::vector<llvm::Value *> Reloaded;   // parallel to Live
  // Indexes into FunctionShape::Setjmps of the setjmps that can run before this safe point: those
  // that dominate it, outermost first, then those that reach it on some paths only.  A restore
  // re-runs each of them (P15).
  std::vector<unsigned> Setjmps;
  // Parallel to Setjmps: null for a setjmp that dominates the safe point; for one that reaches it
  // on some paths only, an i1 that says whether it ran on the way here (saved with the frame).
  std::vector<llvm::Value *> SetjmpRan;
  // Values live where such a setjmp's longjmp lands that are not defined on every path here:
  // (V, its latest definition on the path here, poison on paths without one), the latter saved
  // in Live in V's place; a restore gives V the reloaded value (bridgeSetjmpLiveValues).
  std::vector<std::pair<llvm::Value *, llvm::Value *>> SetjmpBridged;
};

// A call to setjmp/sigsetjmp/_setjmp (P15).  Cont starts right after it: where a longjmp to the
// buffer lands, with the call's result.
struct SetjmpSite {
  llvm::CallInst *Call = nullptr;
  llvm::BasicBlock *Cont = nullptr;
  // Restore blocks where a longjmp lands after a re-run, with the result it got there.
  std::vector<std::pair<llvm::BasicBlock *, llvm::Value *>> Landings;
};

struct FunctionShape {
  llvm::Function *F = nullptr;
  uint64_t Fid = 0;     // stable id of the function (name hash)
  uint64_t Layout = 0;  // hash of every record layout of the function
  llvm::BasicBlock *Entry = nullptr;  // new entry: static allocas + the restoring test
  llvm::SmallVector<llvm::AllocaInst *, 8> Allocas;  // static allocas, saved wholesale
  // Static allocas marked nosave (Marks.h): not in the record; zeroed when a frame is restored.
  llvm::SmallVector<llvm::AllocaInst *, 2> NoSaveAllocas;
  std::vector<Slot> Locals;  // parallel to Allocas, offsets from SafePoint::LocalsOffset
  // Variable-length arrays or alloca(): the dynamic stack area [sp, StackBase) is saved as one
  // blob after the record, and re-allocated at restore so that every address stays the same.
  bool DynamicStack = false;
  llvm::Value *StackBase = nullptr;  // stack pointer at entry, after the static allocas
  std::vector<SafePoint> SafePoints;
  std::vector<SetjmpSite> Setjmps;
};

}  // namespace autockpt
