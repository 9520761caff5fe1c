// Redirects library functions to the runtime's replacements: malloc -> __autockpt_malloc,
// operator new -> __autockpt__Znwm, fopen -> __autockpt_fopen, ... (calls, invokes and
// address-taken uses alike).  The list is include/autockpt/redirects.def.
#include "HeapCalls.h"

#include "llvm/IR/Constants.h"
#include "llvm/IR/Function.h"
#include "llvm/IR/InstrTypes.h"

using namespace llvm;

namespace autockpt {

static const char *const Redirected[] = {
#define AUTOCKPT_REDIRECT(Name) #Name,
#include "autockpt/redirects.def"
#undef AUTOCKPT_REDIRECT
};

unsigned redirectHeapCalls(Module &M) {
  unsigned N = 0;
  for (const char *Name : Redirected) {
    Function *F = M.getFunction(Name);
    if (!F || !F->isDeclaration() || F->use_empty())
      continue;  // absent, or the program defines its own allocator
    FunctionCallee To = M.getOrInsertFunction((Twine("__autockpt_") + Name).str(),
                                              F->getFunctionType());
    auto *ToF = cast<Function>(To.getCallee());
    for (Use &U : make_early_inc_range(F->uses())) {
      if (auto *CB = dyn_cast<CallBase>(U.getUser()); CB && CB->isCallee(&U)) {
        CB->setCalledFunction(ToF);
        // Keep argument/return attributes; the "builtin" marker would claim libc semantics.
        CB->removeFnAttr(Attribute::Builtin);
      } else if (auto *C = dyn_cast<Constant>(U.getUser()); C && !isa<GlobalValue>(C)) {
        C->handleOperandChange(F, ToF);  // e.g. a table of function pointers
      } else {
        U.set(ToF);
      }
    }
    ++N;
  }
  return N;
}

}  // namespace autockpt
