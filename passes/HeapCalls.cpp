// Redirects allocation functions to the arena: malloc -> __autockpt_malloc, operator new ->
// __autockpt__Znwm, ... (calls, invokes and address-taken uses alike).  The runtime defines one
// replacement per name below, with the same signature and contract.
#include "HeapCalls.h"

#include "llvm/IR/Constants.h"
#include "llvm/IR/Function.h"
#include "llvm/IR/InstrTypes.h"

using namespace llvm;

namespace autockpt {

// C allocation functions, and the Itanium-mangled operator new/delete variants.
static const char *const HeapFunctions[] = {
    "malloc", "calloc", "realloc", "reallocarray", "free", "aligned_alloc", "posix_memalign",
    "memalign", "valloc", "pvalloc", "malloc_usable_size", "strdup", "strndup",
    // operator new / new[] (plain, nothrow, aligned, aligned nothrow)
    "_Znwm", "_Znam", "_ZnwmRKSt9nothrow_t", "_ZnamRKSt9nothrow_t", "_ZnwmSt11align_val_t",
    "_ZnamSt11align_val_t", "_ZnwmSt11align_val_tRKSt9nothrow_t",
    "_ZnamSt11align_val_tRKSt9nothrow_t",
    // operator delete / delete[] (plain, sized, aligned, sized aligned, nothrow variants)
    "_ZdlPv", "_ZdaPv", "_ZdlPvm", "_ZdaPvm", "_ZdlPvSt11align_val_t", "_ZdaPvSt11align_val_t",
    "_ZdlPvmSt11align_val_t", "_ZdaPvmSt11align_val_t", "_ZdlPvRKSt9nothrow_t",
    "_ZdaPvRKSt9nothrow_t", "_ZdlPvSt11align_val_tRKSt9nothrow_t",
    "_ZdaPvSt11align_val_tRKSt9nothrow_t"};

unsigned redirectHeapCalls(Module &M) {
  unsigned N = 0;
  for (const char *Name : HeapFunctions) {
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
