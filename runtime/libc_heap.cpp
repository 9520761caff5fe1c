// libc functions that hand the caller heap memory (getline, asprintf, realpath): the program
// frees or keeps that memory, so it must come from the arena to be saved (DESIGN D4).
#include "autockpt/abi.h"
#include "files.h"

#include <cerrno>
#include <climits>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

// Copies a libc-allocated result of `len` bytes (+ NUL) into the caller's arena buffer.
ssize_t into_arena(char **line, size_t *n, const char *src, ssize_t len) {
  if (!*line || *n < size_t(len) + 1) {
    size_t want = size_t(len) + 1 < 128 ? 128 : size_t(len) + 1;
    auto *q = static_cast<char *>(__autockpt_realloc(*line, want));
    if (!q) {
      errno = ENOMEM;
      return -1;
    }
    *line = q;
    *n = want;
  }
  memcpy(*line, src, size_t(len) + 1);
  return len;
}

thread_local char *t_buf;  // libc's own buffer, reused across calls
thread_local size_t t_cap;

}  // namespace

extern "C" {

ssize_t __autockpt_getdelim(char **line, size_t *n, int delim, FILE *f) {
  if (!line || !n) {
    errno = EINVAL;
    return -1;
  }
  ssize_t len = getdelim(&t_buf, &t_cap, delim, autockpt::files::real(f));
  return len < 0 ? len : into_arena(line, n, t_buf, len);
}

ssize_t __autockpt_getline(char **line, size_t *n, FILE *f) {
  return __autockpt_getdelim(line, n, '\n', f);
}

int __autockpt_vasprintf(char **out, const char *fmt, va_list ap) {
  char *tmp = nullptr;
  int len = vasprintf(&tmp, fmt, ap);
  if (len < 0)
    return len;
  auto *copy = static_cast<char *>(__autockpt_malloc(size_t(len) + 1));
  if (copy)
    memcpy(copy, tmp, size_t(len) + 1);
  free(tmp);
  if (!copy)
    return -1;
  *out = copy;
  return len;
}

int __autockpt_asprintf(char **out, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int len = __autockpt_vasprintf(out, fmt, ap);
  va_end(ap);
  return len;
}

char *__autockpt_realpath(const char *path, char *resolved) {
  if (resolved)
    return realpath(path, resolved);
  char buf[PATH_MAX];
  if (!realpath(path, buf))
    return nullptr;
  return __autockpt_strdup(buf);
}

}  // extern "C"
