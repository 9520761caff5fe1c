// signal and sigaction in instrumented code: what the program installs is recorded in the arena
// (root kSignals), so a restarted process installs the same handlers again before the program
// goes on (handlers are code of the executable, at the same addresses: DESIGN D3).  What a
// handler does is the program's; the runtime's own signals are trigger.cpp's.
#include "arena.h"

#include <csignal>
#include <cstring>

namespace {

constexpr int kSignals = 65;

struct Recorded {
  struct sigaction act[kSignals];
  bool set[kSignals];
};

Recorded *table(bool create) {
  auto **root = reinterpret_cast<Recorded **>(autockpt::arena::root(autockpt::arena::kSignals));
  if (!*root && create)
    *root = static_cast<Recorded *>(autockpt::arena::calloc(1, sizeof(Recorded)));
  return *root;
}

void record(int sig) {
  if (sig <= 0 || sig >= kSignals)
    return;
  Recorded *t = table(true);
  if (t && sigaction(sig, nullptr, &t->act[sig]) == 0)
    t->set[sig] = true;
}

}  // namespace

namespace autockpt::signals {
// After a restart, before the runtime installs its own (the checkpoint signal stays the runtime's).
void after_restore() {
  Recorded *t = table(false);
  if (!t)
    return;
  for (int sig = 1; sig < kSignals; ++sig)
    if (t->set[sig])
      sigaction(sig, &t->act[sig], nullptr);
}
}  // namespace autockpt::signals

extern "C" {

__sighandler_t __autockpt_signal(int sig, __sighandler_t handler) {
  __sighandler_t old = signal(sig, handler);
  if (old != SIG_ERR)
    record(sig);
  return old;
}

int __autockpt_sigaction(int sig, const struct sigaction *act, struct sigaction *old) {
  int r = sigaction(sig, act, old);
  if (r == 0 && act)
    record(sig);
  return r;
}

}  // extern "C"
