// Which pages of the heap the program wrote since the previous checkpoint (docs/design.md R24):
// userfaultfd's asynchronous write protection over the arena, read and reset with the
// PAGEMAP_SCAN ioctl of /proc/self/pagemap (Linux 6.7).  What an image makes of the answer is
// heap_image.cpp's.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "arena.h"
#include "status.h"

namespace autockpt::dirty {

// Starts tracking the whole arena (the first call registers it), or says why it cannot here.
// Later calls answer at once; once tracking has failed it stays off (stop()).
bool start(std::string *why);

// Gives tracking up for the rest of the process (a scan failed: the program may have closed the
// runtime's descriptors).
void stop();

// Pages of `ranges` (offsets from the arena's base, page-aligned, sorted) that hold memory
// (present or swapped out; the shared zero page is no memory), in address order, each run marked written or not since the previous
// scan of it; pages not listed hold none and read as zero.  Every page listed is write-protected
// again, so that the next scan reports only later writes.  The program must be stopped.
struct Run {
  uint64_t offset, length;
  bool written;
};
Status scan(const std::vector<arena::Extent> &ranges, std::vector<Run> *out);

}  // namespace autockpt::dirty
