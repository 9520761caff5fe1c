// The heap's part of an image (see heap_image.h).
#include "heap_image.h"

#include <algorithm>
#include <cstdlib>
#include <unistd.h>
#include <vector>

#include "arena.h"
#include "registry.h"

namespace autockpt {

using image::HeapExtent;
using image::SectionKind;

constexpr uint64_t kAddressSpace = 1ull << 47;  // no extent of a heap lies beyond

// Below this many bytes the heap is saved to the byte (16), above it to the page, so that a
// restart can read it with O_DIRECT (the reader's parallel path starts at 32 MiB).
constexpr uint64_t kFineBelow = 16 << 20;

// The whole pages of the blocks that nosave pointers point to (docs/design.md C3), as offsets
// from the arena's base, sorted: they are zero after a restart.
std::vector<arena::Extent> nosave_holes() {
  std::vector<arena::Extent> holes;
  for (void *const *p : registry::nosave_pointers()) {
    const char *v = static_cast<const char *>(*p);
    uint64_t n = arena::block_bytes_from(v);
    if (!n)
      continue;
    uint64_t from = (uint64_t(v - reinterpret_cast<const char *>(arena::base())) + 4095) & ~4095ull;
    uint64_t to = (uint64_t(v - reinterpret_cast<const char *>(arena::base())) + n) & ~4095ull;
    if (to > from)
      holes.push_back({from, to - from});
  }
  std::sort(holes.begin(), holes.end(),
            [](const arena::Extent &a, const arena::Extent &b) { return a.offset < b.offset; });
  return holes;
}

// The extents less the holes (both sorted; holes may overlap one another).
std::vector<arena::Extent> subtract(const std::vector<arena::Extent> &extents,
                                    const std::vector<arena::Extent> &holes) {
  if (holes.empty())
    return extents;
  std::vector<arena::Extent> out;
  for (arena::Extent e : extents) {
    uint64_t at = e.offset, end = e.offset + e.length;
    for (const arena::Extent &h : holes) {
      uint64_t hb = h.offset, he = h.offset + h.length;
      if (he <= at || hb >= end)
        continue;
      if (hb > at)
        out.push_back({at, hb - at});
      at = std::max(at, he);
    }
    if (end > at)
      out.push_back({at, end - at});
  }
  return out;
}

// zstd's level under AUTOCKPT_COMPRESS=zstd (R23).
constexpr int kZstdLevel = 1;
// AUTOCKPT__ZSTD_LEVEL, for measuring other levels (bench/run.py --zstd-levels); read before
// main, which drops internal variables from the environment.
const int g_level = [] {
  const char *l = getenv("AUTOCKPT__ZSTD_LEVEL");
  return l ? atoi(l) : 0;
}();

void set_compression(image::ImageWriter *w, Compress compress) {
  if (compress != Compress::Zstd)
    return;
  int level = g_level ? g_level : kZstdLevel;
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  w->set_compression(level, int(cpus < 1 ? 1 : cpus > 8 ? 8 : cpus));
}

Status write_heap(image::ImageWriter *w) {
  std::vector<arena::Extent> holes = nosave_holes();
  std::vector<arena::Extent> extents = subtract(arena::saved_extents(), holes);
  uint64_t total = 0;
  for (const arena::Extent &e : extents)
    total += e.length;
  if (total < kFineBelow)
    extents = subtract(arena::saved_extents(16), holes);
  std::vector<HeapExtent> records;
  std::vector<image::Piece> pieces;
  for (const arena::Extent &e : extents) {
    records.push_back({e.offset, e.length});
    pieces.push_back({reinterpret_cast<const void *>(arena::base() + e.offset), e.length});
  }
  if (Status s = w->add_section(SectionKind::HeapExtents,
                                image::encode_heap_extents(records.data(), records.size()));
      !s)
    return s;
  return w->add_section(SectionKind::Heap, pieces);
}

Status read_heap(const image::ImageReader &r) {
  std::string bytes;
  if (Status s = r.read_section(SectionKind::HeapExtents, &bytes); !s)
    return s;
  std::vector<HeapExtent> extents;
  std::string error;
  if (!image::decode_heap_extents(bytes, kAddressSpace, r.raw_size(SectionKind::Heap), &extents,
                                  &error))
    return Status::error(r.path() + " is corrupt: " + error);
  const uint64_t end = extents.empty() ? 0 : extents.back().offset + extents.back().length;
  if (end > arena::reserved_bytes())
    return Status::error("the heap of " + r.path() + " reaches " +
                         std::to_string((end + (1ull << 30) - 1) >> 30) +
                         " GiB into the arena, which holds " +
                         std::to_string(arena::reserved_bytes() >> 30) +
                         " GiB here: it was written with a larger AUTOCKPT_HEAP_SIZE; set it as "
                         "large again");
  char *heap = static_cast<char *>(arena::prepare_restore(end));
  std::vector<image::Target> parts;
  for (const HeapExtent &e : extents)
    parts.push_back({heap + e.offset, e.length});
  return r.read_section(SectionKind::Heap, parts);
}

}  // namespace autockpt
