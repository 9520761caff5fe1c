// The descriptor calls instrumented code makes (include/autockpt/redirects_files.def): each one
// that creates, duplicates or closes a descriptor tells the files layer, which records the
// descriptor at a checkpoint and gives it back its number at a restart.  Reads, writes and seeks
// need no wrapper, because the numbers do not change.  Each replacement has libc's signature.
#include "files_internal.h"

#include <cstdarg>
#include <cstdlib>
#include <fcntl.h>
#include <unistd.h>

extern "C" {
int __open_2(const char *, int);
int __open64_2(const char *, int);
int __openat_2(int, const char *, int);
int __openat64_2(int, const char *, int);
}

namespace {

using autockpt::files::fd_opened;

inline bool wants_mode(int flags) {
  return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
}

inline int opened(int fd) {
  if (fd >= 0)
    fd_opened(fd);
  return fd;
}

}  // namespace

extern "C" {

int __autockpt_open(const char *path, int flags, ...) {
  int mode = 0;
  if (wants_mode(flags)) {
    va_list ap;
    va_start(ap, flags);
    mode = va_arg(ap, int);
    va_end(ap);
  }
  return opened(open(path, flags, mode));
}

int __autockpt_open64(const char *path, int flags, ...) {
  int mode = 0;
  if (wants_mode(flags)) {
    va_list ap;
    va_start(ap, flags);
    mode = va_arg(ap, int);
    va_end(ap);
  }
  return opened(open64(path, flags, mode));
}

int __autockpt_openat(int dir, const char *path, int flags, ...) {
  int mode = 0;
  if (wants_mode(flags)) {
    va_list ap;
    va_start(ap, flags);
    mode = va_arg(ap, int);
    va_end(ap);
  }
  return opened(openat(dir, path, flags, mode));
}

int __autockpt_openat64(int dir, const char *path, int flags, ...) {
  int mode = 0;
  if (wants_mode(flags)) {
    va_list ap;
    va_start(ap, flags);
    mode = va_arg(ap, int);
    va_end(ap);
  }
  return opened(openat64(dir, path, flags, mode));
}

int __autockpt_creat(const char *path, mode_t mode) { return opened(creat(path, mode)); }
int __autockpt_creat64(const char *path, mode_t mode) { return opened(creat64(path, mode)); }
int __autockpt___open_2(const char *path, int flags) { return opened(__open_2(path, flags)); }
int __autockpt___open64_2(const char *path, int flags) { return opened(__open64_2(path, flags)); }
int __autockpt___openat_2(int dir, const char *path, int flags) {
  return opened(__openat_2(dir, path, flags));
}
int __autockpt___openat64_2(int dir, const char *path, int flags) {
  return opened(__openat64_2(dir, path, flags));
}

int __autockpt_mkstemp(char *tmpl) { return opened(mkstemp(tmpl)); }
int __autockpt_mkstemp64(char *tmpl) { return opened(mkstemp64(tmpl)); }
int __autockpt_mkostemp(char *tmpl, int flags) { return opened(mkostemp(tmpl, flags)); }
int __autockpt_mkostemp64(char *tmpl, int flags) { return opened(mkostemp64(tmpl, flags)); }

int __autockpt_close(int fd) {
  autockpt::files::fd_closing(fd);
  return close(fd);
}

int __autockpt_dup(int fd) {
  int r = dup(fd);
  autockpt::files::fd_duplicated(fd, r);
  return r;
}

int __autockpt_dup2(int fd, int to) {
  int r = dup2(fd, to);
  if (r >= 0)
    autockpt::files::fd_duplicated(fd, r);
  return r;
}

int __autockpt_dup3(int fd, int to, int flags) {
  int r = dup3(fd, to, flags);
  if (r >= 0)
    autockpt::files::fd_duplicated(fd, r);
  return r;
}

}  // extern "C"
