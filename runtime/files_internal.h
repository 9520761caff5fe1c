// What the parts of the files layer share (files.cpp: the tables, checkpoint and restart;
// files_stdio.cpp: the FILE* wrappers; files_fd.cpp: the fd wrappers; files_fstream.cpp: C++
// file streams).  Nothing outside runtime/files*.cpp includes this.
#pragma once

#include "files.h"
#include "layout.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

namespace autockpt::files {

// ---- Stream handles ------------------------------------------------------------------------
//
// fopen in instrumented code returns a Handle allocated in the arena instead of libc's FILE, so
// the pointer the program keeps is saved with the heap and means the same after a restart.  It
// starts with a FILE-shaped block whose buffer pointers are all null: glibc's inline
// getc_unlocked/putc_unlocked then always call __uflow/__overflow (redirected), and the inline
// feof_unlocked/ferror_unlocked read the EOF/error bits mirrored into _flags after each call.
// The magic word sits where glibc keeps a FILE's vtable pointer, so a handle that reaches
// uninstrumented code is stopped by glibc's "invalid stdio handle" check, not silently misused.

constexpr uint64_t kHandleMagic = 0x454c444e484b4341ull;  // "ACKHNDLE"
constexpr int kShapeFlags = int(0xfbad0000u | 0x8000u);   // _IO_MAGIC | _IO_USER_LOCK
constexpr int kStickyBits = 0x0010 | 0x0020;             // _IO_EOF_SEEN | _IO_ERR_SEEN

enum class HandleKind : uint32_t {
  File = 1,    // fopen, fdopen, freopen: re-created at a restart
  Opaque = 2,  // tmpfile, fmemopen, open_memstream: a restart with one open is refused
  Pipe = 3,    // popen: likewise; closed with pclose
};

struct Handle {
  FILE shape;
  uint64_t magic;
  FILE *real;          // this process's stream
  HandleKind kind;
  int32_t slot;        // index in the table of open handles (runtime memory)
  int32_t vbuf_mode;   // the program's setvbuf mode, re-applied at restart; -1: libc's default
  char *vbuf;
  uint64_t vbuf_size;
  char *what;          // in the arena: the path the program opened, or "popen(ls)"
};
static_assert(offsetof(Handle, magic) == sizeof(FILE), "the magic word overlays glibc's vtable");

// Handles lie in [kArenaBase, kArenaBase + g_span); 0 until the first handle exists.
extern uint64_t g_span;

[[noreturn]] void bad_stream(const void *f);

// The handle behind f, or null for a stream the program did not get from us (stdin, stdout,
// stderr, streams of uninstrumented code): one compare for those, two loads for a handle.
inline Handle *as_handle(FILE *f) {
  if (reinterpret_cast<uintptr_t>(f) - kArenaBase >= g_span)
    return nullptr;
  auto *h = reinterpret_cast<Handle *>(f);
  if (__builtin_expect(h->magic != kHandleMagic || !h->real, 0))
    bad_stream(f);
  return h;
}

inline void mirror(Handle *h) {
  h->shape._flags = kShapeFlags | (h->real->_flags & kStickyBits);
}

// A handle for a stream libc just opened; null (errno ENOMEM) if the arena is full, and the
// caller closes the stream.
FILE *adopt(FILE *real, HandleKind kind, const std::string &what);
// Drops the handle from the table of open handles (its stream was closed, or freopen failed).
void forget(Handle *h);
// Every open handle (fcloseall).
std::vector<Handle *> open_handles();
// Replaces the handle's description (freopen).
void set_what(Handle *h, const std::string &what);

// ---- File descriptors ------------------------------------------------------------------------

// Who opened a descriptor the program holds.
enum class Owner : uint8_t { None, Open, Stream, Filebuf, Dup };

// The program opened fd itself (open, creat, mkstemp, ...), or fd is the descriptor of a
// stream or filebuf it opened.
void fd_opened(int fd, Owner owner = Owner::Open);
// newfd now shares oldfd's open file description (dup, dup2, dup3); no-op if oldfd is not ours.
void fd_duplicated(int oldfd, int newfd);
// fd is being closed (close, dup2 over it, fclose of its stream).
void fd_closing(int fd);

// The table lock: opening, closing and checkpoints take it; the per-call path does not.
extern std::mutex g_mutex;

// ---- What a checkpoint records -------------------------------------------------------------

enum class RecordKind : uint32_t {
  Stream = 1,   // a Handle
  Fd = 2,       // a descriptor the program opened
  Dup = 3,      // a descriptor sharing another one's open file description
  Filebuf = 4,  // a std::filebuf
  Std = 5,      // fd 0, 1 or 2 as the program was started with it
};

// One open file at a checkpoint, as the Files section stores it.
struct FileState {
  RecordKind kind = RecordKind::Fd;
  uint64_t object = 0;     // the Handle or std::filebuf address
  int32_t fd = -1;
  int32_t shares = -1;     // Dup: the descriptor it duplicates
  std::string path;        // absolute, as the kernel names it at the checkpoint
  std::string opened_as;   // what the program passed to fopen/open (for messages)
  int32_t oflags = 0;      // fcntl(F_GETFL) | O_CLOEXEC when FD_CLOEXEC is set
  uint32_t type = 0;       // st_mode & S_IFMT
  uint64_t dev = 0, ino = 0, size = 0;
  int64_t mtime_ns = 0;
  uint64_t sample = 0;     // XXH3 of the first and last 64 KiB (read-only regular files)
  uint64_t offset = 0;     // stream position (Stream), or the descriptor's offset
  int32_t sticky = 0;      // Stream: EOF/error bits; Filebuf: its openmode
  std::string buffer;      // Filebuf: the contents of its buffer
  int64_t in_frames = -1;  // Filebuf on the stack: where the saved frames hold its bytes
  std::string problem;     // why it cannot be re-created; empty when it can

  bool writable() const;
  template <class A>
  void serialize(A &a, unsigned /*version*/) {
    a & kind & object & fd & shares & path & opened_as & oflags & type & dev & ino & size;
    a & mtime_ns & sample & offset & sticky & buffer & in_frames & problem;
  }
};

// Fills path, oflags, type, dev, ino, size, mtime_ns, sample and problem from the descriptor.
// Writable regular files are made durable (fdatasync) when they changed since the last one.
void describe_fd(int fd, FileState *out);

// Re-opens s.path at descriptor s.fd (the number it had), without truncating, and sets the
// descriptor's offset to `offset`.  Dies with a message if it cannot.
void reopen_at(const FileState &s, uint64_t offset);

// files_fstream.cpp: records every open std::filebuf; re-creates them after a restart.
void save_filebufs(std::vector<FileState> *out);
void restore_filebuf(const FileState &s);  // after frames::adopt
void forget_filebufs();                    // a restart: those of this run's constructors

// Is p on the program's fixed stack?
bool on_program_stack(const void *p);

}  // namespace autockpt::files
