// The writer process of an asynchronous checkpoint (docs/design.md R21).
//
// The copy is made in two steps so that it is nobody's child the program could see.  A first
// child shares the program's memory and holds its parent suspended (clone with CLONE_VM |
// CLONE_VFORK and no exit signal, as posix_spawn does): the program gets no SIGCHLD, and its
// wait(-1) never sees that child.  That child calls glibc's _Fork(), which records the copy's
// thread id but runs no pthread_atfork handler: the program's and the libraries' fork hooks
// are not for a copy that only writes a file (libomp's child hook re-reads its settings and
// aborted every writer under OMP_SCHEDULE=guided).  The copy is the writer: an orphan, whose
// parent is init or the nearest subreaper, never the program.  It writes, commits and
// _exit()s; the program hears how it ended through a pipe (a result byte, or end-of-file when
// the writer died before writing one).
// Without fork()'s handlers, malloc's locks are copied as they are: every thread of the
// program is stopped at a safe point, outside malloc, but a library's own thread that is inside
// malloc at that instant would leave the writer waiting for a lock forever (docs/design.md R21).
#include "background.h"

#include "arena.h"
#include "control.h"
#include "log.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace autockpt::background {

namespace {

constexpr size_t kStackBytes = 8 << 20;  // the writer runs on it: Boost archives, the writer

struct Writer {
  image::GenerationStore *store;
  const Options *opts;
  checkpoint::Snapshot *snap;
  int result_fd;   // the pipe's write end, the writer's only descriptors besides 0, 1, 2
  int program_fd;  // and a pidfd of the program (R26), or -1
  pid_t pid;       // set by the first child: the writer's id, or -errno
};

// In flight: the pipe's read end, the writer, and what its generation was.
int g_result_fd = -1;
pid_t g_pid;
uint64_t g_gen;
char *g_stack;

uint64_t monotonic_ns() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return uint64_t(t.tv_sec) * 1'000'000'000 + uint64_t(t.tv_nsec);
}

// After the commit, the writer puts the program's heap back into 2 MiB pages (R26): each
// 2 MiB-aligned stretch of the arena that blocks fill whole (a stretch with a gap would be
// filled with zeros), through process_madvise(MADV_COLLAPSE) on the program (Linux 6.1).
// While the writer lived, the program's writes split the huge pages it shared with the copy
// (a copy-on-write fault copies 4 KiB), and the next checkpoint's copy would copy a page-table
// entry per 4 KiB instead of one per 2 MiB: 20-70 ms of the stop for 256 MiB here, 1-2 ms with
// the huge pages back.  Best effort: a stretch the program is writing at that instant, or
// memory the kernel does not have in huge pages, stays as it is.
void collapse_heap(int program_fd) {
#ifndef MADV_COLLAPSE
  constexpr int MADV_COLLAPSE = 25;
#endif
  constexpr uint64_t kHuge = 2 << 20;
  RuntimeHeap heap;
  uint64_t t0 = monotonic_ns();
  const uintptr_t base = arena::base();
  std::vector<iovec> stretches;
  uint64_t bytes = 0;
  for (const arena::Extent &e : arena::saved_extents()) {
    uint64_t from = (base + e.offset + kHuge - 1) & ~(kHuge - 1);
    uint64_t to = (base + e.offset + e.length) & ~(kHuge - 1);
    if (to <= from)
      continue;
    stretches.push_back({reinterpret_cast<void *>(from), size_t(to - from)});
    bytes += to - from;
  }
  // The writer's own copy of the heap goes first: the pages it still shares with the program
  // are the program's alone then, and the collapse does not hold both (the program's memory
  // would otherwise double until the writer exits).
  madvise(reinterpret_cast<void *>(base), arena::used_bytes(), MADV_DONTNEED);
  unsigned calls = 0, failed = 0;
  int err = 0;
  for (size_t k = 0; k < stretches.size(); k += 64) {
    size_t n = std::min<size_t>(64, stretches.size() - k);
    if (syscall(SYS_process_madvise, program_fd, &stretches[k], n, MADV_COLLAPSE, 0) < 0) {
      ++failed;  // EAGAIN for a stretch in use, ENOMEM, or a kernel without it: said below
      err = errno;
    }
    ++calls;
  }
  if (bytes)
    log(3, "writer: the program's heap back in 2 MiB pages: %.1f MiB in %.1f ms (%u of %u calls "
        "failed in part%s%s)", double(bytes) / (1 << 20), double(monotonic_ns() - t0) / 1e6, failed,
        calls, failed ? ": " : "", failed ? strerror(err) : "");
}

// Closes every descriptor from 3 up but `a` and `b` (-1: none).
void close_all_but(int a, int b) {
  unsigned from = 3;
  for (int fd : {std::min(a, b), std::max(a, b)}) {
    if (fd < int(from))
      continue;
    if (fd > int(from))
      close_range(from, unsigned(fd) - 1, 0);
    from = unsigned(fd) + 1;
  }
  close_range(from, ~0U, 0);
}

// The writer: the program's copy, one thread, signals blocked (a signal of the program's must
// not run its handler here).  Descriptors of the program's are closed, so a pipe of the
// program's sees its end when the program closes it, not when the write ends.
[[noreturn]] void writer_main(Writer *w) {
  // The copy is complete: the program goes on as soon as the first child has exited.
  w->snap->stop_end_ns = monotonic_ns();
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null >= 0) {
    dup2(null, STDIN_FILENO);
    dup2(null, STDOUT_FILENO);
  }
  int keep = w->result_fd, program = w->program_fd;
  close_all_but(keep, program);
  Status s = checkpoint::finish(*w->store, *w->opts, *w->snap);
  if (!s)
    warn("checkpoint failed, the previous one is intact: %s", s.message().c_str());
  char result = s ? 'K' : 'F';
  ssize_t ignored = write(keep, &result, 1);
  (void)ignored;
  if (s && program >= 0)
    collapse_heap(program);
  _exit(s ? 0 : 1);
}

// The first child: runs on g_stack, in the program's memory, while the program waits.
int make_writer(void *arg) {
  auto *w = static_cast<Writer *>(arg);
  pid_t pid = _Fork();
  if (pid == 0)
    writer_main(w);
  w->pid = pid < 0 ? -errno : pid;
  _exit(0);
}

// The writer's result: 'K', 'F', or 0 when it ended without one.  Blocks when `block`;
// returns -1 when it would block.
int read_result(bool block) {
  for (;;) {
    pollfd p = {g_result_fd, POLLIN, 0};
    int n = poll(&p, 1, block ? -1 : 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n == 0)
      return -1;
    char c = 0;
    ssize_t r = read(g_result_fd, &c, 1);
    if (r < 0 && errno == EINTR)
      continue;
    return r == 1 ? c : 0;
  }
}

}  // namespace

Status start(image::GenerationStore &store, const Options &opts, checkpoint::Snapshot &snap) {
  if (!g_stack) {
    void *m = mmap(nullptr, kStackBytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (m == MAP_FAILED)
      return Status::error(std::string("cannot map the writer's stack: ") + strerror(errno));
    g_stack = static_cast<char *>(m);
  }
  uint64_t t_fork = monotonic_ns();
  // The program's pidfd, for the writer's collapse (R26); none where the kernel has no
  // pidfd_open or the heap has no huge pages.
  int program_fd = getenv("AUTOCKPT__SMALL_PAGES")
                       ? -1 : int(syscall(SYS_pidfd_open, getpid(), 0));
  if (program_fd >= 0)
    fcntl(program_fd, F_SETFD, FD_CLOEXEC);
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    if (program_fd >= 0)
      close(program_fd);
    return Status::error(std::string("cannot make the writer's pipe: ") + strerror(errno));
  }
  Writer w{&store, &opts, &snap, fds[1], program_fd, 0};
  sigset_t all, was;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &was);
  pid_t first = clone(make_writer, g_stack + kStackBytes, CLONE_VM | CLONE_VFORK, &w);
  int clone_errno = errno;
  if (first > 0)
    while (waitpid(first, nullptr, __WCLONE) < 0 && errno == EINTR) {
    }
  pthread_sigmask(SIG_SETMASK, &was, nullptr);
  uint64_t resumed_ns = monotonic_ns();
  close(fds[1]);
  if (program_fd >= 0)
    close(program_fd);
  if (first < 0 || w.pid <= 0) {
    close(fds[0]);
    return Status::error(std::string("cannot start the writer process: ") +
                         strerror(first < 0 ? clone_errno : -w.pid));
  }
  g_pid = w.pid;
  g_gen = snap.gen;
  __atomic_store_n(&g_result_fd, fds[0], __ATOMIC_RELEASE);
  log(2, "checkpoint %llu: the program stopped %.1f ms (the copy %.1f ms); writer process %d "
      "writes it", (unsigned long long)snap.gen, double(resumed_ns - snap.stop_begin_ns) / 1e6,
      double(resumed_ns - t_fork) / 1e6, int(w.pid));
  return Status::ok();
}

bool busy() {
  int fd = __atomic_load_n(&g_result_fd, __ATOMIC_ACQUIRE);
  if (fd < 0)
    return false;
  pollfd p = {fd, POLLIN, 0};
  return poll(&p, 1, 0) == 0;
}

int writer_pid() { return g_result_fd >= 0 ? int(g_pid) : 0; }

Status wait(image::GenerationStore &store, ProcessState *ps, const char *why) {
  if (g_result_fd < 0)
    return Status::ok();
  uint64_t t0 = monotonic_ns();
  bool was_busy = busy();
  int result = read_result(true);
  int fd = g_result_fd;
  __atomic_store_n(&g_result_fd, -1, __ATOMIC_RELEASE);
  close(fd);
  if (was_busy)
    log(2, "%s waited %.1f ms for checkpoint %llu to be written", why,
        double(monotonic_ns() - t0) / 1e6, (unsigned long long)g_gen);
  if (result == 'K')
    return Status::ok();
  --ps->checkpoints;
  if (result == 'F')
    return Status::error("checkpoint " + std::to_string(g_gen) + " could not be written");
  for (const image::GenerationInfo &g : store.list())
    if (g.number == g_gen && g.committed) {
      ++ps->checkpoints;  // killed after its commit: the checkpoint is there
      return Status::ok();
    }
  (void)store.abandon(g_gen);
  std::string msg = "the writer of checkpoint " + std::to_string(g_gen) + " (process " +
                    std::to_string(g_pid) + ") ended before it committed it";
  warn("%s; the previous checkpoint is intact", msg.c_str());
  return Status::error(msg);
}

}  // namespace autockpt::background
