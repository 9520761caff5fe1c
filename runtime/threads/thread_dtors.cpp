// C++ thread_local destructors (docs/design.md H10).  An instrumented module registers each one
// with __cxa_thread_atexit; the C library would keep the list in its own thread-local memory,
// which no image holds, so after a restart the objects would never be destroyed.  Instead each
// thread's list lives in the arena, under its creation index (threads::Thread::index, 0 for
// main), and the runtime runs it when the thread leaves: after its start routine returns or at
// pthread_exit (inside the thread's root, so a checkpoint requested meanwhile waits for the
// destructors, as for any uninstrumented frame), and for the main thread at exit, through one
// registration of ours with the C library.
#include "arena.h"
#include "autockpt/abi.h"
#include "layers.h"
#include "threads/threads.h"

#include <mutex>
#include <sys/syscall.h>
#include <unistd.h>

extern "C" int __cxa_thread_atexit_impl(void (*fn)(void *), void *obj, void *dso);
extern "C" void *__dso_handle;

namespace autockpt::threads {
namespace {

struct Dtor {
  void (*fn)(void *);
  void *obj;
  Dtor *next;  // registered earlier: runs later
};

struct ThreadDtors {
  uint32_t index;
  Dtor *head;
  ThreadDtors *next;
};

std::mutex g_mu;  // the registrations of all threads; never held at a safe point
bool g_main_registered;  // our runner is in the C library's list for the main thread

ThreadDtors **lists() {
  return reinterpret_cast<ThreadDtors **>(arena::root(arena::kThreadDtors));
}

bool on_main_thread() { return syscall(SYS_gettid) == getpid(); }

// The list of thread `index`, made if `make`.  Under g_mu.
ThreadDtors *find(uint32_t index, bool make) {
  for (ThreadDtors *l = *lists(); l; l = l->next)
    if (l->index == index)
      return l;
  if (!make)
    return nullptr;
  auto *l = static_cast<ThreadDtors *>(__autockpt_malloc(sizeof(ThreadDtors)));
  if (!l)
    return nullptr;
  *l = {index, nullptr, *lists()};
  *lists() = l;
  return l;
}

// Takes the next destructor of thread `index` off its list (the list too once empty).
bool take(uint32_t index, Dtor *out) {
  std::lock_guard<std::mutex> lock(g_mu);
  for (ThreadDtors **at = lists(); *at; at = &(*at)->next) {
    ThreadDtors *l = *at;
    if (l->index != index)
      continue;
    Dtor *d = l->head;
    if (d) {
      l->head = d->next;
      *out = *d;
      __autockpt_free(d);
    }
    if (!l->head) {
      *at = l->next;
      __autockpt_free(l);
    }
    return d != nullptr;
  }
  return false;
}

void run_main(void *);

void register_main_runner() {
  if (!g_main_registered) {
    g_main_registered = true;
    __cxa_thread_atexit_impl(run_main, nullptr, &__dso_handle);
  }
}

void run_main(void *) { run_thread_dtors(0); }

// A restarted process: the C library's exit must run the main thread's restored list.
void restart() {
  std::lock_guard<std::mutex> lock(g_mu);
  if (find(0, false))
    register_main_runner();
}

// Linked in with __autockpt___cxa_thread_atexit, by a program that has such objects.
const layers::Layer kLayer = {"thread_local destructors", nullptr, nullptr, nullptr, nullptr,
                              0, nullptr, nullptr, restart, nullptr};
AUTOCKPT_LAYER(kLayer);

}  // namespace

void run_thread_dtors(uint32_t index) {
  Dtor d;
  while (take(index, &d))  // a destructor may register another: it runs next
    d.fn(d.obj);
}

}  // namespace autockpt::threads

extern "C" int __autockpt___cxa_thread_atexit(void (*fn)(void *), void *obj, void *dso) {
  using namespace autockpt::threads;
  uint32_t index = 0;
  if (Thread *t = self()) {
    index = t->index;
  } else if (!on_main_thread()) {
    // A thread the runtime did not start (a library's): it is never in an image.
    return __cxa_thread_atexit_impl(fn, obj, dso);
  }
  std::lock_guard<std::mutex> lock(g_mu);
  ThreadDtors *l = find(index, true);
  auto *d = l ? static_cast<Dtor *>(__autockpt_malloc(sizeof(Dtor))) : nullptr;
  if (!d)
    return -1;
  *d = {fn, obj, l->head};
  l->head = d;
  if (index == 0)
    register_main_runner();
  return 0;
}
