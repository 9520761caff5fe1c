// The arena allocator.  Small blocks (up to 256 KiB with their header) come from 55 size
// classes with LIFO free lists; large blocks are page-granular, first fit, and sized so that
// two large arrays are never a power of two apart (the prototype lost 2x to cache aliasing).
// Fresh memory is carved from a bump pointer.  All state lives in the arena's first page.
#include "arena.h"

#include "layout.h"
#include "log.h"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <new>
#include <sys/mman.h>

namespace autockpt::arena {

namespace {

constexpr uint64_t kMagic = 0x31414e4552414b41ull;  // "AKARENA1"
constexpr uint32_t kTag = 0xa11c;
constexpr uint64_t kPage = 4096;
constexpr uint64_t kHeaderBytes = 16;
constexpr unsigned kSmallClasses = 55;
constexpr uint64_t kSmallMax = 256 << 10;  // largest small block, header included
constexpr uint32_t kLarge = 0xfff0, kShim = 0xfff1;
constexpr unsigned kRoots = 8;

struct BlockHeader {  // immediately before every pointer handed out
  uint32_t cls;       // size class, kLarge, or kShim (an aligned pointer inside a block)
  uint32_t tag;
  uint64_t size;      // block bytes (small, large), or the distance back to the real block (shim)
};
static_assert(sizeof(BlockHeader) == kHeaderBytes);

struct FreeLarge {
  BlockHeader h;
  FreeLarge *next;
};

struct ArenaState {  // at kArenaBase
  uint64_t magic;
  uint64_t used;  // bytes in use from the base, this page included; beyond it all is zero
  std::atomic<uint32_t> lock;
  uint32_t pad;
  void *small_free[kSmallClasses];
  FreeLarge *large_free;
  void *roots[kRoots];  // the runtime's own saved state (see arena::root)
};
static_assert(sizeof(ArenaState) <= kPage);

uint64_t g_reserved = 0;

ArenaState *state() { return reinterpret_cast<ArenaState *>(kArenaBase); }

class Lock {
 public:
  Lock() {
    while (state()->lock.exchange(1, std::memory_order_acquire))
      while (state()->lock.load(std::memory_order_relaxed))
        __builtin_ia32_pause();
  }
  ~Lock() { state()->lock.store(0, std::memory_order_release); }
};

// Total block size (header included) -> class index; class index -> block size.
inline unsigned classOf(uint64_t t) {
  if (t <= 256)
    return t <= 32 ? 0 : unsigned((t + 15) / 16 - 2);
  unsigned p = 63 - __builtin_clzll(t - 1);
  return 15 + (p - 8) * 4 + unsigned(((t - 1) >> (p - 2)) - 4);
}
inline uint64_t classSize(unsigned c) {
  if (c < 15)
    return (uint64_t(c) + 2) * 16;
  unsigned p = 8 + (c - 15) / 4;
  return (uint64_t((c - 15) % 4) + 5) << (p - 2);
}

inline BlockHeader *headerOf(const void *p) {
  return reinterpret_cast<BlockHeader *>(const_cast<char *>(static_cast<const char *>(p)) -
                                         kHeaderBytes);
}

// Carves `bytes` from the bump pointer; the memory is zero.  Caller holds the lock.
char *bump(uint64_t bytes) {
  ArenaState *s = state();
  if (s->used + bytes > g_reserved)
    return nullptr;
  char *b = reinterpret_cast<char *>(kArenaBase + s->used);
  s->used += bytes;
  return b;
}

uint64_t largeSize(uint64_t n) {
  // Page-rounded plus one page: consecutive large blocks are never 2^k apart.
  return ((n + kHeaderBytes + kPage - 1) & ~(kPage - 1)) + kPage;
}

// Returns a block for n bytes; *fresh tells whether it is known to be zero.
void *allocate(size_t n, bool *fresh) {
  uint64_t t = uint64_t(n) + kHeaderBytes;
  if (t < n)
    return nullptr;
  Lock guard;
  ArenaState *s = state();
  if (t <= kSmallMax) {
    unsigned c = classOf(t);
    char *b = static_cast<char *>(s->small_free[c]);
    *fresh = b == nullptr;
    if (b)
      s->small_free[c] = *reinterpret_cast<void **>(b + kHeaderBytes);
    else if (!(b = bump(classSize(c))))
      return nullptr;
    auto *h = reinterpret_cast<BlockHeader *>(b);
    *h = {c, kTag, classSize(c)};
    if (!*fresh)
      *reinterpret_cast<void **>(b + kHeaderBytes) = nullptr;
    return b + kHeaderBytes;
  }
  uint64_t want = largeSize(n);
  for (FreeLarge **pp = &s->large_free; *pp; pp = &(*pp)->next) {
    FreeLarge *f = *pp;
    if (f->h.size < want)
      continue;
    *pp = f->next;
    uint64_t size = f->h.size;
    if (size - want >= kSmallMax + kPage) {  // split: the tail goes back to the list
      auto *rest = reinterpret_cast<FreeLarge *>(reinterpret_cast<char *>(f) + want);
      rest->h = {kLarge, kTag, size - want};
      rest->next = s->large_free;
      s->large_free = rest;
      size = want;
    }
    f->h = {kLarge, kTag, size};
    f->next = nullptr;
    *fresh = false;
    return reinterpret_cast<char *>(f) + kHeaderBytes;
  }
  char *b = bump(want);
  if (!b)
    return nullptr;
  *reinterpret_cast<BlockHeader *>(b) = {kLarge, kTag, want};
  *fresh = true;
  return b + kHeaderBytes;
}

void release(void *p) {
  BlockHeader *h = headerOf(p);
  if (h->tag != kTag)
    fatal("free(%p): not a block of the heap (double free or heap corruption?)", p);
  if (h->cls == kShim)
    return release(reinterpret_cast<char *>(p) - h->size);
  Lock guard;
  ArenaState *s = state();
  char *b = reinterpret_cast<char *>(h);
  if (h->cls < kSmallClasses) {
    *reinterpret_cast<void **>(b + kHeaderBytes) = s->small_free[h->cls];
    s->small_free[h->cls] = b;
    return;
  }
  // Large: give the pages back to the system; at the top of the arena, lower the bump pointer.
  uint64_t size = h->size;
  madvise(b + kPage, size - kPage, MADV_DONTNEED);
  if (reinterpret_cast<uintptr_t>(b) + size == kArenaBase + s->used) {
    memset(b, 0, kPage);
    s->used -= size;
    return;
  }
  auto *f = reinterpret_cast<FreeLarge *>(b);
  f->next = s->large_free;
  s->large_free = f;
}

}  // namespace

void init(uint64_t reserve_bytes) {
  if (g_reserved)
    return;
  void *want = reinterpret_cast<void *>(kArenaBase);
  void *got = mmap(want, reserve_bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
  if (got != want)
    fatal("cannot reserve the heap arena (%llu GiB at %p): %s; lower AUTOCKPT_HEAP_SIZE",
          (unsigned long long)(reserve_bytes >> 30), want, strerror(errno));
  g_reserved = reserve_bytes;
  ArenaState *s = state();
  s->magic = kMagic;
  s->used = kPage;
}

bool contains(const void *p) {
  auto a = reinterpret_cast<uintptr_t>(p);
  return a >= kArenaBase && a < kArenaBase + g_reserved;
}
uintptr_t base() { return kArenaBase; }
void **root(unsigned i) { return i < kRoots ? &state()->roots[i] : nullptr; }
uint64_t used_bytes() { return g_reserved ? state()->used : 0; }
uint64_t reserved_bytes() { return g_reserved; }

void *prepare_restore(uint64_t used) {
  if (used > g_reserved)
    fatal("the image's heap (%llu MiB) is larger than the arena (%llu MiB); raise "
          "AUTOCKPT_HEAP_SIZE", (unsigned long long)(used >> 20),
          (unsigned long long)(g_reserved >> 20));
  // Whatever static constructors allocated is replaced by the image's heap; above `used`
  // the arena must read as zero again.
  uint64_t old = state()->used;
  if (old > used)
    madvise(reinterpret_cast<char *>(kArenaBase) + used, old - used, MADV_DONTNEED);
  return reinterpret_cast<void *>(kArenaBase);
}

void *malloc(size_t n) {
  bool fresh;
  void *p = allocate(n, &fresh);
  if (!p)
    errno = ENOMEM;
  return p;
}

void *calloc(size_t n, size_t size) {
  size_t total;
  if (__builtin_mul_overflow(n, size, &total)) {
    errno = ENOMEM;
    return nullptr;
  }
  bool fresh;
  void *p = allocate(total, &fresh);
  if (!p)
    errno = ENOMEM;
  else if (!fresh)
    memset(p, 0, total);
  return p;
}

size_t usable_size(const void *p) {
  BlockHeader *h = headerOf(p);
  if (h->cls == kShim)
    return usable_size(static_cast<const char *>(p) - h->size) - h->size;
  return h->size - kHeaderBytes;
}

void *realloc(void *p, size_t n) {
  if (!p)
    return malloc(n);
  size_t have = usable_size(p);
  if (n <= have && headerOf(p)->cls != kShim)
    return p;
  BlockHeader *h = headerOf(p);
  if (h->cls == kLarge) {  // the top block grows in place
    Lock guard;
    ArenaState *s = state();
    uint64_t want = largeSize(n);
    if (reinterpret_cast<uintptr_t>(h) + h->size == kArenaBase + s->used &&
        s->used - h->size + want <= g_reserved) {
      s->used += want - h->size;
      h->size = want;
      return p;
    }
  }
  void *q = malloc(n);
  if (!q)
    return nullptr;
  memcpy(q, p, have < n ? have : n);
  release(p);
  return q;
}

void free(void *p) {
  if (p)
    release(p);
}

void *aligned(size_t align, size_t n) {
  if (align <= kHeaderBytes)
    return malloc(n);
  char *raw = static_cast<char *>(malloc(n + align + kHeaderBytes));
  if (!raw)
    return nullptr;
  uintptr_t a = (reinterpret_cast<uintptr_t>(raw) + kHeaderBytes + align - 1) & ~(align - 1);
  char *user = reinterpret_cast<char *>(a);
  *headerOf(user) = {kShim, kTag, uint64_t(user - raw)};
  return user;
}

}  // namespace autockpt::arena
