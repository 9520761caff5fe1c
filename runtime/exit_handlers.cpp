// atexit and __cxa_atexit in instrumented code (DESIGN §3 "atexit handlers"): the registrations
// are kept in the arena, so a restarted process has exactly those of the checkpointed run, and
// each handler runs once at exit.  libc knows only one handler of ours, which runs the list.
#include "arena.h"
#include "autockpt/abi.h"

#include <cstdlib>

namespace {

struct ExitEntry {
  void (*fn)(void *);
  void *arg;
  bool with_arg;
  ExitEntry *next;  // registered earlier: runs later
};

bool g_registered_with_libc;

ExitEntry **head() { return reinterpret_cast<ExitEntry **>(autockpt::arena::root(autockpt::arena::kExitHandlers)); }

void run_all() {
  while (ExitEntry *e = *head()) {
    *head() = e->next;  // a handler may register another: it runs next
    if (e->with_arg)
      e->fn(e->arg);
    else
      reinterpret_cast<void (*)()>(e->fn)();
  }
}

void ensure_registered() {
  if (!g_registered_with_libc) {
    g_registered_with_libc = true;
    atexit(run_all);
  }
}

}  // namespace

namespace autockpt::exit_handlers {
// After a restart: the restored list needs our one libc registration in this process.
void after_restore() {
  if (*head())
    ensure_registered();
}
}  // namespace autockpt::exit_handlers

extern "C" {

int __autockpt___cxa_atexit(void (*fn)(void *), void *arg, void *) {
  auto *e = static_cast<ExitEntry *>(__autockpt_malloc(sizeof(ExitEntry)));
  if (!e)
    return -1;
  *e = {fn, arg, true, *head()};
  *head() = e;
  ensure_registered();
  return 0;
}

int __autockpt_atexit(void (*fn)()) {
  auto *e = static_cast<ExitEntry *>(__autockpt_malloc(sizeof(ExitEntry)));
  if (!e)
    return -1;
  *e = {reinterpret_cast<void (*)(void *)>(fn), nullptr, false, *head()};
  *head() = e;
  ensure_registered();
  return 0;
}

}  // extern "C"
