// pthread keys of instrumented code (docs/design.md H11).  glibc keeps which keys are in use in
// its own memory and each thread's values in its thread descriptor: after a restart a key the
// program holds is unknown to glibc (pthread_setspecific fails with EINVAL) and every value is
// lost.  So the keys that instrumented code creates are the runtime's: a table in the arena
// (in use, destructor) and, per thread, its values, also in the arena under the thread's creation
// index (0 for main).  The thread's own array is cached in a thread-local of the runtime, so
// pthread_getspecific is a load and a compare.  A thread's destructors run when it ends, as
// glibc's would (after its thread_local destructors, up to PTHREAD_DESTRUCTOR_ITERATIONS
// rounds).  A thread the runtime did not start (a library's) keeps its values in memory of its
// own, never saved.
#include "arena.h"
#include "autockpt/abi.h"
#include "threads/threads.h"

#include <cerrno>
#include <climits>
#include <cstring>
#include <mutex>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace autockpt::threads {
namespace {

constexpr uint32_t kMaxKeys = PTHREAD_KEYS_MAX;  // 1024, as glibc

struct Key {
  uint32_t used;
  uint32_t generation;  // a deleted key's values are stale: they read as null
  void (*dtor)(void *);
};

struct Value {
  void *value;
  uint32_t generation;
};

struct Keys {  // arena root kKeys
  Key keys[kMaxKeys];
};

struct ThreadValues {  // one thread's values, in the arena
  uint32_t index;
  ThreadValues *next;
  Value values[kMaxKeys];
};

std::mutex g_mu;  // creation and deletion of keys, the list of threads' values
thread_local ThreadValues *t_values;  // the calling thread's (not saved: found again by index)

Keys *keys() {
  void **root = arena::root(arena::kKeys);
  if (!*root)
    *root = __autockpt_calloc(1, sizeof(Keys));
  return static_cast<Keys *>(*root);
}

ThreadValues **lists() { return reinterpret_cast<ThreadValues **>(arena::root(arena::kKeyValues)); }

bool on_main_thread() { return syscall(SYS_gettid) == getpid(); }

// The calling thread's values, made if need be; null if memory ran out.
ThreadValues *mine() {
  if (t_values)
    return t_values;
  uint32_t index = 0;
  bool saved = true;
  if (Thread *t = self())
    index = t->index;
  else if (!on_main_thread())
    saved = false;
  if (!saved) {  // a library's thread: never in an image
    t_values = static_cast<ThreadValues *>(calloc(1, sizeof(ThreadValues)));
    return t_values;
  }
  std::lock_guard<std::mutex> lock(g_mu);
  for (ThreadValues *v = *lists(); v; v = v->next)
    if (v->index == index)
      return t_values = v;
  auto *v = static_cast<ThreadValues *>(__autockpt_calloc(1, sizeof(ThreadValues)));
  if (!v)
    return nullptr;
  v->index = index;
  v->next = *lists();
  *lists() = v;
  return t_values = v;
}

// Keys are 1..kMaxKeys - 1 (0 is never handed out: code that tests a key for 0 stays right).
bool valid(pthread_key_t key) { return key > 0 && key < kMaxKeys && keys()->keys[key].used; }

}  // namespace

void run_key_dtors(uint32_t index) {
  ThreadValues *v = t_values;
  if (!v) {
    // A restarted thread that ends before it touches a key again has not looked its values up:
    // they are in the list all the same (keys.test: a worker restored after its last round
    // returned at once, and its value's destructor never ran).
    std::lock_guard<std::mutex> lock(g_mu);
    for (v = *lists(); v && v->index != index; v = v->next) {
    }
    t_values = v;
  }
  if (!v || v->index != index)
    return;
  for (int round = 0; round < PTHREAD_DESTRUCTOR_ITERATIONS; ++round) {
    bool any = false;
    for (uint32_t k = 1; k < kMaxKeys; ++k) {
      Key &key = keys()->keys[k];
      Value &val = v->values[k];
      if (!val.value || !key.used || val.generation != key.generation || !key.dtor)
        continue;
      void *p = val.value;
      val.value = nullptr;
      key.dtor(p);
      any = true;
    }
    if (!any)
      break;
  }
  std::lock_guard<std::mutex> lock(g_mu);
  for (ThreadValues **at = lists(); *at; at = &(*at)->next)
    if (*at == v) {
      *at = v->next;
      __autockpt_free(v);
      break;
    }
  t_values = nullptr;
}

}  // namespace autockpt::threads

using namespace autockpt::threads;

extern "C" {

int __autockpt_pthread_key_create(pthread_key_t *out, void (*dtor)(void *)) {
  std::lock_guard<std::mutex> lock(g_mu);
  Keys *k = keys();
  if (!k)
    return ENOMEM;
  for (uint32_t i = 1; i < kMaxKeys; ++i)
    if (!k->keys[i].used) {
      k->keys[i].used = 1;
      ++k->keys[i].generation;
      k->keys[i].dtor = dtor;
      *out = i;
      return 0;
    }
  return EAGAIN;
}

int __autockpt_pthread_key_delete(pthread_key_t key) {
  std::lock_guard<std::mutex> lock(g_mu);
  if (!valid(key))
    return EINVAL;
  keys()->keys[key].used = 0;
  return 0;
}

int __autockpt_pthread_setspecific(pthread_key_t key, const void *value) {
  if (!valid(key))
    return EINVAL;
  ThreadValues *v = mine();
  if (!v)
    return ENOMEM;
  v->values[key] = {const_cast<void *>(value), keys()->keys[key].generation};
  return 0;
}

void *__autockpt_pthread_getspecific(pthread_key_t key) {
  if (key == 0 || key >= kMaxKeys)
    return nullptr;
  ThreadValues *v = mine();
  if (!v)
    return nullptr;
  const Value &val = v->values[key];
  return val.generation == keys()->keys[key].generation ? val.value : nullptr;
}

}  // extern "C"
