// The stdio functions instrumented code calls (include/autockpt/redirects_files.def): streams the
// program opens are handles in the arena (files_internal.h); every other FILE* call translates a
// handle to its real stream with one compare and two loads, and passes stdin, stdout, stderr and
// streams of uninstrumented code through unchanged.  Each replacement has libc's signature.
#include "autockpt/abi.h"
#include "files_internal.h"

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <string>
#include <sys/types.h>

using autockpt::files::Handle;
using autockpt::files::HandleKind;
using autockpt::files::as_handle;
using autockpt::files::mirror;

// glibc entry points the headers declare only under _FORTIFY_SOURCE or for the C99 scanf.
extern "C" {
int __fprintf_chk(FILE *, int, const char *, ...);
int __vfprintf_chk(FILE *, int, const char *, va_list);
size_t __fread_chk(void *, size_t, size_t, size_t, FILE *);
size_t __fread_unlocked_chk(void *, size_t, size_t, size_t, FILE *);
char *__fgets_chk(char *, size_t, int, FILE *);
char *__fgets_unlocked_chk(char *, size_t, int, FILE *);
int __isoc99_vfscanf(FILE *, const char *, va_list);
ssize_t __autockpt_getdelim(char **, size_t *, int, FILE *);  // libc_heap.cpp
}

namespace {

// Runs op on the real stream; for a handle, mirrors the EOF/error bits back into it.
template <class Op>
inline auto on(FILE *f, Op op) {
  Handle *h = as_handle(f);
  if (!h)
    return op(f);
  auto r = op(h->real);
  mirror(h);
  return r;
}

// The same for a call that sets the EOF/error bits only when it fails (its result says so) and
// never clears them: the loop path of reads and writes pays no mirror.
template <class Op, class Failed>
inline auto io(FILE *f, Op op, Failed failed) {
  Handle *h = as_handle(f);
  if (!h)
    return op(f);
  auto r = op(h->real);
  if (__builtin_expect(failed(r), 0))
    mirror(h);
  return r;
}

constexpr auto kEof = [](int r) { return r == EOF; };
constexpr auto kNull = [](const char *r) { return r == nullptr; };
constexpr auto kNegative = [](auto r) { return r < 0; };

FILE *make(FILE *real, HandleKind kind, const std::string &what) {
  if (!real)
    return nullptr;
  FILE *h = autockpt::files::adopt(real, kind, what);
  if (!h) {
    int e = errno;
    kind == HandleKind::Pipe ? pclose(real) : fclose(real);
    errno = e;
  }
  return h;
}

int close_handle(Handle *h, bool pipe) {
  int fd = fileno(h->real);
  if (h->kind == HandleKind::File && fd >= 0)
    autockpt::files::fd_closing(fd);
  autockpt::files::forget(h);
  int r = pipe || h->kind == HandleKind::Pipe ? pclose(h->real) : fclose(h->real);
  h->magic = 0;
  h->real = nullptr;
  __autockpt_free(h->what);
  __autockpt_free(h);
  return r;
}

}  // namespace

extern "C" {

// ---- Opening and closing ---------------------------------------------------------------------

FILE *__autockpt_fopen(const char *path, const char *mode) {
  return make(fopen(path, mode), HandleKind::File, path);
}

FILE *__autockpt_fopen64(const char *path, const char *mode) {
  return make(fopen64(path, mode), HandleKind::File, path);
}

FILE *__autockpt_fdopen(int fd, const char *mode) {
  return make(fdopen(fd, mode), HandleKind::File, "fd " + std::to_string(fd));
}

static FILE *reopen(const char *path, const char *mode, FILE *f, bool large) {
  Handle *h = as_handle(f);
  FILE *target = h ? h->real : f;
  int old = fileno(target);
  if (old >= 0 && (h || path))
    autockpt::files::fd_closing(old);
  FILE *r = large ? freopen64(path, mode, target) : freopen(path, mode, target);
  if (!h) {
    // stdin, stdout or stderr pointed at a file: its descriptor is the program's now.
    if (r && path)
      autockpt::files::fd_opened(fileno(r), autockpt::files::Owner::Open);
    return r;
  }
  if (!r) {  // libc has closed the stream
    autockpt::files::forget(h);
    h->real = nullptr;
    return nullptr;
  }
  h->real = r;
  h->shape._fileno = fileno(r);
  if (path)
    autockpt::files::set_what(h, path);
  autockpt::files::fd_opened(fileno(r), autockpt::files::Owner::Stream);
  mirror(h);
  return f;
}

FILE *__autockpt_freopen(const char *path, const char *mode, FILE *f) {
  return reopen(path, mode, f, false);
}

FILE *__autockpt_freopen64(const char *path, const char *mode, FILE *f) {
  return reopen(path, mode, f, true);
}

int __autockpt_fclose(FILE *f) {
  Handle *h = as_handle(f);
  return h ? close_handle(h, false) : fclose(f);
}

int __autockpt_fcloseall(void) {
  for (Handle *h : autockpt::files::open_handles())
    close_handle(h, false);
  return fcloseall();
}

FILE *__autockpt_popen(const char *command, const char *mode) {
  return make(popen(command, mode), HandleKind::Pipe, std::string("popen(\"") + command + "\")");
}

int __autockpt_pclose(FILE *f) {
  Handle *h = as_handle(f);
  return h ? close_handle(h, true) : pclose(f);
}

FILE *__autockpt_tmpfile(void) { return make(tmpfile(), HandleKind::Opaque, "tmpfile()"); }
FILE *__autockpt_tmpfile64(void) { return make(tmpfile64(), HandleKind::Opaque, "tmpfile()"); }

FILE *__autockpt_fmemopen(void *buf, size_t size, const char *mode) {
  return make(fmemopen(buf, size, mode), HandleKind::Opaque, "fmemopen()");
}

FILE *__autockpt_open_memstream(char **ptr, size_t *size) {
  return make(open_memstream(ptr, size), HandleKind::Opaque, "open_memstream()");
}

// ---- Buffering -------------------------------------------------------------------------------

int __autockpt_fflush(FILE *f) { return f ? on(f, [](FILE *r) { return fflush(r); }) : fflush(f); }
int __autockpt_fflush_unlocked(FILE *f) {
  return f ? on(f, [](FILE *r) { return fflush_unlocked(r); }) : fflush_unlocked(f);
}

int __autockpt_setvbuf(FILE *f, char *buf, int mode, size_t size) {
  Handle *h = as_handle(f);
  if (!h)
    return setvbuf(f, buf, mode, size);
  int r = setvbuf(h->real, buf, mode, size);
  if (r == 0) {  // re-applied to the stream a restart makes
    h->vbuf_mode = mode;
    h->vbuf = buf;
    h->vbuf_size = size;
  }
  return r;
}

void __autockpt_setbuf(FILE *f, char *buf) {
  __autockpt_setvbuf(f, buf, buf ? _IOFBF : _IONBF, BUFSIZ);
}
void __autockpt_setbuffer(FILE *f, char *buf, size_t size) {
  __autockpt_setvbuf(f, buf, buf ? _IOFBF : _IONBF, size);
}
void __autockpt_setlinebuf(FILE *f) { __autockpt_setvbuf(f, nullptr, _IOLBF, 0); }

// ---- Reading ---------------------------------------------------------------------------------

size_t __autockpt_fread(void *p, size_t size, size_t n, FILE *f) {
  return io(f, [&](FILE *r) { return fread(p, size, n, r); }, [&](size_t r) { return r < n; });
}
size_t __autockpt_fread_unlocked(void *p, size_t size, size_t n, FILE *f) {
  return io(f, [&](FILE *r) { return fread_unlocked(p, size, n, r); },
            [&](size_t r) { return r < n; });
}
char *__autockpt_fgets(char *s, int n, FILE *f) {
  return io(f, [&](FILE *r) { return fgets(s, n, r); }, kNull);
}
char *__autockpt_fgets_unlocked(char *s, int n, FILE *f) {
  return io(f, [&](FILE *r) { return fgets_unlocked(s, n, r); }, kNull);
}
int __autockpt_fgetc(FILE *f) { return io(f, [](FILE *r) { return fgetc(r); }, kEof); }
int __autockpt_fgetc_unlocked(FILE *f) {
  return io(f, [](FILE *r) { return fgetc_unlocked(r); }, kEof);
}
int __autockpt_getc(FILE *f) { return io(f, [](FILE *r) { return getc(r); }, kEof); }
int __autockpt_getc_unlocked(FILE *f) {
  return io(f, [](FILE *r) { return getc_unlocked(r); }, kEof);
}
int __autockpt_ungetc(int c, FILE *f) { return on(f, [&](FILE *r) { return ungetc(c, r); }); }

// The out-of-line half of glibc's inline getc_unlocked: a handle's buffer is always empty.
int __autockpt___uflow(FILE *f) {
  return io(f, [&](FILE *r) { return r == f ? __uflow(r) : getc_unlocked(r); }, kEof);
}

ssize_t __autockpt___getdelim(char **line, size_t *n, int delim, FILE *f) {
  return io(f, [&](FILE *r) { return __autockpt_getdelim(line, n, delim, r); }, kNegative);
}

int __autockpt_vfscanf(FILE *f, const char *fmt, va_list ap) {
  return on(f, [&](FILE *r) { return vfscanf(r, fmt, ap); });
}
int __autockpt_fscanf(FILE *f, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int r = __autockpt_vfscanf(f, fmt, ap);
  va_end(ap);
  return r;
}
int __autockpt___isoc99_vfscanf(FILE *f, const char *fmt, va_list ap) {
  return on(f, [&](FILE *r) { return __isoc99_vfscanf(r, fmt, ap); });
}
int __autockpt___isoc99_fscanf(FILE *f, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int r = __autockpt___isoc99_vfscanf(f, fmt, ap);
  va_end(ap);
  return r;
}

// ---- Writing ---------------------------------------------------------------------------------

size_t __autockpt_fwrite(const void *p, size_t size, size_t n, FILE *f) {
  return io(f, [&](FILE *r) { return fwrite(p, size, n, r); }, [&](size_t r) { return r < n; });
}
size_t __autockpt_fwrite_unlocked(const void *p, size_t size, size_t n, FILE *f) {
  return io(f, [&](FILE *r) { return fwrite_unlocked(p, size, n, r); },
            [&](size_t r) { return r < n; });
}
int __autockpt_fputs(const char *s, FILE *f) {
  return io(f, [&](FILE *r) { return fputs(s, r); }, kEof);
}
int __autockpt_fputs_unlocked(const char *s, FILE *f) {
  return io(f, [&](FILE *r) { return fputs_unlocked(s, r); }, kEof);
}
int __autockpt_fputc(int c, FILE *f) { return io(f, [&](FILE *r) { return fputc(c, r); }, kEof); }
int __autockpt_fputc_unlocked(int c, FILE *f) {
  return io(f, [&](FILE *r) { return fputc_unlocked(c, r); }, kEof);
}
int __autockpt_putc(int c, FILE *f) { return io(f, [&](FILE *r) { return putc(c, r); }, kEof); }
int __autockpt_putc_unlocked(int c, FILE *f) {
  return io(f, [&](FILE *r) { return putc_unlocked(c, r); }, kEof);
}

// The out-of-line half of glibc's inline putc_unlocked.
int __autockpt___overflow(FILE *f, int c) {
  return io(
      f,
      [&](FILE *r) {
        if (r == f)
          return __overflow(r, c);
        return c == EOF ? (fflush_unlocked(r) == 0 ? 0 : EOF) : putc_unlocked(c, r);
      },
      kEof);
}

int __autockpt_vfprintf(FILE *f, const char *fmt, va_list ap) {
  return io(f, [&](FILE *r) { return vfprintf(r, fmt, ap); }, kNegative);
}
int __autockpt_fprintf(FILE *f, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int r = __autockpt_vfprintf(f, fmt, ap);
  va_end(ap);
  return r;
}

// ---- Position --------------------------------------------------------------------------------

int __autockpt_fseek(FILE *f, long off, int whence) {
  return on(f, [&](FILE *r) { return fseek(r, off, whence); });
}
int __autockpt_fseeko(FILE *f, off_t off, int whence) {
  return on(f, [&](FILE *r) { return fseeko(r, off, whence); });
}
int __autockpt_fseeko64(FILE *f, off64_t off, int whence) {
  return on(f, [&](FILE *r) { return fseeko64(r, off, whence); });
}
long __autockpt_ftell(FILE *f) { return on(f, [](FILE *r) { return ftell(r); }); }
off_t __autockpt_ftello(FILE *f) { return on(f, [](FILE *r) { return ftello(r); }); }
off64_t __autockpt_ftello64(FILE *f) { return on(f, [](FILE *r) { return ftello64(r); }); }
void __autockpt_rewind(FILE *f) {
  on(f, [](FILE *r) {
    rewind(r);
    return 0;
  });
}
int __autockpt_fgetpos(FILE *f, fpos_t *pos) {
  return on(f, [&](FILE *r) { return fgetpos(r, pos); });
}
int __autockpt_fgetpos64(FILE *f, fpos64_t *pos) {
  return on(f, [&](FILE *r) { return fgetpos64(r, pos); });
}
int __autockpt_fsetpos(FILE *f, const fpos_t *pos) {
  return on(f, [&](FILE *r) { return fsetpos(r, pos); });
}
int __autockpt_fsetpos64(FILE *f, const fpos64_t *pos) {
  return on(f, [&](FILE *r) { return fsetpos64(r, pos); });
}

// ---- State and locking -----------------------------------------------------------------------

int __autockpt_feof(FILE *f) { return on(f, [](FILE *r) { return feof(r); }); }
int __autockpt_feof_unlocked(FILE *f) { return on(f, [](FILE *r) { return feof_unlocked(r); }); }
int __autockpt_ferror(FILE *f) { return on(f, [](FILE *r) { return ferror(r); }); }
int __autockpt_ferror_unlocked(FILE *f) {
  return on(f, [](FILE *r) { return ferror_unlocked(r); });
}
void __autockpt_clearerr(FILE *f) {
  on(f, [](FILE *r) {
    clearerr(r);
    return 0;
  });
}
void __autockpt_clearerr_unlocked(FILE *f) {
  on(f, [](FILE *r) {
    clearerr_unlocked(r);
    return 0;
  });
}
int __autockpt_fileno(FILE *f) { return on(f, [](FILE *r) { return fileno(r); }); }
int __autockpt_fileno_unlocked(FILE *f) {
  return on(f, [](FILE *r) { return fileno_unlocked(r); });
}
void __autockpt_flockfile(FILE *f) {
  Handle *h = as_handle(f);
  flockfile(h ? h->real : f);
}
void __autockpt_funlockfile(FILE *f) {
  Handle *h = as_handle(f);
  funlockfile(h ? h->real : f);
}
int __autockpt_ftrylockfile(FILE *f) {
  Handle *h = as_handle(f);
  return ftrylockfile(h ? h->real : f);
}

// ---- _FORTIFY_SOURCE spellings ---------------------------------------------------------------

int __autockpt___vfprintf_chk(FILE *f, int flag, const char *fmt, va_list ap) {
  return io(f, [&](FILE *r) { return __vfprintf_chk(r, flag, fmt, ap); }, kNegative);
}
int __autockpt___fprintf_chk(FILE *f, int flag, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int r = __autockpt___vfprintf_chk(f, flag, fmt, ap);
  va_end(ap);
  return r;
}
size_t __autockpt___fread_chk(void *p, size_t len, size_t size, size_t n, FILE *f) {
  return on(f, [&](FILE *r) { return __fread_chk(p, len, size, n, r); });
}
size_t __autockpt___fread_unlocked_chk(void *p, size_t len, size_t size, size_t n, FILE *f) {
  return on(f, [&](FILE *r) { return __fread_unlocked_chk(p, len, size, n, r); });
}
char *__autockpt___fgets_chk(char *s, size_t len, int n, FILE *f) {
  return on(f, [&](FILE *r) { return __fgets_chk(s, len, n, r); });
}
char *__autockpt___fgets_unlocked_chk(char *s, size_t len, int n, FILE *f) {
  return on(f, [&](FILE *r) { return __fgets_unlocked_chk(s, len, n, r); });
}

}  // extern "C"
