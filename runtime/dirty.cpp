// Dirty-page tracking of the arena (see dirty.h, docs/design.md R24).
//
// The arena is registered with a userfaultfd in write-protect mode with UFFD_FEATURE_WP_ASYNC:
// the kernel resolves a write to a protected page by itself (no message, no thread of ours) and
// clears the page's uffd-wp bit, which /proc/self/pagemap's PAGEMAP_SCAN reports as
// PAGE_IS_WRITTEN; the same ioctl, with PM_SCAN_WP_MATCHING, protects the pages it reports again.
// Soft-dirty bits (clear_refs) would do the same, but the kernels this project meets are built
// without CONFIG_MEM_SOFT_DIRTY.  Both need no privilege (UFFD_USER_MODE_ONLY where
// vm.unprivileged_userfaultfd is 0).
#include "dirty.h"

#include "files.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

// Kernel interfaces newer than this system's headers; the kernel decides at run time.
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif
#ifndef UFFD_FEATURE_WP_UNPOPULATED
#define UFFD_FEATURE_WP_UNPOPULATED (1 << 13)
#endif
#ifndef UFFD_FEATURE_WP_ASYNC
#define UFFD_FEATURE_WP_ASYNC (1 << 15)
#endif
#ifndef PAGEMAP_SCAN
struct page_region {
  uint64_t start, end, categories;
};
struct pm_scan_arg {
  uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages, category_inverted,
      category_mask, category_anyof_mask, return_mask;
};
#define PAGEMAP_SCAN _IOWR('f', 16, struct pm_scan_arg)
#define PAGE_IS_WRITTEN (1 << 1)
#define PAGE_IS_PRESENT (1 << 3)
#define PAGE_IS_SWAPPED (1 << 4)
#define PAGE_IS_PFNZERO (1 << 5)
#define PM_SCAN_WP_MATCHING (1 << 0)
#define PM_SCAN_CHECK_WPASYNC (1 << 1)
#endif

namespace autockpt::dirty {

namespace {

int g_state;  // 0: not tried yet, 1: tracking, -1: not available
// AUTOCKPT__NO_TRACKING, a test's setting: behave as where tracking is not possible.  Read before
// main, which drops internal variables from the environment.
const bool g_refused = getenv("AUTOCKPT__NO_TRACKING") != nullptr;
int g_uffd = -1, g_pagemap = -1;
std::string *g_why;  // why not, once known (allocated: the runtime's globals come late)

// The runtime's descriptors go high, out of the way of the numbers the program's files get
// (a restarted process re-opens those at their old numbers, docs/design.md F2).
int out_of_the_way(int fd) {
  int high = fcntl(fd, F_DUPFD_CLOEXEC, 900);
  if (high < 0)
    return fd;
  close(fd);
  return high;
}

bool unavailable(const std::string &why, int err) {
  g_why = new std::string(err ? why + " (" + strerror(err) + ")" : why);
  if (g_uffd >= 0)
    close(g_uffd);
  if (g_pagemap >= 0)
    close(g_pagemap);
  g_uffd = g_pagemap = -1;
  g_state = -1;
  return false;
}

}  // namespace

bool start(std::string *why) {
  if (g_state == 0 && g_refused) {
    unavailable("AUTOCKPT__NO_TRACKING is set", 0);
  } else if (g_state == 0) {
    g_state = -1;
    long fd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
    if (fd < 0 && errno == EINVAL)  // before Linux 5.11, which has no user-mode-only flag
      fd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
      int err = errno;
      return unavailable(err == EPERM ? "userfaultfd is not permitted to this process "
                                        "(vm.unprivileged_userfaultfd, or a seccomp filter)"
                                      : "userfaultfd is not available",
                         err);
    }
    g_uffd = out_of_the_way(int(fd));
    uffdio_api api{};
    api.api = UFFD_API;
    api.features = UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED;
    if (ioctl(g_uffd, UFFDIO_API, &api) != 0)
      return unavailable("the kernel has no asynchronous write protection (Linux 6.7 or later "
                         "has it)", errno);
    uffdio_register reg{};
    reg.range.start = arena::base();
    reg.range.len = arena::reserved_bytes();
    reg.mode = UFFDIO_REGISTER_MODE_WP;
    if (ioctl(g_uffd, UFFDIO_REGISTER, &reg) != 0)
      return unavailable("the heap cannot be write-protected", errno);
    g_pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    if (g_pagemap < 0)
      return unavailable("/proc/self/pagemap cannot be opened", errno);
    g_pagemap = out_of_the_way(g_pagemap);
    files::library_fd(g_uffd);  // the runtime's own: not the program's files to re-open
    files::library_fd(g_pagemap);
    g_state = 1;
  }
  if (g_state < 0 && why)
    *why = g_why ? *g_why : "tracking failed";
  return g_state > 0;
}

void stop() {
  if (g_state > 0)
    unavailable("tracking failed", 0);
}

Status scan(const std::vector<arena::Extent> &ranges, std::vector<Run> *out) {
  out->clear();
  if (g_state <= 0)
    return Status::error("dirty-page tracking is off");
  std::vector<page_region> regions(4096);
  const uint64_t base = arena::base();
  for (const arena::Extent &r : ranges) {
    pm_scan_arg a{};
    a.size = sizeof a;
    a.flags = PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC;
    a.start = base + r.offset;
    a.end = a.start + r.length;
    a.vec = reinterpret_cast<uintptr_t>(regions.data());
    a.vec_len = regions.size();
    a.category_anyof_mask = PAGE_IS_WRITTEN | PAGE_IS_PRESENT | PAGE_IS_SWAPPED;
    a.return_mask = PAGE_IS_WRITTEN | PAGE_IS_PRESENT | PAGE_IS_SWAPPED | PAGE_IS_PFNZERO;
    for (;;) {
      long n = ioctl(g_pagemap, PAGEMAP_SCAN, &a);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return Status::error(std::string("PAGEMAP_SCAN failed: ") + strerror(errno));
      for (long i = 0; i < n; ++i) {
        const page_region &p = regions[size_t(i)];
        // No page (the kernel reports a none entry as written: a page released with
        // MADV_DONTNEED), or the shared zero page (read, never written): zero either way.
        if ((p.categories & PAGE_IS_PFNZERO) ||
            !(p.categories & (PAGE_IS_PRESENT | PAGE_IS_SWAPPED)))
          continue;
        Run run{p.start - base, p.end - p.start, (p.categories & PAGE_IS_WRITTEN) != 0};
        if (!out->empty() && out->back().written == run.written &&
            out->back().offset + out->back().length == run.offset)
          out->back().length += run.length;
        else
          out->push_back(run);
      }
      // Go on after what was reported.  Linux 6.18 may report regions beyond walk_end (it
      // has processed and protected them: walking again from walk_end reported them a second
      // time, as not written), so the walk goes on from the end of the last region if that is
      // further.
      uint64_t next = a.walk_end;
      if (n > 0 && regions[size_t(n - 1)].end > next)
        next = regions[size_t(n - 1)].end;
      if (next >= a.end)
        break;
      if (next <= a.start)
        return Status::error("PAGEMAP_SCAN made no progress");
      a.start = next;
    }
  }
  return Status::ok();
}

}  // namespace autockpt::dirty
