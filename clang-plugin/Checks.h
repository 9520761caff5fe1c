// The front end's view of what limits checkpointing: one visitor, used by the plugin (as
// -Wautockpt-* diagnostics) and by autockpt-scan (as a report).  It only finds; the callers
// decide what to print.
#pragma once

#include "clang/AST/ASTContext.h"
#include "clang/AST/Decl.h"
#include "clang/Basic/SourceLocation.h"

#include <functional>
#include <string>

namespace autockpt {

// What a finding is about.  The first ones are warnings (their -W name below); the rest are facts
// the scan reports.
enum class Kind {
  Setjmp, Fork, Sockets, Mmap, Asm, UnsupportedMpi, NoSave,  // -Wautockpt-*
  Loop, NoPoll, SafePoint, Threads, OpenMPTask, Mpi, Cuda, SignalHandler, Varargs, ThreadLocal,
  Function,  // a function definition (for counting)
};
constexpr unsigned kNumWarningKinds = 7;
inline bool isWarning(Kind K) { return unsigned(K) < kNumWarningKinds; }
// "setjmp" for -Wautockpt-setjmp; the scan's names for the others.
const char *kindName(Kind K);

struct Finding {
  Kind K;
  clang::SourceLocation Loc;
  const clang::FunctionDecl *Function = nullptr;  // the function it is in, if any
  std::string What;     // the construct: "fork", "MPI_Win_create", "inline asm", ...
  std::string Message;  // what happens at a checkpoint (warnings only)
  std::string Hint;     // what the user can do (warnings only)
};

// Whether the variable carries the nosave mark (annotate "autockpt.nosave": the pragma, the
// attribute or marks.h).
bool isNoSave(const clang::VarDecl &V);

// Visits every declaration of the translation unit that is not in a system header and calls
// Report for each finding, in source order.
void findAll(clang::ASTContext &Ctx, const std::function<void(const Finding &)> &Report);

}  // namespace autockpt
