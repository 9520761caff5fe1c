// The arena allocator (design R8, R22).  Small blocks (up to 256 KiB) carry no header: they come
// from spans, runs of pages that each hold blocks of one of 56 size classes, and the class of a
// block is read from the page map, one 32-bit entry per page of the heap kept inside the arena
// (the class, and how many pages into its span the page lies), at the top of the reservation.  Each span keeps its own LIFO
// free list and a count of blocks in use; a span whose last block is freed goes back to the
// page pool unless it is the only one of its class with room.  Large blocks are page-granular
// runs with a 16-byte header, sized so that two large arrays are never a power of two apart
// (the prototype lost 2x to cache aliasing).  Runs come from a first-fit list of free runs or
// from a bump pointer; free runs are zero (MADV_DONTNEED) but for their 24-byte header.  All
// state lives in the arena: its first page, the page map, span headers and run headers.
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

constexpr uint64_t kMagic = 0x32414e4552414b41ull;  // "AKARENA2"
constexpr uint32_t kTag = 0xa11c;
constexpr uint64_t kPage = 4096;
constexpr unsigned kPageShift = 12;
constexpr uint64_t kHeaderBytes = 16;  // before a large block's pointer, or an aligned one in it
constexpr unsigned kSmallClasses = 56;
constexpr uint64_t kSmallMax = 256 << 10;  // the largest small block
constexpr uint64_t kSpanHeader = 64;
constexpr uint64_t kSplitFrom = 16 * kPage;  // a free run's smaller leftover stays with it
constexpr uint32_t kLarge = 0xfff0, kShim = 0xfff1, kFreeRun = 0xfff2;
constexpr unsigned kRoots = 8;

struct BlockHeader {  // at the start of a large block or a free run, or before a shim pointer
  uint32_t cls;       // kLarge, kShim (an aligned pointer inside a large block), or kFreeRun
  uint32_t tag;
  uint64_t size;      // run bytes, or the distance back to the large block's pointer (shim)
};
static_assert(sizeof(BlockHeader) == kHeaderBytes);

struct FreeRun {
  BlockHeader h;
  FreeRun *next;
};

struct Span {     // at the start of a run of pages holding small blocks of one class
  void *free;     // LIFO list of freed blocks
  char *fresh;    // blocks from here to `end` were never handed out: they are zero
  char *end;
  Span *next, *prev;  // the class's spans with room
  uint32_t used, cls;
  uint64_t run;       // bytes of the run
  uint32_t size;      // block bytes
  uint32_t aligned;   // an aligned allocation handed out a pointer inside a block
};
static_assert(sizeof(Span) <= kSpanHeader);

struct ArenaState {  // at kArenaBase
  uint64_t magic;
  uint64_t used;  // bytes in use from the base; beyond it all is zero
  std::atomic<uint32_t> lock;
  uint32_t pad;
  uint64_t heap;   // the first page of runs (the second of the arena)
  uint64_t limit;  // the end of what the page map covers
  uint32_t *map;   // the page map: one entry per page from `heap` on, at the top of the arena
  Span *spans[kSmallClasses];  // per class, the spans with room (a free block or fresh ones)
  FreeRun *free_runs;
  void *roots[kRoots];  // the runtime's own saved state (see arena::root)
};
static_assert(sizeof(ArenaState) <= kPage);

uint64_t g_reserved = 0;

ArenaState *state() { return reinterpret_cast<ArenaState *>(kArenaBase); }
uint32_t *pageMap() { return state()->map; }

class Lock {
 public:
  Lock() {
    while (state()->lock.exchange(1, std::memory_order_acquire))
      while (state()->lock.load(std::memory_order_relaxed))
        __builtin_ia32_pause();
  }
  ~Lock() { state()->lock.store(0, std::memory_order_release); }
};

// Block bytes -> class index; class index -> block bytes.  16..256 in steps of 16, then four
// classes per power of two.
inline unsigned classOf(uint64_t n) {
  if (n <= 256)
    return n <= 16 ? 0 : unsigned((n + 15) / 16 - 1);
  unsigned p = 63 - __builtin_clzll(n - 1);
  return 16 + (p - 8) * 4 + unsigned(((n - 1) >> (p - 2)) - 4);
}
inline uint64_t classSize(unsigned c) {
  if (c < 16)
    return (uint64_t(c) + 1) * 16;
  unsigned p = 8 + (c - 16) / 4;
  return (uint64_t((c - 16) % 4) + 5) << (p - 2);
}
// At least 16 pages and 4 blocks per span.
inline uint64_t spanBytes(unsigned c) {
  uint64_t b = kSpanHeader + 4 * classSize(c);
  b = (b + kPage - 1) & ~(kPage - 1);
  return b < 16 * kPage ? 16 * kPage : b;
}

inline uint64_t limit() {
  uint64_t l = state()->limit, r = kArenaBase + g_reserved;
  return l < r ? l : r;
}

// The span a small block's address lies in, or null when the page holds no small blocks.
inline Span *spanOf(const void *p) {
  uintptr_t a = reinterpret_cast<uintptr_t>(p);
  ArenaState *s = state();
  if (a < s->heap || a >= kArenaBase + s->used)
    return nullptr;
  uint32_t e = pageMap()[(a - s->heap) >> kPageShift];
  if (!(e & 0xff))
    return nullptr;
  return reinterpret_cast<Span *>((a & ~(kPage - 1)) - uint64_t(e >> 8) * kPage);
}

// The block of `sp` that holds `p` (a pointer inside it when it came from aligned()).
inline char *blockOf(Span *sp, const void *p) {
  char *b = const_cast<char *>(static_cast<const char *>(p));
  if (!sp->aligned)
    return b;
  char *first = reinterpret_cast<char *>(sp) + kSpanHeader;
  return first + uint64_t(b - first) / sp->size * sp->size;
}

inline BlockHeader *headerOf(const void *p) {
  return reinterpret_cast<BlockHeader *>(const_cast<char *>(static_cast<const char *>(p)) -
                                         kHeaderBytes);
}

// A run of at least `bytes` (a multiple of kPage); *got is its size.  The run is zero.  Caller
// holds the lock.
char *takeRun(uint64_t bytes, uint64_t *got) {
  ArenaState *s = state();
  for (FreeRun **pp = &s->free_runs; *pp; pp = &(*pp)->next) {
    FreeRun *f = *pp;
    uint64_t size = f->h.size;
    if (size < bytes)
      continue;
    *pp = f->next;
    if (size - bytes >= kSplitFrom) {  // split: the tail goes back to the list
      auto *rest = reinterpret_cast<FreeRun *>(reinterpret_cast<char *>(f) + bytes);
      rest->h = {kFreeRun, kTag, size - bytes};
      rest->next = s->free_runs;
      s->free_runs = rest;
      size = bytes;
    }
    memset(static_cast<void *>(f), 0, sizeof *f);
    *got = size;
    return reinterpret_cast<char *>(f);
  }
  if (s->used + bytes > limit() - kArenaBase)
    return nullptr;
  char *b = reinterpret_cast<char *>(kArenaBase + s->used);
  s->used += bytes;
  *got = bytes;
  return b;
}

// Gives a run's pages back to the system; at the top of the arena, lowers the bump pointer.
void releaseRun(char *b, uint64_t size) {
  ArenaState *s = state();
  madvise(b, size, MADV_DONTNEED);
  if (reinterpret_cast<uintptr_t>(b) + size == kArenaBase + s->used) {
    s->used -= size;
    return;
  }
  auto *f = reinterpret_cast<FreeRun *>(b);
  f->h = {kFreeRun, kTag, size};
  f->next = s->free_runs;
  s->free_runs = f;
}

void setMap(char *run, uint64_t bytes, uint32_t cls_plus_one) {
  uint32_t *m = pageMap() + ((reinterpret_cast<uintptr_t>(run) - state()->heap) >> kPageShift);
  for (uint64_t i = 0; i < bytes / kPage; ++i)
    m[i] = cls_plus_one ? (cls_plus_one | uint32_t(i << 8)) : 0;
}

inline bool hasRoom(const Span *sp) { return sp->free || sp->fresh + sp->size <= sp->end; }

inline void unlink(Span *sp) {
  if (sp->prev)
    sp->prev->next = sp->next;
  else
    state()->spans[sp->cls] = sp->next;
  if (sp->next)
    sp->next->prev = sp->prev;
  sp->next = sp->prev = nullptr;
}

inline void push(Span *sp) {
  Span *&head = state()->spans[sp->cls];
  sp->prev = nullptr;
  sp->next = head;
  if (head)
    head->prev = sp;
  head = sp;
}

Span *newSpan(unsigned c) {
  uint64_t want = spanBytes(c), got;
  char *r = takeRun(want, &got);
  if (!r)
    return nullptr;
  auto *sp = reinterpret_cast<Span *>(r);
  uint64_t size = classSize(c);
  sp->cls = c;
  sp->size = uint32_t(size);
  sp->run = got;
  sp->fresh = r + kSpanHeader;
  sp->end = sp->fresh + (want - kSpanHeader) / size * size;
  setMap(r, got, c + 1);
  push(sp);
  return sp;
}

// A block of class c; *fresh tells whether it is known to be zero.  Caller holds the lock.
inline char *allocSmall(unsigned c, bool *fresh) {
  Span *sp = state()->spans[c];
  if (!sp && !(sp = newSpan(c)))
    return nullptr;
  char *b;
  if (sp->free) {
    b = static_cast<char *>(sp->free);
    sp->free = *reinterpret_cast<void **>(b);
    *reinterpret_cast<void **>(b) = nullptr;
    *fresh = false;
  } else {
    b = sp->fresh;
    sp->fresh += sp->size;
    *fresh = true;
  }
  ++sp->used;
  if (!hasRoom(sp))
    unlink(sp);
  return b;
}

uint64_t largeSize(uint64_t n) {
  // Page-rounded plus one page: consecutive large blocks are never 2^k apart.
  return ((n + kHeaderBytes + kPage - 1) & ~(kPage - 1)) + kPage;
}

// Returns a block for n bytes; *fresh tells whether it is known to be zero.
void *allocate(size_t n, bool *fresh) {
  if (n <= kSmallMax) {
    Lock guard;
    return allocSmall(classOf(n), fresh);
  }
  if (n > (uint64_t(1) << 62))
    return nullptr;
  Lock guard;
  uint64_t got;
  char *b = takeRun(largeSize(n), &got);
  if (!b)
    return nullptr;
  *reinterpret_cast<BlockHeader *>(b) = {kLarge, kTag, got};
  *fresh = true;
  return b + kHeaderBytes;
}

void releaseSmall(Span *sp, const void *p) {
  ArenaState *s = state();
  char *b = blockOf(sp, p);
  if (sp->used == 0)
    fatal("free(%p): a block of an empty span (double free or heap corruption?)", p);
  bool had_room = hasRoom(sp);
  *reinterpret_cast<void **>(b) = sp->free;
  sp->free = b;
  if (--sp->used == 0) {
    // Kept while the class has fewer than `keep` other spans with room (four of the smallest
    // spans, one of the larger), so that blocks allocated and freed over and over do not give
    // pages back and fault them in again each time: with only one kept, std::map churn
    // (bench/ alloc_cxx) spent 23% of its time in the kernel (madvise and page faults, 1270
    // releases a run) and ran 1.4-1.65 times glibc's time; with four, 0.96 (R8).
    const unsigned keep = sp->run <= 16 * kPage ? 4 : 1;
    unsigned with_room = 0;
    for (Span *o = s->spans[sp->cls]; o && with_room < keep; o = o->next)
      with_room += o != sp;
    if (with_room >= keep) {
      if (had_room)
        unlink(sp);
      setMap(reinterpret_cast<char *>(sp), sp->run, 0);
      releaseRun(reinterpret_cast<char *>(sp), sp->run);
      return;
    }
  }
  if (!had_room)
    push(sp);
}

void release(void *p) {
  {
    Lock guard;
    if (Span *sp = spanOf(p))
      return releaseSmall(sp, p);
  }
  BlockHeader *h = headerOf(p);
  if (h->tag != kTag || (h->cls != kLarge && h->cls != kShim))
    fatal("free(%p): not a block of the heap (double free or heap corruption?)", p);
  if (h->cls == kShim)
    return release(reinterpret_cast<char *>(p) - h->size);
  Lock guard;
  h->tag = 0;
  releaseRun(reinterpret_cast<char *>(h), h->size);
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
  // The page map, at the top, covers every page below it: 4 bytes per 4 KiB page.
  uint64_t pages = (reserve_bytes - kPage) / (kPage + 4);
  uint64_t map_bytes = (pages * 4 + kPage - 1) & ~(kPage - 1);
  s->heap = kArenaBase + kPage;
  s->map = reinterpret_cast<uint32_t *>(kArenaBase + reserve_bytes - map_bytes);
  s->limit = s->heap + pages * kPage;
  if (s->limit > reinterpret_cast<uintptr_t>(s->map))
    s->limit = reinterpret_cast<uintptr_t>(s->map);
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

std::vector<Extent> saved_extents(uint64_t granule) {
  std::vector<Extent> out;
  if (!g_reserved)
    return out;
  auto add = [&out](uint64_t from, uint64_t to) {  // offsets from the base, page-aligned
    if (from >= to)
      return;
    if (!out.empty() && out.back().offset + out.back().length == from)
      out.back().length += to - from;
    else
      out.push_back({from, to - from});
  };
  auto up = [granule](uint64_t n) { return (n + granule - 1) / granule * granule; };
  ArenaState *s = state();
  const uint64_t heap = s->heap - kArenaBase, used = s->used;
  add(0, up(sizeof(ArenaState)));
  for (uint64_t at = heap; at < used;) {
    char *r = reinterpret_cast<char *>(kArenaBase + at);
    uint32_t e = pageMap()[(at - heap) / kPage];
    auto *h = reinterpret_cast<BlockHeader *>(r);
    uint64_t size;
    if ((e & 0xff) && (e >> 8) == 0) {  // a span: up to its last block ever handed out
      auto *sp = reinterpret_cast<Span *>(r);
      size = sp->run;
      uint64_t touched = uint64_t(sp->fresh - r);
      add(at, at + up(touched));
    } else if (h->tag == kTag && h->cls == kLarge) {
      size = h->size;
      add(at, at + size);
    } else if (h->tag == kTag && h->cls == kFreeRun) {  // only its header
      size = h->size;
      add(at, at + kPage);
    } else {  // not a run start: corrupt, so save everything that is left
      add(at, used);
      break;
    }
    if (size == 0 || size % kPage || size > used - at) {
      add(at, used);
      break;
    }
    at += size;
  }
  const uint64_t map = reinterpret_cast<uintptr_t>(s->map) - kArenaBase;
  add(map, map + up((used - heap) / kPage * 4));
  return out;
}

void *prepare_restore(uint64_t end) {
  if (end > g_reserved)
    fatal("the image's heap reaches %llu GiB into the arena, which holds %llu GiB: the image "
          "was written with a larger AUTOCKPT_HEAP_SIZE; set it as large again",
          (unsigned long long)((end + (1ull << 30) - 1) >> 30),
          (unsigned long long)(g_reserved >> 30));
  // Whatever static constructors allocated is replaced by the image's heap, which is read into
  // zero pages: what the image leaves out must read as zero.  The first page is overwritten
  // whole by the image; beyond what this process used of the arena all is zero already.
  ArenaState *s = state();
  char *base = reinterpret_cast<char *>(kArenaBase);
  if (s->used > kPage)
    madvise(base + kPage, s->used - kPage, MADV_DONTNEED);
  madvise(s->map, ((s->used - kPage) / kPage * 4 + kPage - 1) & ~(kPage - 1), MADV_DONTNEED);
  return base;
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
  if (Span *sp = spanOf(p)) {
    char *b = blockOf(sp, p);
    return size_t(b + sp->size - static_cast<const char *>(p));
  }
  BlockHeader *h = headerOf(p);
  if (h->cls == kShim)
    return usable_size(static_cast<const char *>(p) - h->size) - h->size;
  return h->size - kHeaderBytes;
}

void *realloc(void *p, size_t n) {
  if (!p)
    return malloc(n);
  size_t have = usable_size(p);
  bool small = spanOf(p) != nullptr;
  if (n <= have && (small || headerOf(p)->cls != kShim))
    return p;
  if (!small && headerOf(p)->cls == kLarge) {  // the top block grows in place
    BlockHeader *h = headerOf(p);
    Lock guard;
    ArenaState *s = state();
    uint64_t want = largeSize(n);
    if (n <= (uint64_t(1) << 62) &&
        reinterpret_cast<uintptr_t>(h) + h->size == kArenaBase + s->used &&
        s->used - h->size + want <= limit() - kArenaBase) {
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
  if (align <= 16)
    return malloc(n);
  uint64_t inner = uint64_t(n) + align - 16;  // any 16-aligned block this size holds one
  if (inner < n)
    return nullptr;
  if (inner <= kSmallMax) {
    char *b;
    {
      Lock guard;
      bool fresh;
      b = allocSmall(classOf(inner), &fresh);
      if (!b)
        return nullptr;
      spanOf(b)->aligned = 1;
    }
    return reinterpret_cast<void *>((reinterpret_cast<uintptr_t>(b) + align - 1) & ~(align - 1));
  }
  char *raw = static_cast<char *>(malloc(n + align + kHeaderBytes));
  if (!raw)
    return nullptr;
  uintptr_t a = (reinterpret_cast<uintptr_t>(raw) + kHeaderBytes + align - 1) & ~(align - 1);
  char *user = reinterpret_cast<char *>(a);
  *headerOf(user) = {kShim, kTag, uint64_t(user - raw)};
  return user;
}

uint64_t block_bytes_from(const void *p) {
  if (!contains(p))
    return 0;
  if (spanOf(p))
    return usable_size(p);
  uintptr_t a = reinterpret_cast<uintptr_t>(p);
  if (a < kArenaBase + kHeaderBytes || a >= kArenaBase + state()->used)
    return 0;
  const BlockHeader *h = headerOf(p);
  return h->tag == kTag && h->cls == kLarge ? h->size - kHeaderBytes : 0;
}

}  // namespace autockpt::arena
