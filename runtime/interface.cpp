// Thin definitions of every __autockpt_* entry point of include/autockpt/abi.h.
#include "autockpt/abi.h"

#include "arena.h"
#include "control.h"
#include "frames.h"
#include "log.h"
#include "registry.h"
#include "state.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <malloc.h>
#include <new>

// One state word per thread (abi.h): the flag is its low half, the mode its high half; the
// runtime's own code reaches them through state.h.
extern "C" {
alignas(8) __thread unsigned long long __autockpt_state;
}

extern "C" {

int __autockpt_poll_slow(void) {
  return autockpt::control::poll_slow(reinterpret_cast<uintptr_t>(__builtin_dwarf_cfa()));
}

void *__autockpt_push_frame(autockpt_u64 fid, autockpt_u32 spid, autockpt_u64 layout,
                            autockpt_u64 size) {
  return autockpt::frames::push(fid, spid, layout, size);
}

void *__autockpt_pop_frame(autockpt_u64 fid, autockpt_u64 layout) {
  bool last = false;
  void *rec = autockpt::frames::pop(fid, layout, &last);
  if (last) {
    autockpt::state::mode() = AUTOCKPT_MODE_RUNNING;
    autockpt::control::reentered_last_frame();
  }
  return rec;
}

void __autockpt_bad_frame(autockpt_u64 fid, autockpt_u32 spid) {
  autockpt::fatal("re-entering the saved frames: %s has no safe point %u; the image does not "
                  "match this program", autockpt::registry::function_name(fid), spid);
}

void __autockpt_mpi_refused(const char *call) {
  if (call[0] == 'm' || call[0] == 'p')  // mpi_send_: a Fortran binding
    autockpt::fatal("%s: autockpt does not support MPI's Fortran bindings yet (its MPI layer wraps "
                    "the C bindings only, docs/design.md M18); build this program without "
                    "autockpt", call);
  autockpt::fatal("%s: autockpt does not support this MPI call yet: it is not among the calls its "
                  "MPI layer wraps, and would get autockpt's virtual handles or make something a "
                  "restart does not make again (docs/design.md M18); build this program without "
                  "autockpt, or avoid %s", call, call);
}

void __autockpt_register_module(const struct autockpt_module *m) { autockpt::registry::add(m); }

// In a restarted process a constructor is skipped: its effects on memory are in the image, and
// what it did outside memory (printing, truncating a file) must not happen twice.  In a fresh
// start its allocations belong to the program, in the arena.
void __autockpt_run_ctor(void (*ctor)(void)) {
  if (autockpt::control::restarting())
    return;
  bool was = autockpt_user_main_running;
  autockpt_user_main_running = true;
  ctor();
  autockpt_user_main_running = was;
}

}  // extern "C"

// ---- The heap -----------------------------------------------------------------------------
// Allocation may start in a static constructor, before main has read the options.

namespace {

constexpr uint64_t kDefaultArena = 1ull << 40;

inline void ready() {
  if (__builtin_expect(autockpt::arena::reserved_bytes() == 0, 0))
    autockpt::arena::init(kDefaultArena);
}

// A block the system allocator handed out (libc, or a library) moves into the arena when the
// program reallocates it.
void *adopt_foreign(void *p, size_t n) {
  size_t have = malloc_usable_size(p);
  void *q = autockpt::arena::malloc(n);
  if (q) {
    memcpy(q, p, have < n ? have : n);
    free(p);
  }
  return q;
}

}  // namespace

extern "C" {

void *__autockpt_malloc(autockpt_u64 n) {
  ready();
  return autockpt::arena::malloc(n);
}

void *__autockpt_calloc(autockpt_u64 n, autockpt_u64 size) {
  ready();
  return autockpt::arena::calloc(n, size);
}

void *__autockpt_realloc(void *p, autockpt_u64 n) {
  ready();
  if (p && !autockpt::arena::contains(p))
    return adopt_foreign(p, n);
  return autockpt::arena::realloc(p, n);
}

void *__autockpt_reallocarray(void *p, autockpt_u64 n, autockpt_u64 size) {
  autockpt_u64 total;
  if (__builtin_mul_overflow(n, size, &total)) {
    errno = ENOMEM;
    return nullptr;
  }
  return __autockpt_realloc(p, total);
}

void __autockpt_free(void *p) {
  if (!p)
    return;
  if (autockpt::arena::contains(p))
    autockpt::arena::free(p);
  else
    free(p);  // allocated by libc or a library: not ours
}

void *__autockpt_aligned_alloc(autockpt_u64 align, autockpt_u64 size) {
  if (align == 0 || (align & (align - 1))) {
    errno = EINVAL;
    return nullptr;
  }
  ready();
  return autockpt::arena::aligned(align, size);
}

void *__autockpt_memalign(autockpt_u64 align, autockpt_u64 size) {
  return __autockpt_aligned_alloc(align, size);
}

int __autockpt_posix_memalign(void **out, autockpt_u64 align, autockpt_u64 size) {
  if (align < sizeof(void *) || (align & (align - 1)))
    return EINVAL;
  void *p = __autockpt_aligned_alloc(align, size);
  if (!p)
    return ENOMEM;
  *out = p;
  return 0;
}

void *__autockpt_valloc(autockpt_u64 size) { return __autockpt_aligned_alloc(4096, size); }

void *__autockpt_pvalloc(autockpt_u64 size) {
  return __autockpt_aligned_alloc(4096, (size + 4095) & ~autockpt_u64(4095));
}

autockpt_u64 __autockpt_malloc_usable_size(void *p) {
  if (!p)
    return 0;
  return autockpt::arena::contains(p) ? autockpt::arena::usable_size(p) : malloc_usable_size(p);
}

char *__autockpt_strdup(const char *s) {
  size_t n = strlen(s) + 1;
  auto *d = static_cast<char *>(__autockpt_malloc(n));
  return d ? static_cast<char *>(memcpy(d, s, n)) : nullptr;
}

char *__autockpt_strndup(const char *s, autockpt_u64 max) {
  size_t n = strnlen(s, max);
  auto *d = static_cast<char *>(__autockpt_malloc(n + 1));
  if (!d)
    return nullptr;
  memcpy(d, s, n);
  d[n] = 0;
  return d;
}

// ---- C++ operator new and delete (Itanium names, as the pass redirects them) -----------------

// Instrumented code's operator new allocates where the global one would (R9): in the arena
// while the program runs, in the system heap while the runtime is in control.  The runtime can
// run instrumented code: a template instantiated in the program's modules (std::string's
// _M_mutate in C++20, where libstdc++ declares no extern template for it) is one weak copy for
// the whole executable, and libstdc++.so itself binds to it.  A string the runtime made in the
// arena while reading an image was lost when the image's heap replaced the arena.
static void *system_new(autockpt_u64 n, autockpt_u64 align) {
  void *p = nullptr;
  if (align <= 16)
    p = malloc(n);
  else if (posix_memalign(&p, align, n) != 0)
    p = nullptr;
  return p;
}

static void *redirected_new(autockpt_u64 n, autockpt_u64 align, bool nothrow) {
  n = n ? n : 1;
  void *p;
  if (!autockpt_user_main_running || autockpt_runtime_heap)
    p = system_new(n, align);
  else
    p = align > 16 ? __autockpt_aligned_alloc(align, n) : __autockpt_malloc(n);
  if (!p && !nothrow)
    throw std::bad_alloc();
  return p;
}

void *__autockpt__Znwm(autockpt_u64 n) { return redirected_new(n, 0, false); }
void *__autockpt__Znam(autockpt_u64 n) { return redirected_new(n, 0, false); }
void *__autockpt__ZnwmRKSt9nothrow_t(autockpt_u64 n, const std::nothrow_t &) {
  return redirected_new(n, 0, true);
}
void *__autockpt__ZnamRKSt9nothrow_t(autockpt_u64 n, const std::nothrow_t &) {
  return redirected_new(n, 0, true);
}
void *__autockpt__ZnwmSt11align_val_t(autockpt_u64 n, std::align_val_t a) {
  return redirected_new(n, autockpt_u64(a), false);
}
void *__autockpt__ZnamSt11align_val_t(autockpt_u64 n, std::align_val_t a) {
  return redirected_new(n, autockpt_u64(a), false);
}
void *__autockpt__ZnwmSt11align_val_tRKSt9nothrow_t(autockpt_u64 n, std::align_val_t a,
                                                     const std::nothrow_t &) {
  return redirected_new(n, autockpt_u64(a), true);
}
void *__autockpt__ZnamSt11align_val_tRKSt9nothrow_t(autockpt_u64 n, std::align_val_t a,
                                                     const std::nothrow_t &) {
  return redirected_new(n, autockpt_u64(a), true);
}

// Every delete variant frees the same way: the arena knows the block's size and alignment.
// Outside the arena, the block came from the system heap through the global operator new
// below (all of the process's operator new is this runtime's).
static void delete_any(void *p) {
  if (!p)
    return;
  if (autockpt::arena::contains(p))
    autockpt::arena::free(p);
  else
    free(p);
}
void __autockpt__ZdlPv(void *p) { delete_any(p); }
void __autockpt__ZdaPv(void *p) { delete_any(p); }
void __autockpt__ZdlPvm(void *p, autockpt_u64) { delete_any(p); }
void __autockpt__ZdaPvm(void *p, autockpt_u64) { delete_any(p); }
void __autockpt__ZdlPvSt11align_val_t(void *p, std::align_val_t) { delete_any(p); }
void __autockpt__ZdaPvSt11align_val_t(void *p, std::align_val_t) { delete_any(p); }
void __autockpt__ZdlPvmSt11align_val_t(void *p, autockpt_u64, std::align_val_t) { delete_any(p); }
void __autockpt__ZdaPvmSt11align_val_t(void *p, autockpt_u64, std::align_val_t) { delete_any(p); }
void __autockpt__ZdlPvRKSt9nothrow_t(void *p, const std::nothrow_t &) { delete_any(p); }
void __autockpt__ZdaPvRKSt9nothrow_t(void *p, const std::nothrow_t &) { delete_any(p); }
void __autockpt__ZdlPvSt11align_val_tRKSt9nothrow_t(void *p, std::align_val_t,
                                                     const std::nothrow_t &) {
  delete_any(p);
}
void __autockpt__ZdaPvSt11align_val_tRKSt9nothrow_t(void *p, std::align_val_t,
                                                     const std::nothrow_t &) {
  delete_any(p);
}

}  // extern "C"

// ---- The process's global operator new and delete --------------------------------------------
// Library code compiled elsewhere (libstdc++'s out-of-line std::string, std::ostringstream...)
// allocates with the global operator new.  Once the user's main runs, those blocks belong to
// the program's state and must be in the arena; before it (static initialisation of the
// libraries) they are the libraries' own and stay in the system heap, which is never restored.

bool autockpt_user_main_running;
__thread int autockpt_runtime_heap;

static void *global_new(std::size_t n, std::size_t align) {
  return redirected_new(n, align, false);
}

void *operator new(std::size_t n) { return global_new(n, 0); }
void *operator new[](std::size_t n) { return global_new(n, 0); }
void *operator new(std::size_t n, std::align_val_t a) { return global_new(n, std::size_t(a)); }
void *operator new[](std::size_t n, std::align_val_t a) { return global_new(n, std::size_t(a)); }
void *operator new(std::size_t n, const std::nothrow_t &) noexcept {
  return redirected_new(n, 0, true);
}
void *operator new[](std::size_t n, const std::nothrow_t &) noexcept {
  return redirected_new(n, 0, true);
}
void *operator new(std::size_t n, std::align_val_t a, const std::nothrow_t &) noexcept {
  return redirected_new(n, std::size_t(a), true);
}
void *operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t &) noexcept {
  return redirected_new(n, std::size_t(a), true);
}
void operator delete(void *p) noexcept { delete_any(p); }
void operator delete[](void *p) noexcept { delete_any(p); }
void operator delete(void *p, std::size_t) noexcept { delete_any(p); }
void operator delete[](void *p, std::size_t) noexcept { delete_any(p); }
void operator delete(void *p, std::align_val_t) noexcept { delete_any(p); }
void operator delete[](void *p, std::align_val_t) noexcept { delete_any(p); }
void operator delete(void *p, std::size_t, std::align_val_t) noexcept { delete_any(p); }
void operator delete[](void *p, std::size_t, std::align_val_t) noexcept { delete_any(p); }
void operator delete(void *p, const std::nothrow_t &) noexcept { delete_any(p); }
void operator delete[](void *p, const std::nothrow_t &) noexcept { delete_any(p); }
void operator delete(void *p, std::align_val_t, const std::nothrow_t &) noexcept { delete_any(p); }
void operator delete[](void *p, std::align_val_t, const std::nothrow_t &) noexcept { delete_any(p); }
