// Files across a restart (DESIGN D5): the tables of what the program has open, what a checkpoint
// records about each file, and how a restart re-creates them.  The wrappers that fill the tables
// are in files_stdio.cpp (FILE*), files_fd.cpp (descriptors) and files_fstream.cpp (C++).
#include "files.h"

#include "arena.h"
#include "autockpt/abi.h"
#include "files_internal.h"
#include "log.h"
#include "registry.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <iostream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

#include "image/archive.h"
#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>
#include <boost/serialization/version.hpp>
#include <xxhash.h>

namespace autockpt::files {

// The Files section: every open file of the program at the checkpoint.
struct Section {
  std::vector<FileState> files;
  template <class A>
  void serialize(A &a, unsigned /*version*/) {
    a & files;
  }
};

}  // namespace autockpt::files

BOOST_CLASS_VERSION(autockpt::files::Section, 1)

namespace autockpt::files {

uint64_t g_span;
std::mutex g_mutex;

namespace {

// ---- Tables (runtime memory, plain arrays: usable from static constructors, never destroyed) --

Handle **g_handles;  // open handles; Handle::slot is the index
size_t g_nhandles, g_handles_cap;

struct FdInfo {
  Owner owner;
  bool warned;       // a checkpoint already said this descriptor cannot be re-created
  int32_t shares;    // Owner::Dup: the descriptor whose open file description it shares
  uint64_t synced;   // 1 + the size at the last fdatasync; 0: never
};
FdInfo *g_fds;
int g_nfds;

// Descriptors open before the program's code ran (inherited from whoever started it).
int g_inherited[64];
int g_ninherited;

FdInfo &info(int fd) {  // caller holds g_mutex
  if (fd >= g_nfds) {
    int n = std::max(fd + 1, 2 * g_nfds + 16);
    auto *p = static_cast<FdInfo *>(realloc(g_fds, sizeof(FdInfo) * size_t(n)));
    if (!p)
      fatal("out of memory for the table of open files");
    for (int k = g_nfds; k < n; ++k)
      p[k] = FdInfo{Owner::None, false, -1, 0};
    g_fds = p;
    g_nfds = n;
  }
  return g_fds[fd];
}

void add_handle(Handle *h) {  // caller holds g_mutex
  if (g_nhandles == g_handles_cap) {
    size_t n = 2 * g_handles_cap + 16;
    auto *p = static_cast<Handle **>(realloc(g_handles, sizeof(Handle *) * n));
    if (!p)
      fatal("out of memory for the table of open streams");
    g_handles = p;
    g_handles_cap = n;
  }
  h->slot = int32_t(g_nhandles);
  g_handles[g_nhandles++] = h;
  g_span = arena::reserved_bytes();
}

void fd_forget(int fd) {  // caller holds g_mutex; promotes the descriptors that duplicated fd
  if (fd < 0 || fd >= g_nfds || g_fds[fd].owner == Owner::None)
    return;
  int heir = -1;
  for (int k = 0; k < g_nfds; ++k) {
    if (g_fds[k].owner != Owner::Dup || g_fds[k].shares != fd)
      continue;
    if (heir < 0) {
      heir = k;
      g_fds[k].owner = Owner::Open;
      g_fds[k].shares = -1;
    } else {
      g_fds[k].shares = heir;
    }
  }
  g_fds[fd] = FdInfo{Owner::None, false, -1, 0};
}

__attribute__((constructor)) void note_inherited() {
  DIR *d = opendir("/proc/self/fd");
  if (!d)
    return;
  while (dirent *e = readdir(d)) {
    int fd = atoi(e->d_name);
    if (e->d_name[0] >= '0' && e->d_name[0] <= '9' && fd != dirfd(d) && g_ninherited < 64)
      g_inherited[g_ninherited++] = fd;
  }
  closedir(d);
}

bool inherited(int fd) {
  return std::find(g_inherited, g_inherited + g_ninherited, fd) != g_inherited + g_ninherited;
}

std::string fd_path(int fd) {
  char link[32], buf[PATH_MAX];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, buf, sizeof buf);
  return n > 0 ? std::string(buf, size_t(n)) : std::string();
}

// ---- Checks of input files -----------------------------------------------------------------

constexpr uint64_t kSampleBytes = 64 << 10;

bool pread_all(int fd, char *dst, uint64_t len, uint64_t at) {
  while (len) {
    ssize_t n = pread(fd, dst, len, off_t(at));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    dst += n;
    len -= uint64_t(n);
    at += uint64_t(n);
  }
  return true;
}

// XXH3 of the first and last 64 KiB (of the whole file when it is at most 128 KiB).
bool sample_fd(int fd, uint64_t size, uint64_t *out) {
  std::string buf(std::min(size, 2 * kSampleBytes), '\0');
  bool ok = size <= 2 * kSampleBytes
                ? pread_all(fd, buf.data(), size, 0)
                : pread_all(fd, buf.data(), kSampleBytes, 0) &&
                      pread_all(fd, buf.data() + kSampleBytes, kSampleBytes, size - kSampleBytes);
  if (ok)
    *out = XXH3_64bits(buf.data(), buf.size());
  return ok;
}

// Samples are cached by (dev, ino, size, mtime): an input file is sampled once, not at every
// checkpoint.
struct Sample {
  uint64_t dev, ino, size;
  int64_t mtime_ns;
  uint64_t value;
};
Sample g_samples[32];
unsigned g_next_sample;

uint64_t sample_of(int fd, const FileState &s) {
  for (const Sample &c : g_samples)
    if (c.dev == s.dev && c.ino == s.ino && c.size == s.size && c.mtime_ns == s.mtime_ns &&
        (c.dev | c.ino))
      return c.value;
  uint64_t v = 0;
  if (!sample_fd(fd, s.size, &v))
    return 0;
  g_samples[g_next_sample++ % 32] = {s.dev, s.ino, s.size, s.mtime_ns, v};
  return v;
}

int64_t mtime_ns(const struct stat &st) {
  return int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

std::string show_time(int64_t ns) {
  time_t t = time_t(ns / 1000000000);
  struct tm tm;
  char buf[64];
  localtime_r(&t, &tm);
  strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  snprintf(buf + strlen(buf), sizeof buf - strlen(buf), ".%09lld", (long long)(ns % 1000000000));
  return buf;
}

const char *std_name(int fd) {
  return fd == 0 ? "stdin" : fd == 1 ? "stdout" : fd == 2 ? "stderr" : "a standard stream";
}

// How a message names a file: "the output file /a/b (fd 3)".
std::string name_of(const FileState &s) {
  if (s.kind == RecordKind::Stream && s.type == 0)  // popen, tmpfile, fmemopen, ...
    return "the stream from " + s.opened_as + (s.fd >= 0 ? " (fd " + std::to_string(s.fd) + ")"
                                                          : std::string());
  std::string what = s.kind == RecordKind::Filebuf ? "the C++ file stream on "
                     : s.type != S_IFREG            ? "the file "
                     : s.writable()                 ? "the output file "
                                                    : "the input file ";
  std::string path = s.path.empty() ? s.opened_as : s.path;
  return what + path + " (fd " + std::to_string(s.fd) + ")";
}

const char *fdopen_mode(int oflags) {
  switch (oflags & O_ACCMODE) {
    case O_RDONLY: return "r";
    case O_WRONLY: return oflags & O_APPEND ? "a" : "w";
    default: return oflags & O_APPEND ? "a+" : "r+";
  }
}

// ---- Restart steps -------------------------------------------------------------------------

// Why a record read from an image cannot be what a checkpoint wrote, or "": descriptors are
// used as numbers and paths only to re-open and truncate (docs/design.md R18).
std::string malformed(const FileState &s) {
  constexpr int32_t kMaxFd = 1 << 20;  // the largest RLIMIT_NOFILE Linux allows
  if (s.fd < 0 || s.fd >= kMaxFd)
    return "is recorded with descriptor " + std::to_string(s.fd);
  if (s.kind == RecordKind::Dup && (s.shares < 0 || s.shares >= kMaxFd || s.shares == s.fd))
    return "is recorded as a duplicate of descriptor " + std::to_string(s.shares);
  if (s.kind != RecordKind::Dup && s.kind != RecordKind::Std && s.problem.empty() &&
      (s.path.empty() || s.path[0] != '/' || s.path.find('\0') != std::string::npos))
    return "is recorded with a path that is not absolute";
  return "";
}

// Every reason the checkpoint's files cannot be re-created, checked before anything is changed.
// *hopeless: one of them is not a file a person can put back.
std::vector<std::string> check(const std::vector<FileState> &files, bool *hopeless) {
  std::vector<std::string> problems;
  auto written = [&](const FileState &s) {
    for (const FileState &o : files)
      if (o.kind != RecordKind::Std && o.kind != RecordKind::Dup && o.writable() &&
          o.dev == s.dev && o.ino == s.ino)
        return true;
    return false;
  };
  for (const FileState &s : files) {
    if (std::string bad = malformed(s); !bad.empty()) {
      problems.push_back(name_of(s) + " " + bad + ": the checkpoint is damaged");
      *hopeless = true;
      continue;
    }
    if (s.kind == RecordKind::Dup || s.kind == RecordKind::Std)
      continue;
    if (!s.problem.empty()) {
      problems.push_back(name_of(s) + " " + s.problem);
      *hopeless = true;
      continue;
    }
    struct stat st;
    if (stat(s.path.c_str(), &st) != 0) {
      std::string why = errno == ENOENT ? "" : std::string(" (") + strerror(errno) + ")";
      problems.push_back(name_of(s) + ", open at the checkpoint, no longer exists" + why);
      continue;
    }
    if (s.type != S_IFREG)
      continue;
    if (!S_ISREG(st.st_mode)) {
      problems.push_back(name_of(s) + " is no longer a regular file");
    } else if (s.writable()) {
      if (uint64_t(st.st_size) < s.size)
        problems.push_back(name_of(s) + " is shorter than at the checkpoint (" +
                           std::to_string(s.size) + " bytes, now " +
                           std::to_string(st.st_size) +
                           "): it was truncated or replaced, and what the program wrote before "
                           "the checkpoint is lost");
    } else if (!written(s)) {
      std::string why;
      if (uint64_t(st.st_size) != s.size)
        why = "its size was " + std::to_string(s.size) + " bytes, now " +
              std::to_string(st.st_size);
      else if (mtime_ns(st) != s.mtime_ns)
        why = "it was modified at " + show_time(mtime_ns(st)) + ", at the checkpoint it was " +
              show_time(s.mtime_ns);
      else {
        int fd = open(s.path.c_str(), O_RDONLY | O_CLOEXEC);
        uint64_t v = 0;
        bool ok = fd >= 0 && sample_fd(fd, s.size, &v);
        if (fd >= 0)
          close(fd);
        if (!ok)
          why = std::string("it cannot be read (") + strerror(errno) + ")";
        else if (v != s.sample)
          why = "its contents differ";
      }
      if (!why.empty())
        problems.push_back(name_of(s) + " changed since the checkpoint: " + why);
    }
  }
  return problems;
}

// fd 0, 1 or 2 as the restarted program got it from the shell: a file that is the one it was at
// the checkpoint continues where the checkpoint left it (`./prog >> log` on every run holds what
// one uninterrupted run writes); anything else is left as it is.
void restore_std(const FileState &s) {
  struct stat st;
  const char *name = std_name(s.fd);
  if (s.type != S_IFREG) {
    if (s.writable() && s.fd != 2)
      log(2, "%s was not a file at the checkpoint (%s): what the program printed after the "
          "checkpoint is printed again", name, s.path.c_str());
    return;
  }
  if (fstat(s.fd, &st) != 0) {
    log(2, "%s is closed in this run; at the checkpoint it was %s", name, s.path.c_str());
    return;
  }
  bool same = S_ISREG(st.st_mode) && st.st_dev == s.dev && st.st_ino == s.ino;
  if (s.writable() && s.fd == 2) {
    // The runtime's own messages go to stderr: those of runs cut short stay.  With 2>&1 the
    // file is stdout's, which is truncated.
    log(2, "stderr (%s) left as it is", s.path.c_str());
    return;
  }
  if (s.writable()) {
    if (!same) {
      log(2, "%s is not the file it was at the checkpoint (%s): left as it is", name,
          s.path.c_str());
      return;
    }
    if (uint64_t(st.st_size) < s.size) {
      log(2, "%s (%s) holds %llu bytes, %llu at the checkpoint (opened with > rather than >>?): "
          "left as it is", name, s.path.c_str(), (unsigned long long)st.st_size,
          (unsigned long long)s.size);
      return;
    }
    if (ftruncate(s.fd, off_t(s.size)) != 0)
      fatal("cannot truncate %s (%s) to its size at the checkpoint: %s", name, s.path.c_str(),
            strerror(errno));
    int fl = fcntl(s.fd, F_GETFL);
    if (fl >= 0 && !(fl & O_APPEND))
      lseek(s.fd, off_t(s.offset), SEEK_SET);
    log(2, "%s (%s) truncated to %llu bytes, its size at the checkpoint", name, s.path.c_str(),
        (unsigned long long)s.size);
    return;
  }
  if (same || (S_ISREG(st.st_mode) && uint64_t(st.st_size) == s.size &&
               mtime_ns(st) == s.mtime_ns)) {
    lseek(s.fd, off_t(s.offset), SEEK_SET);
    log(2, "%s (%s) continues at offset %llu", name, s.path.c_str(),
        (unsigned long long)s.offset);
  } else {
    log(2, "%s is not the file it was at the checkpoint (%s): read from its start", name,
        s.path.c_str());
  }
}

void restore_stream(const FileState &s) {
  auto *h = reinterpret_cast<Handle *>(s.object);
  if (!arena::contains(h) || h->magic != kHandleMagic)
    fatal("the stream on %s is not in the restored heap; the image does not match this program",
          s.path.c_str());
  reopen_at(s, s.offset);
  FILE *f = fdopen(s.fd, fdopen_mode(s.oflags));
  if (!f)
    fatal("cannot re-open %s as a stream: %s", name_of(s).c_str(), strerror(errno));
  if (h->vbuf_mode >= 0)
    setvbuf(f, h->vbuf, h->vbuf_mode, size_t(h->vbuf_size));
  if (s.type == S_IFREG || s.type == S_IFBLK)
    fseeko(f, off_t(s.offset), SEEK_SET);
  f->_flags |= s.sticky & kStickyBits;
  h->real = f;
  h->shape._fileno = s.fd;
  mirror(h);
  std::lock_guard<std::mutex> lock(g_mutex);
  add_handle(h);
  info(s.fd).owner = Owner::Stream;
}

}  // namespace

bool FileState::writable() const { return (oflags & O_ACCMODE) != O_RDONLY; }

void bad_stream(const void *f) {
  fatal("the program used the stream %p after closing it (or a pointer that is not a FILE*)", f);
}

FILE *real(FILE *f) {
  Handle *h = as_handle(f);
  return h ? h->real : f;
}

bool on_program_stack(const void *p) {
  auto a = reinterpret_cast<uintptr_t>(p);
  return a < kStackTop && a >= kStackTop - (uint64_t(1) << 44);  // below it, only the stack
}

bool in_saved_memory(const void *p) {
  auto a = reinterpret_cast<uintptr_t>(p);
  if (arena::contains(p) || on_program_stack(p))
    return true;
  const std::vector<registry::Global> &gs = registry::globals();
  auto it = std::upper_bound(gs.begin(), gs.end(), a, [](uintptr_t x, const registry::Global &g) {
    return x < reinterpret_cast<uintptr_t>(g.addr);
  });
  if (it == gs.begin())
    return false;
  --it;
  return a < reinterpret_cast<uintptr_t>(it->addr) + it->size;
}

// ---- Tables --------------------------------------------------------------------------------

FILE *adopt(FILE *real, HandleKind kind, const std::string &what) {
  auto *h = static_cast<Handle *>(__autockpt_calloc(1, sizeof(Handle)));
  char *w = static_cast<char *>(__autockpt_malloc(what.size() + 1));
  if (!h || !w) {
    __autockpt_free(h);
    __autockpt_free(w);
    errno = ENOMEM;
    return nullptr;
  }
  memcpy(w, what.c_str(), what.size() + 1);
  int fd = fileno(real);
  h->shape._flags = kShapeFlags;
  h->shape._fileno = fd;
  h->magic = kHandleMagic;
  h->real = real;
  h->kind = kind;
  h->vbuf_mode = -1;
  h->what = w;
  std::lock_guard<std::mutex> lock(g_mutex);
  add_handle(h);
  if (fd >= 0 && kind == HandleKind::File) {
    if (info(fd).owner != Owner::Open)  // fdopen of the program's descriptor keeps its dups
      fd_forget(fd);
    info(fd).owner = Owner::Stream;
  }
  return &h->shape;
}

void forget(Handle *h) {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (h->slot < 0 || size_t(h->slot) >= g_nhandles || g_handles[h->slot] != h)
    return;
  Handle *last = g_handles[--g_nhandles];
  g_handles[h->slot] = last;
  last->slot = h->slot;
  h->slot = -1;
}

std::vector<Handle *> open_handles() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return std::vector<Handle *>(g_handles, g_handles + g_nhandles);
}

void set_what(Handle *h, const std::string &what) {
  char *w = static_cast<char *>(__autockpt_malloc(what.size() + 1));
  if (!w)
    return;
  memcpy(w, what.c_str(), what.size() + 1);
  __autockpt_free(h->what);
  h->what = w;
}

void fd_opened(int fd, Owner owner) {
  if (fd < 0)
    return;
  std::lock_guard<std::mutex> lock(g_mutex);
  fd_forget(fd);
  info(fd).owner = owner;
}

void fd_duplicated(int oldfd, int newfd) {
  if (oldfd < 0 || newfd < 0 || oldfd == newfd)
    return;
  std::lock_guard<std::mutex> lock(g_mutex);
  fd_forget(newfd);
  if (oldfd >= g_nfds || g_fds[oldfd].owner == Owner::None)
    return;
  int primary = g_fds[oldfd].owner == Owner::Dup ? g_fds[oldfd].shares : oldfd;
  FdInfo &n = info(newfd);
  n.owner = Owner::Dup;
  n.shares = primary;
}

void fd_closing(int fd) {
  std::lock_guard<std::mutex> lock(g_mutex);
  fd_forget(fd);
}

// ---- Checkpoint ----------------------------------------------------------------------------

void describe_fd(int fd, FileState *s) {
  s->fd = fd;
  s->path = fd_path(fd);
  struct stat st;
  if (fstat(fd, &st) != 0) {
    s->problem = std::string("is not open (") + strerror(errno) + ")";
    return;
  }
  int fl = fcntl(fd, F_GETFL), fdfl = fcntl(fd, F_GETFD);
  s->oflags = (fl < 0 ? 0 : fl) | (fdfl >= 0 && (fdfl & FD_CLOEXEC) ? O_CLOEXEC : 0);
  s->type = st.st_mode & S_IFMT;
  s->dev = st.st_dev;
  s->ino = st.st_ino;
  s->size = uint64_t(st.st_size);
  s->mtime_ns = mtime_ns(st);
  switch (s->type) {
    case S_IFREG:
      if (st.st_nlink == 0) {
        s->problem = "was deleted while open (a temporary file?), so it cannot be re-opened";
      } else if (s->writable()) {
        // What was written before the checkpoint must survive a crash of the machine, or the
        // restart would find the file shorter than the image says.
        FdInfo &i = info(fd);
        if (i.synced != s->size + 1 && fdatasync(fd) == 0)
          i.synced = s->size + 1;
      } else {
        s->sample = sample_of(fd, *s);
      }
      break;
    case S_IFDIR:
    case S_IFCHR:
    case S_IFBLK:
      break;
    case S_IFIFO:
      s->problem = "is a pipe or FIFO, which cannot be re-opened after a restart";
      break;
    case S_IFSOCK:
      s->problem = "is a socket, which cannot be re-opened after a restart";
      break;
    default:
      s->problem = "is not a file that can be re-opened after a restart";
  }
  if (s->problem.empty() && (s->path.empty() || s->path[0] != '/'))
    s->problem = "has no path in the file system (" + s->path + ")";
}

void library_fds_open_now() {
  std::lock_guard<std::mutex> lock(g_mutex);
  DIR *d = opendir("/proc/self/fd");
  if (!d)
    return;
  while (dirent *e = readdir(d)) {
    int fd = atoi(e->d_name);
    if (e->d_name[0] >= '0' && e->d_name[0] <= '9' && fd != dirfd(d) &&
        info(fd).owner == Owner::None)
      info(fd).warned = true;  // nothing to say about it
  }
  closedir(d);
}

void library_fd(int fd) {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (info(fd).owner == Owner::None)
    info(fd).warned = true;
}

std::string save() {
  // C++ standard streams that are not synchronised with stdio keep their own buffers.
  std::cout.flush();
  std::cerr.flush();
  std::clog.flush();

  std::lock_guard<std::mutex> lock(g_mutex);
  Section sec;
  std::vector<FileState> &out = sec.files;
  for (size_t k = 0; k < g_nhandles; ++k) {
    Handle *h = g_handles[k];
    FileState s;
    s.kind = RecordKind::Stream;
    s.object = reinterpret_cast<uintptr_t>(h);
    s.opened_as = h->what;
    if (h->kind != HandleKind::File) {
      s.fd = fileno(h->real);
      s.problem = h->kind == HandleKind::Pipe
                      ? "is a pipe to another program, which cannot be re-created after a restart"
                      : "lives in memory or in an anonymous temporary file, whose contents a "
                        "checkpoint does not save";
    } else {
      fflush(h->real);
      describe_fd(fileno(h->real), &s);
      off_t pos = ftello(h->real);
      s.offset = pos < 0 ? 0 : uint64_t(pos);
      s.sticky = h->real->_flags & kStickyBits;
    }
    out.push_back(std::move(s));
  }
  for (int fd = 0; fd < g_nfds; ++fd) {
    if (g_fds[fd].owner != Owner::Open)
      continue;
    FileState s;
    s.kind = RecordKind::Fd;
    describe_fd(fd, &s);
    off_t pos = lseek(fd, 0, SEEK_CUR);
    s.offset = pos < 0 ? 0 : uint64_t(pos);
    out.push_back(std::move(s));
  }
  save_filebufs(&out);
  size_t primaries = out.size();
  for (int fd = 0; fd < g_nfds; ++fd) {
    if (g_fds[fd].owner != Owner::Dup)
      continue;
    FileState s;
    s.kind = RecordKind::Dup;
    s.fd = fd;
    s.shares = g_fds[fd].shares;
    int fdfl = fcntl(fd, F_GETFD);
    s.oflags = fdfl >= 0 && (fdfl & FD_CLOEXEC) ? O_CLOEXEC : 0;
    bool found = false;
    for (size_t k = 0; k < primaries; ++k)
      found |= out[k].fd == s.shares;
    if (!found) {  // what it duplicated is gone: it stands alone
      s.kind = RecordKind::Fd;
      describe_fd(fd, &s);
      off_t pos = lseek(fd, 0, SEEK_CUR);
      s.offset = pos < 0 ? 0 : uint64_t(pos);
    }
    out.push_back(std::move(s));
  }
  for (int fd = 0; fd <= 2; ++fd) {
    bool ours = false;
    for (const FileState &s : out)
      ours |= s.fd == fd;
    struct stat st;
    if (ours || fstat(fd, &st) != 0)
      continue;
    FileState s;
    s.kind = RecordKind::Std;
    describe_fd(fd, &s);
    s.problem.clear();
    off_t pos = fd == 0 ? ftello(stdin) : -1;
    if (pos < 0)
      pos = lseek(fd, 0, SEEK_CUR);
    s.offset = pos < 0 ? 0 : uint64_t(pos);
    out.push_back(std::move(s));
  }

  for (const FileState &s : out) {
    if (s.problem.empty() || s.fd < 0 || info(s.fd).warned)
      continue;
    info(s.fd).warned = true;
    warn("%s %s; a restart from this checkpoint will stop with an error until it is closed "
         "before a later checkpoint", name_of(s).c_str(), s.problem.c_str());
  }
  if (DIR *d = opendir("/proc/self/fd")) {
    while (dirent *e = readdir(d)) {
      if (e->d_name[0] < '0' || e->d_name[0] > '9')
        continue;
      int fd = atoi(e->d_name);
      bool known = fd <= 2 || fd == dirfd(d) || inherited(fd);
      for (const FileState &s : out)
        known |= s.fd == fd;
      if (known || info(fd).warned)
        continue;
      info(fd).warned = true;
      warn("fd %d (%s) was opened by code autockpt does not see (a library, or a call it does "
           "not wrap); it will not be re-opened after a restart", fd, fd_path(fd).c_str());
    }
    closedir(d);
  }

  return image::to_archive(sec);
}

// ---- Restart -------------------------------------------------------------------------------

void reopen_at(const FileState &s, uint64_t offset) {
  int flags = (s.oflags & ~(O_CREAT | O_EXCL | O_TRUNC | O_TMPFILE)) | O_NOCTTY;
  int t = open(s.path.c_str(), flags);
  if (t < 0)
    fatal("cannot re-open %s: %s", name_of(s).c_str(), strerror(errno));
  if (t != s.fd) {
    if (fcntl(s.fd, F_GETFD) >= 0)
      log(2, "fd %d was open when the program restarted; it is %s again", s.fd, s.path.c_str());
    if (dup3(t, s.fd, flags & O_CLOEXEC) < 0)
      fatal("cannot give %s its descriptor number back: %s", name_of(s).c_str(), strerror(errno));
    close(t);
  }
  if ((s.type == S_IFREG || s.type == S_IFBLK) && lseek(s.fd, off_t(offset), SEEK_SET) < 0)
    fatal("cannot seek %s to offset %llu: %s", name_of(s).c_str(), (unsigned long long)offset,
          strerror(errno));
}

void restore(const std::string &saved) {
  if (saved.empty())
    return;
  Section sec;
  if (Status s = image::from_archive(saved, &sec, "the checkpoint's list of open files"); !s)
    fatal("%s", s.message().c_str());
  const std::vector<FileState> &files = sec.files;
  {
    // Whatever static constructors of this run opened is not the program's state any more.
    std::lock_guard<std::mutex> lock(g_mutex);
    g_nhandles = 0;
    for (int fd = 0; fd < g_nfds; ++fd)
      g_fds[fd] = FdInfo{Owner::None, false, -1, 0};
  }
  forget_filebufs();
  bool hopeless = false;
  std::vector<std::string> problems = check(files, &hopeless);
  if (!problems.empty()) {
    std::string text;
    for (const std::string &p : problems)
      text += "\n  " + p;
    if (hopeless)
      fatal("cannot resume from the checkpoint:%s\nThis checkpoint cannot be resumed; start over "
            "with AUTOCKPT_RESTART=never.", text.c_str());
    fatal("cannot resume from the checkpoint:%s\nRestore %s, or start over with "
          "AUTOCKPT_RESTART=never.", text.c_str(),
          problems.size() == 1 ? "that file" : "those files");
  }
  // Output files lose what was written after the checkpoint: the program writes it again.
  for (const FileState &s : files) {
    if (s.kind == RecordKind::Dup || s.kind == RecordKind::Std || s.type != S_IFREG ||
        !s.writable())
      continue;
    if (truncate(s.path.c_str(), off_t(s.size)) != 0)
      fatal("cannot truncate %s to its size at the checkpoint (%llu bytes): %s",
            name_of(s).c_str(), (unsigned long long)s.size, strerror(errno));
    log(2, "%s truncated to %llu bytes", name_of(s).c_str(), (unsigned long long)s.size);
  }
  for (const FileState &s : files) {
    switch (s.kind) {
      case RecordKind::Stream:
        restore_stream(s);
        break;
      case RecordKind::Fd: {
        reopen_at(s, s.offset);
        std::lock_guard<std::mutex> lock(g_mutex);
        info(s.fd).owner = Owner::Open;
        break;
      }
      case RecordKind::Filebuf:
        restore_filebuf(s);
        break;
      default:
        break;
    }
  }
  for (const FileState &s : files) {
    if (s.kind != RecordKind::Dup)
      continue;
    if (dup3(s.shares, s.fd, s.oflags & O_CLOEXEC) < 0)
      fatal("cannot re-create fd %d as a duplicate of fd %d: %s", s.fd, s.shares,
            strerror(errno));
    std::lock_guard<std::mutex> lock(g_mutex);
    info(s.fd) = FdInfo{Owner::Dup, false, s.shares, 0};
  }
  for (const FileState &s : files)
    if (s.kind == RecordKind::Std)
      restore_std(s);
  log(2, "%zu open files re-created", files.size());
}

}  // namespace autockpt::files
