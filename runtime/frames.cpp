// Frame record storage: each thread touches only its own stack of records, at safe points.
#include "frames.h"

#include "autockpt/abi.h"
#include "control.h"
#include "image/meta.h"
#include "log.h"
#include "registry.h"

namespace autockpt::frames {

namespace {
Stack g_main;
thread_local Stack *t_stack;  // null: the main stack
constexpr uint64_t kHead = sizeof(autockpt_frame_head);
}  // namespace

Stack &main_stack() { return g_main; }
void set_current(Stack *s) { t_stack = s; }
Stack *current() { return t_stack ? t_stack : &g_main; }

void clear() {
  Stack &s = *current();
  s.records.clear();
  s.buffer.clear();
  s.cursor = 0;
}

void *push(uint64_t fid, uint32_t spid, uint64_t layout, uint64_t size) {
  RuntimeHeap runtime_heap;  // the records are the runtime's, not the program's heap
  std::vector<Record> &g_records = current()->records;
  std::vector<char> &g_buffer = current()->buffer;
  uint64_t off = (g_buffer.size() + 7) & ~uint64_t(7);
  g_buffer.resize(off + kHead + size);
  auto *head = reinterpret_cast<autockpt_frame_head *>(g_buffer.data() + off);
  head->spid = spid;
  head->reserved = 0;
  g_records.push_back({fid, spid, layout, off, size});
  return g_buffer.data() + off + kHead;
}

void begin_restore() { current()->cursor = current()->records.size(); }

void *pop(uint64_t fid, uint64_t layout, bool *last) {
  size_t &g_cursor = current()->cursor;
  const std::vector<Record> &g_records = current()->records;
  if (g_cursor == 0)
    fatal("re-entering the saved frames: %s was entered but no saved frame is left; the image "
          "does not match this program", registry::function_name(fid));
  const Record &r = g_records[--g_cursor];
  if (r.fid != fid)
    fatal("re-entering the saved frames: frame %zu belongs to %s, but %s was entered; the image "
          "does not match this program", g_cursor, registry::function_name(r.fid),
          registry::function_name(fid));
  if (r.layout != layout)
    fatal("re-entering the saved frames: the frame of %s was saved by a different build of "
          "it (layout differs); the image does not match this program",
          registry::function_name(fid));
  *last = g_cursor == 0;
  return current()->buffer.data() + r.offset;
}

bool restoring_done() { return current()->cursor == 0; }

void describe_slots(uint64_t fid, uint32_t spid, std::vector<image::SlotRecord> *out) {
  out->clear();
  const autockpt_function *f = registry::function(fid);
  if (!f || spid < 1 || spid > f->nsafepoints)
    return;
  const autockpt_safepoint &sp = f->safepoints[spid - 1];
  auto add = [out](const autockpt_slot &s, uint64_t base) {
    out->push_back({s.name ? s.name : "", s.type, base + s.offset, s.size, s.kind, s.flags});
  };
  for (uint32_t k = 0; k < sp.nvalues; ++k)
    add(sp.values[k], 0);
  for (uint32_t k = 0; k < f->nlocals; ++k)
    add(f->locals[k], sp.locals_offset);
}

void adopt(std::vector<Record> records, std::vector<char> buffer, Stack *s) {
  if (!s)
    s = &g_main;
  s->records = std::move(records);
  s->buffer = std::move(buffer);
  s->cursor = 0;
}

}  // namespace autockpt::frames
