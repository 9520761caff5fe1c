// The heap's part of an image (design R22): the arena's saved extents as the Heap section, and
// where each goes as the HeapExtents section.
#pragma once

#include <vector>

#include "arena.h"
#include "image/reader.h"
#include "image/writer.h"
#include "options.h"
#include "status.h"

namespace autockpt {

// AUTOCKPT_COMPRESS: which sections `w` compresses, at what level, with how many threads (R23).
void set_compression(image::ImageWriter *w, Compress compress);

// The heap of a full image, as the arena is now.
Status write_heap(image::ImageWriter *w);

// AUTOCKPT_INCREMENTAL (R24): what the program knew of its heap when it was stopped, for its
// writer.  Offsets from the arena's base, page-granular, sorted.
struct HeapPlan {
  bool made = false;
  uint64_t base = 0;  // a generation an incremental image may build on; 0: none, a full image
  std::vector<arena::Extent> extents;  // what a full image saves (the nosave blocks left out)
  std::vector<arena::Extent> written;  // pages written since `base` was taken, or not in it
  std::vector<arena::Extent> present;  // pages that hold memory; all others are zero
};

// During the stop, as the last step before the copy is made (nothing may write the arena in
// between): fills `plan` and write-protects the heap again, so that the next plan sees only
// the pages written after this one.  `base` is the previous checkpoint of this process when it
// is committed, else 0.  Says once, at verbosity 1, when pages cannot be tracked here.
void plan_heap(uint64_t base, HeapPlan *plan);

// The heap as `plan` describes it: all its extents (a full image), or with `incremental` only
// the pages written since its base and, in HeapKeep, those the base holds.  *stored gets the
// heap bytes written.
Status write_planned_heap(image::ImageWriter *w, const HeapPlan &plan, bool incremental,
                          uint64_t *stored);

// Makes the arena the heap of the last image of `chain`: a full image first, then each
// incremental one on top of the one before (R24), with every section checked as it is read.  A
// failure after the arena was touched leaves it half overwritten; *failed says which link
// failed (an index into `chain`).
Status read_heap(const std::vector<const image::ImageReader *> &chain, size_t *failed);

}  // namespace autockpt
