// C++ file streams across a restart.  A std::filebuf lives in the program's memory (saved), but
// what it points to lives in libstdc++'s: the FILE* libstdc++ opened and the buffer it allocated.
// Every instrumented call that can leave a filebuf open registers it (the wrappers below; the
// pass redirects them by their mangled names).  A checkpoint records the descriptor, its offset
// and the buffer's bytes without touching the object; a restart re-opens the descriptor at the
// same number and gives the object a new FILE* and a copy of its buffer at a new address.  An
// object in the heap or a global is patched in place; one in a stack frame is patched in the
// frame's saved copy (found by its bytes at the checkpoint), which re-entering the frame then
// copies to the stack.  Only char streams without a converting locale are handled; others make
// the restart stop with a message.
#include "files_internal.h"
#include "frames.h"
#include "log.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <fcntl.h>
#include <fstream>
#include <locale>
#include <new>
#include <string>
#include <unistd.h>
#include <utility>

extern "C" void *_ZTVSt13basic_filebufIcSt11char_traitsIcEE[];  // libstdc++'s vtable

namespace autockpt::files {

namespace {

// Pointers to the protected members we read and patch.  libstdc++'s layout is part of its ABI.
struct Access : std::filebuf {
  static constexpr auto file = &Access::_M_file;
  static constexpr auto mode = &Access::_M_mode;
  static constexpr auto buf = &Access::_M_buf;
  static constexpr auto buf_size = &Access::_M_buf_size;
  static constexpr auto buf_allocated = &Access::_M_buf_allocated;
  static constexpr auto pback_cur = &Access::_M_pback_cur_save;
  static constexpr auto pback_end = &Access::_M_pback_end_save;
  static constexpr auto codecvt = &Access::_M_codecvt;
  static constexpr auto ext_buf = &Access::_M_ext_buf;
  static constexpr auto in_beg = &Access::_M_in_beg;
  static constexpr auto in_cur = &Access::_M_in_cur;
  static constexpr auto in_end = &Access::_M_in_end;
  static constexpr auto out_beg = &Access::_M_out_beg;
  static constexpr auto out_cur = &Access::_M_out_cur;
  static constexpr auto out_end = &Access::_M_out_end;
};

// std::__basic_file<char>: the FILE* and whether libstdc++ closes it (it does: we fdopen'd it).
struct CFile {
  FILE *file;
  bool created;
};
static_assert(sizeof(std::__basic_file<char>) == sizeof(CFile), "libstdc++'s __basic_file changed");

std::filebuf **g_bufs;  // registered filebufs (under g_mutex)
size_t g_nbufs, g_cap;

// What the vtable pointer of a live std::filebuf is: past the offset-to-top and typeinfo words.
const void *filebuf_vptr() { return &_ZTVSt13basic_filebufIcSt11char_traitsIcEE[2]; }

bool looks_open(std::filebuf *fb) {
  return *reinterpret_cast<const void *const *>(fb) == filebuf_vptr() && fb->is_open();
}

int fd_of(std::filebuf *fb) {
  FILE *f = (fb->*Access::file).file();
  return f ? fileno(f) : -1;
}

void add(std::filebuf *fb) {  // caller holds g_mutex
  for (size_t k = 0; k < g_nbufs; ++k)
    if (g_bufs[k] == fb)
      return;
  if (g_nbufs == g_cap) {
    size_t n = 2 * g_cap + 8;
    auto *p = static_cast<std::filebuf **>(realloc(g_bufs, sizeof(std::filebuf *) * n));
    if (!p)
      fatal("out of memory for the table of C++ file streams");
    g_bufs = p;
    g_cap = n;
  }
  g_bufs[g_nbufs++] = fb;
}

void opened(std::filebuf *fb) {
  if (!fb->is_open())
    return;
  if (!in_saved_memory(fb)) {
    log(2, "a std::filebuf at %p is outside the memory a checkpoint saves; not tracked",
        static_cast<void *>(fb));
    return;
  }
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    add(fb);
  }
  fd_opened(fd_of(fb), Owner::Filebuf);
}

inline void rebase(char *&p, const char *old, uint64_t size, char *now) {
  auto a = reinterpret_cast<uintptr_t>(p), o = reinterpret_cast<uintptr_t>(old);
  if (p && a >= o && a <= o + size)
    p = now + (a - o);
}

}  // namespace

void save_filebufs(std::vector<FileState> *out) {  // caller holds g_mutex
  size_t kept = 0;
  for (size_t k = 0; k < g_nbufs; ++k) {
    std::filebuf *fb = g_bufs[k];
    if (!looks_open(fb))
      continue;  // closed or destroyed since it was registered
    g_bufs[kept++] = fb;
    FileState s;
    s.kind = RecordKind::Filebuf;
    s.object = reinterpret_cast<uintptr_t>(fb);
    describe_fd(fd_of(fb), &s);
    off_t pos = lseek(s.fd, 0, SEEK_CUR);
    s.offset = pos < 0 ? 0 : uint64_t(pos);
    s.sticky = int32_t(fb->*Access::mode);
    const std::codecvt<char, char, std::mbstate_t> *cv = fb->*Access::codecvt;
    if ((cv && !cv->always_noconv()) || fb->*Access::ext_buf)
      s.problem = "converts characters through an imbued locale, which a restart cannot re-create";
    char *b = fb->*Access::buf;
    if (b && fb->*Access::buf_allocated && !in_saved_memory(b))
      s.buffer.assign(b, fb->*Access::buf_size);
    if (on_program_stack(fb)) {
      // The frame that holds it has saved a copy already; a restart patches that copy.
      const std::vector<char> &frames = frames::main_stack().buffer;  // the main thread's
      const char *obj = reinterpret_cast<const char *>(fb);
      std::boyer_moore_horspool_searcher find(obj, obj + sizeof(std::filebuf));
      auto hit = std::search(frames.begin(), frames.end(), find);
      if (hit == frames.end())
        s.problem = "lives in a stack frame that did not save it";
      else
        s.in_frames = hit - frames.begin();
    }
    out->push_back(std::move(s));
  }
  g_nbufs = kept;
}

void forget_filebufs() {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_nbufs = 0;
}

void restore_filebuf(const FileState &s) {
  reopen_at(s, s.offset);
  const char *mode = (s.oflags & O_ACCMODE) == O_RDONLY ? "r"
                     : (s.oflags & O_ACCMODE) == O_WRONLY ? (s.oflags & O_APPEND ? "a" : "w")
                                                          : (s.oflags & O_APPEND ? "a+" : "r+");
  FILE *f = fdopen(s.fd, mode);
  if (!f)
    fatal("cannot re-open the C++ file stream on %s (fd %d): %s", s.path.c_str(), s.fd,
          strerror(errno));
  // The bytes to patch: the object itself, or its copy in the saved frames.
  char *at = reinterpret_cast<char *>(s.object);
  if (s.in_frames >= 0) {
    const std::vector<char> &frames = frames::main_stack().buffer;  // the main thread's
    if (uint64_t(s.in_frames) + sizeof(std::filebuf) > frames.size())
      fatal("the C++ file stream on %s is not in the checkpoint's frames", s.path.c_str());
    at = const_cast<char *>(frames.data()) + s.in_frames;  // frames' own, not yet re-entered
  } else if (!in_saved_memory(at) || !in_saved_memory(at + sizeof(std::filebuf) - 1)) {
    fatal("the C++ file stream on %s is not in the checkpoint's memory; the image does not match "
          "this program", s.path.c_str());
  }
  alignas(std::filebuf) unsigned char copy[sizeof(std::filebuf)];
  memcpy(copy, at, sizeof copy);
  auto *fb = reinterpret_cast<std::filebuf *>(copy);  // its pointers still mean the real place
  if (*reinterpret_cast<const void *const *>(fb) != filebuf_vptr())
    fatal("the C++ file stream on %s was not restored with the program's memory; the image "
          "does not match this program", s.path.c_str());
  auto &cf = reinterpret_cast<CFile &>(fb->*Access::file);
  cf.file = f;
  cf.created = true;
  if (!s.buffer.empty()) {
    char *old = fb->*Access::buf;
    uint64_t n = s.buffer.size();
    char *now = new char[n];  // libstdc++ delete[]s it when the stream closes
    memcpy(now, s.buffer.data(), n);
    fb->*Access::buf = now;
    for (auto m : {Access::in_beg, Access::in_cur, Access::in_end, Access::out_beg,
                   Access::out_cur, Access::out_end})
      rebase(fb->*m, old, n, now);
    rebase(fb->*Access::pback_cur, old, n, now);
    rebase(fb->*Access::pback_end, old, n, now);
  }
  memcpy(at, copy, sizeof copy);
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    add(reinterpret_cast<std::filebuf *>(s.object));
  }
  fd_opened(s.fd, Owner::Filebuf);
}

}  // namespace autockpt::files

// ---- The redirected members (mangled names as clang-19 emits calls to them) -----------------

namespace {

using autockpt::files::opened;
using Mode = std::ios_base::openmode;

}  // namespace

#define AUTOCKPT_FSTREAM_WRAPPERS(Class, Prefix)                                               \
  void __autockpt_##Prefix##C1EPKcSt13_Ios_Openmode(Class *self, const char *name, Mode m) {  \
    new (self) Class(name, m);                                                                 \
    opened(self->rdbuf());                                                                     \
  }                                                                                            \
  void __autockpt_##Prefix##C1ERKNSt7__cxx1112basic_stringIcS1_SaIcEEESt13_Ios_Openmode(      \
      Class *self, const std::string &name, Mode m) {                                          \
    new (self) Class(name, m);                                                                 \
    opened(self->rdbuf());                                                                     \
  }                                                                                            \
  void __autockpt_##Prefix##C1EOS2_(Class *self, Class *other) {                               \
    new (self) Class(std::move(*other));                                                       \
    opened(self->rdbuf());                                                                     \
  }                                                                                            \
  void __autockpt_##Prefix##4openEPKcSt13_Ios_Openmode(Class *self, const char *name, Mode m) { \
    self->open(name, m);                                                                       \
    opened(self->rdbuf());                                                                     \
  }                                                                                            \
  void __autockpt_##Prefix##4openERKNSt7__cxx1112basic_stringIcS1_SaIcEEESt13_Ios_Openmode(    \
      Class *self, const std::string &name, Mode m) {                                          \
    self->open(name, m);                                                                       \
    opened(self->rdbuf());                                                                     \
  }                                                                                            \
  void __autockpt_##Prefix##4swapERS2_(Class *self, Class *other) {                            \
    self->swap(*other);                                                                        \
    opened(self->rdbuf());                                                                     \
    opened(other->rdbuf());                                                                    \
  }                                                                                            \
  Class *__autockpt_##Prefix##aSEOS2_(Class *self, Class *other) {                             \
    *self = std::move(*other);                                                                 \
    opened(self->rdbuf());                                                                     \
    return self;                                                                               \
  }

extern "C" {

AUTOCKPT_FSTREAM_WRAPPERS(std::ofstream, _ZNSt14basic_ofstreamIcSt11char_traitsIcEE)
AUTOCKPT_FSTREAM_WRAPPERS(std::ifstream, _ZNSt14basic_ifstreamIcSt11char_traitsIcEE)
AUTOCKPT_FSTREAM_WRAPPERS(std::fstream, _ZNSt13basic_fstreamIcSt11char_traitsIcEE)

std::filebuf *__autockpt__ZNSt13basic_filebufIcSt11char_traitsIcEE4openEPKcSt13_Ios_Openmode(
    std::filebuf *self, const char *name, Mode m) {
  std::filebuf *r = self->open(name, m);
  if (r)
    opened(self);
  return r;
}

std::filebuf *
__autockpt__ZNSt13basic_filebufIcSt11char_traitsIcEE4openERKNSt7__cxx1112basic_stringIcS1_SaIcEEESt13_Ios_Openmode(
    std::filebuf *self, const std::string &name, Mode m) {
  std::filebuf *r = self->open(name, m);
  if (r)
    opened(self);
  return r;
}

}  // extern "C"
