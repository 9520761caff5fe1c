// The program's `environ`, kept in the arena across restarts (docs/design.md R6): every run points
// environ at its own environment, while the strings it hands out stay valid and the saved heap
// does not grow by a copy of the environment at every restart.  argv and main's envp are
// control.cpp's.
#include "arena.h"

#include <cstring>

namespace autockpt::environment {

namespace {

// In the arena, found through arena::root(kEnviron): every distinct "NAME=value" string any run
// of this lineage has had, and the array environ pointed at last.
struct Saved {
  char **array;      // the last run's environ (null-terminated)
  char **pool;       // every string handed out so far; never freed (pointers may be kept)
  size_t pool_n, pool_cap;
};

char *find_or_add(Saved *s, const char *entry) {
  for (size_t k = 0; k < s->pool_n; ++k)
    if (strcmp(s->pool[k], entry) == 0)
      return s->pool[k];
  if (s->pool_n == s->pool_cap) {
    size_t cap = s->pool_cap ? 2 * s->pool_cap : 64;
    s->pool = static_cast<char **>(arena::realloc(s->pool, cap * sizeof(char *)));
    s->pool_cap = cap;
  }
  size_t len = strlen(entry) + 1;
  auto *copy = static_cast<char *>(arena::malloc(len));
  memcpy(copy, entry, len);
  return s->pool[s->pool_n++] = copy;
}

}  // namespace

// Returns an arena copy of `current` (this process's environment, internal AUTOCKPT__ variables
// left out) for environ.  A string identical to one an earlier run of the lineage had is that
// same block; only strings never seen before are allocated, and the previous array is reused
// when its size fits.  So a restart in the same environment allocates nothing, and one whose
// job environment differs (mpirun) adds only its new strings.  What the saved image held for
// environ is never put back: the new process runs with its own environment.
char **arena_environment(char **current) {
  auto **root = reinterpret_cast<Saved **>(arena::root(arena::kEnviron));
  if (!*root)
    *root = static_cast<Saved *>(arena::calloc(1, sizeof(Saved)));
  Saved *s = *root;
  size_t n = 0;
  while (current && current[n])
    ++n;
  if (s->array && arena::usable_size(s->array) >= (n + 1) * sizeof(char *)) {
    // reused in place: an array of the same size is the same block
  } else {
    if (s->array)
      arena::free(s->array);
    s->array = static_cast<char **>(arena::malloc((n + 1) * sizeof(char *)));
  }
  size_t k = 0;
  for (size_t i = 0; i < n; ++i)
    if (strncmp(current[i], "AUTOCKPT__", 10) != 0)
      s->array[k++] = find_or_add(s, current[i]);
  s->array[k] = nullptr;
  return s->array;
}

}  // namespace autockpt::environment
