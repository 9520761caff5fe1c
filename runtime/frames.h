// The frame records of one checkpoint, one stack of them per thread: pushed innermost first
// while the thread's stack unwinds, popped outermost first while it is re-entered.  Records live
// in one growing buffer.  The functions below work on the calling thread's stack.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace autockpt::image {
struct SlotRecord;
}

namespace autockpt::frames {

struct Record {
  uint64_t fid;
  uint32_t spid;
  uint64_t layout;
  uint64_t offset;  // of the record's head (autockpt_frame_head) in the buffer
  uint64_t size;    // payload bytes
};

// One thread's records.
struct Stack {
  std::vector<Record> records;
  std::vector<char> buffer;
  size_t cursor = 0;  // records still to pop
};
Stack &main_stack();          // the thread that runs the user's main
void set_current(Stack *s);   // the calling thread's (threads/ sets it for each thread it starts)
Stack *current();

void clear();  // start of an unwind
void *push(uint64_t fid, uint32_t spid, uint64_t layout, uint64_t size);  // -> payload
// Start of re-entry: records are popped from the last pushed to the first.
void begin_restore();
// -> the record's head; the payload follows it.  Returns true in *last for the innermost.
void *pop(uint64_t fid, uint64_t layout, bool *last);
bool restoring_done();

// What each field of a record of function `fid` at safe point `spid` holds, from the module
// tables (nothing when they do not know it), for the image's metadata.
void describe_slots(uint64_t fid, uint32_t spid, std::vector<image::SlotRecord> *out);
// For reading an image: adopt records and their buffer (into `s`, by default the main stack).
void adopt(std::vector<Record> records, std::vector<char> buffer, Stack *s = nullptr);

}  // namespace autockpt::frames
