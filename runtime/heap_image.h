// The heap's part of an image (design R22): the arena's saved extents as the Heap section, and
// where each goes as the HeapExtents section.
#pragma once

#include "image/reader.h"
#include "image/writer.h"
#include "options.h"
#include "status.h"

namespace autockpt {

// AUTOCKPT_COMPRESS: which sections `w` compresses, at what level, with how many threads (R23).
void set_compression(image::ImageWriter *w, Compress compress);

Status write_heap(image::ImageWriter *w);

// Makes the arena the image's heap: zero, with the saved extents read into place.  A failure
// after the arena was touched leaves it half overwritten.
Status read_heap(const image::ImageReader &r);

}  // namespace autockpt
