// C++ exceptions and checkpoints (docs/design.md R25).  An exception object lives in the system
// heap, and the C++ runtime keeps its record of the exceptions being thrown and handled in its own
// thread-local globals: a checkpoint saves neither.  So a thread defers a checkpoint while it
// builds an exception (from __cxa_allocate_exception in instrumented code to its __cxa_throw:
// the throw expression's operands are computed in between), while it unwinds, and while a catch
// block runs.
#include "control.h"

#include <cxxabi.h>

namespace {
// Exceptions this thread's instrumented code has allocated and not yet thrown or freed.
thread_local int t_building;

// libstdc++'s (and libc++abi's) per-thread record, in the C++ ABI's layout.
struct EhGlobals {
  void *caught;       // the innermost exception a catch block is handling
  unsigned uncaught;  // thrown and not yet caught
};
}  // namespace

extern "C" EhGlobals *__cxa_get_globals();

namespace autockpt::control {
bool handling_exception() {
  if (t_building > 0)
    return true;
  EhGlobals *eh = __cxa_get_globals();
  return eh && (eh->caught || eh->uncaught);
}
}  // namespace autockpt::control

extern "C" {
void *__autockpt___cxa_allocate_exception(size_t size) {
  void *p = abi::__cxa_allocate_exception(size);
  ++t_building;
  return p;
}

void __autockpt___cxa_free_exception(void *p) {  // its constructor threw
  t_building -= t_building > 0;
  abi::__cxa_free_exception(p);
}

// std::make_exception_ptr: the object goes to an exception_ptr instead of being thrown.
__cxxabiv1::__cxa_refcounted_exception *
__autockpt___cxa_init_primary_exception(void *p, std::type_info *type, void (*dest)(void *)) {
  t_building -= t_building > 0;
  return abi::__cxa_init_primary_exception(p, type, dest);
}

[[noreturn]] void __autockpt___cxa_throw(void *p, std::type_info *type, void (*dest)(void *)) {
  t_building -= t_building > 0;
  abi::__cxa_throw(p, type, dest);
}
}
