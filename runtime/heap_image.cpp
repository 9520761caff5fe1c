// The heap's part of an image (see heap_image.h).
#include "heap_image.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <unistd.h>
#include <vector>

#include "arena.h"
#include "dirty.h"
#include "log.h"
#include "registry.h"

#include <sys/mman.h>

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

using Extents = std::vector<arena::Extent>;

// Runs sorted by offset, the ones that overlap or touch merged, empty ones dropped.
Extents normalized(Extents v) {
  std::sort(v.begin(), v.end(),
            [](const arena::Extent &a, const arena::Extent &b) { return a.offset < b.offset; });
  Extents out;
  for (const arena::Extent &e : v) {
    if (!e.length)
      continue;
    if (!out.empty() && e.offset <= out.back().offset + out.back().length)
      out.back().length = std::max(out.back().offset + out.back().length, e.offset + e.length) -
                          out.back().offset;
    else
      out.push_back(e);
  }
  return out;
}

// The parts of `a` inside `b`, and outside it (both sorted and disjoint).
Extents intersect(const Extents &a, const Extents &b) {
  Extents out;
  size_t j = 0;
  for (const arena::Extent &e : a) {
    const uint64_t end = e.offset + e.length;
    while (j < b.size() && b[j].offset + b[j].length <= e.offset)
      ++j;
    for (size_t k = j; k < b.size() && b[k].offset < end; ++k) {
      uint64_t from = std::max(e.offset, b[k].offset);
      uint64_t to = std::min(end, b[k].offset + b[k].length);
      if (from < to)
        out.push_back({from, to - from});
    }
  }
  return out;
}
Extents minus(const Extents &a, const Extents &b) {
  Extents out;
  size_t j = 0;
  for (const arena::Extent &e : a) {
    uint64_t at = e.offset;
    const uint64_t end = e.offset + e.length;
    while (j < b.size() && b[j].offset + b[j].length <= at)
      ++j;
    for (size_t k = j; k < b.size() && b[k].offset < end; ++k) {
      if (b[k].offset > at)
        out.push_back({at, b[k].offset - at});
      at = std::max(at, b[k].offset + b[k].length);
    }
    if (at < end)
      out.push_back({at, end - at});
  }
  return out;
}

Status write_extents(image::ImageWriter *w, const Extents &extents, const Extents *keep,
                     uint64_t *stored) {
  std::vector<HeapExtent> records;
  std::vector<image::Piece> pieces;
  uint64_t total = 0;
  for (const arena::Extent &e : extents) {
    records.push_back({e.offset, e.length});
    pieces.push_back({reinterpret_cast<const void *>(arena::base() + e.offset), e.length});
    total += e.length;
  }
  if (stored)
    *stored = total;
  if (Status s = w->add_section(SectionKind::HeapExtents,
                                image::encode_heap_extents(records.data(), records.size()));
      !s)
    return s;
  if (keep) {
    std::vector<HeapExtent> kept;
    for (const arena::Extent &e : *keep)
      kept.push_back({e.offset, e.length});
    if (Status s = w->add_section(SectionKind::HeapKeep,
                                  image::encode_heap_extents(kept.data(), kept.size()));
        !s)
      return s;
  }
  return w->add_section(SectionKind::Heap, pieces);
}

Status write_heap(image::ImageWriter *w) {
  std::vector<arena::Extent> holes = nosave_holes();
  std::vector<arena::Extent> extents = subtract(arena::saved_extents(), holes);
  uint64_t total = 0;
  for (const arena::Extent &e : extents)
    total += e.length;
  if (total < kFineBelow)
    extents = subtract(arena::saved_extents(16), holes);
  return write_extents(w, extents, nullptr, nullptr);
}

void plan_heap(uint64_t base, HeapPlan *plan) {
  // Pages left out of the previous checkpoint (nosave blocks): its image holds zeros there, so a
  // page of them that is saved now must be written whether the program changed it or not.
  static Extents *left_out = new Extents;
  static bool told;
  plan->made = true;
  Extents holes = normalized(nosave_holes());
  Extents raw = arena::saved_extents();
  plan->extents = minus(raw, holes);
  std::string why;
  std::vector<dirty::Run> runs;
  bool tracking = dirty::start(&why);
  if (tracking) {
    if (Status s = dirty::scan(raw, &runs); !s) {
      dirty::stop();
      tracking = false;
      why = "tracking the written pages failed: " + s.message();
    }
  }
  if (!tracking && !told) {
    told = true;
    log(1, "incremental checkpoints are not possible here: %s; every checkpoint is a full image",
        why.c_str());
  }
  plan->base = tracking ? base : 0;
  if (plan->base) {
    Extents written = *left_out, present;
    for (const dirty::Run &r : runs) {
      present.push_back({r.offset, r.length});
      if (r.written)
        written.push_back({r.offset, r.length});
    }
    plan->written = normalized(std::move(written));
    plan->present = normalized(std::move(present));
  }
  *left_out = std::move(holes);
}

Status write_planned_heap(image::ImageWriter *w, const HeapPlan &plan, bool incremental,
                          uint64_t *stored) {
  if (!incremental)
    return write_extents(w, plan.extents, nullptr, stored);
  Extents changed = intersect(plan.extents, plan.written);
  Extents keep = minus(intersect(plan.extents, plan.present), changed);
  return write_extents(w, changed, &keep, stored);
}

namespace {

// One image's heap as its sections say: the extents its Heap section fills, and for an
// incremental image the pages it keeps from its base.
struct HeapLayout {
  std::vector<HeapExtent> stored, keep;
  uint64_t end = 0;  // where the last of them ends
};

Status read_layout(const image::ImageReader &r, bool incremental, HeapLayout *out) {
  std::string bytes, error;
  if (Status s = r.read_section(SectionKind::HeapExtents, &bytes); !s)
    return s;
  if (!image::decode_heap_extents(bytes, kAddressSpace, r.raw_size(SectionKind::Heap),
                                  &out->stored, &error))
    return Status::error(r.path() + " is corrupt: " + error);
  if (incremental) {
    if (Status s = r.read_section(SectionKind::HeapKeep, &bytes); !s)
      return s;
    uint64_t total = 0;
    if (!image::decode_heap_runs(bytes, kAddressSpace, &out->keep, &total, &error))
      return Status::error(r.path() + " is corrupt: " + error);
    // Whole pages only, and no page both kept and stored.
    std::vector<HeapExtent> both = out->stored;
    both.insert(both.end(), out->keep.begin(), out->keep.end());
    std::sort(both.begin(), both.end(),
              [](const HeapExtent &a, const HeapExtent &b) { return a.offset < b.offset; });
    for (size_t i = 0; i < both.size(); ++i)
      if (both[i].length % 4096 || (i && both[i - 1].offset + both[i - 1].length > both[i].offset))
        return Status::error(r.path() + " is corrupt: the pages of its incremental heap are "
                             "not whole or overlap");
  }
  for (const std::vector<HeapExtent> *list : {&out->stored, &out->keep})
    if (!list->empty())
      out->end = std::max(out->end, list->back().offset + list->back().length);
  return Status::ok();
}

}  // namespace

Status read_heap(const std::vector<const image::ImageReader *> &chain, size_t *failed) {
  std::vector<HeapLayout> layouts(chain.size());
  uint64_t end = 0;
  for (size_t i = 0; i < chain.size(); ++i) {
    *failed = i;
    if (Status s = read_layout(*chain[i], i > 0, &layouts[i]); !s)
      return s;
    end = std::max(end, layouts[i].end);
  }
  const image::ImageReader &newest = *chain.back();
  if (end > arena::reserved_bytes())
    return Status::error("the heap of " + newest.path() + " reaches " +
                         std::to_string((end + (1ull << 30) - 1) >> 30) +
                         " GiB into the arena, which holds " +
                         std::to_string(arena::reserved_bytes() >> 30) +
                         " GiB here: it was written with a larger AUTOCKPT_HEAP_SIZE; set it as "
                         "large again");
  char *heap = static_cast<char *>(arena::prepare_restore(end));
  uint64_t reach = 0;  // beyond this the arena is still all zero
  for (size_t i = 0; i < chain.size(); ++i) {
    *failed = i;
    const HeapLayout &l = layouts[i];
    if (i > 0) {  // every page neither kept nor stored becomes zero
      std::vector<HeapExtent> both = l.stored;
      both.insert(both.end(), l.keep.begin(), l.keep.end());
      std::sort(both.begin(), both.end(),
                [](const HeapExtent &a, const HeapExtent &b) { return a.offset < b.offset; });
      uint64_t at = 0;
      auto zero = [heap](uint64_t from, uint64_t to) {
        if (from < to)
          madvise(heap + from, to - from, MADV_DONTNEED);
      };
      for (const HeapExtent &e : both) {
        if (e.offset >= reach)
          break;
        zero(at, e.offset);
        at = e.offset + e.length;
      }
      zero(at, reach);
    }
    const uint64_t total = chain[i]->raw_size(SectionKind::Heap);
    if (i > 0 && l.stored.size() > 16 && total / l.stored.size() < (256 << 10)) {
      // Many small runs (an incremental image's scattered pages): one large read into a
      // buffer and copies, rather than a read per page.
      std::unique_ptr<char[]> buffer(new char[total]);
      if (Status s = chain[i]->read_section(SectionKind::Heap, buffer.get(), total); !s)
        return s;
      uint64_t at = 0;
      for (const HeapExtent &e : l.stored) {
        memcpy(heap + e.offset, buffer.get() + at, e.length);
        at += e.length;
      }
    } else {
      std::vector<image::Target> parts;
      for (const HeapExtent &e : l.stored)
        parts.push_back({heap + e.offset, e.length});
      if (Status s = chain[i]->read_section(SectionKind::Heap, parts); !s)
        return s;
    }
    if (!l.stored.empty())
      reach = std::max(reach, (l.stored.back().offset + l.stored.back().length + 4095) & ~uint64_t(4095));
  }
  return Status::ok();
}

}  // namespace autockpt
