// zlib's streams (docs/design.md R20).  A z_stream's state is allocated by zlib, through the
// stream's zalloc, or malloc in the system heap when the program leaves it null (most do): a
// stream open at a checkpoint would point into memory a restart does not have.  The pass
// redirects the init calls of instrumented code here; a stream without an allocator of the
// program's gets the arena's, so all of its state is saved and restored with the heap (zlib's
// state holds no pointer into the library).  Linked in only by programs that call these.
#include "autockpt/abi.h"

#include <zlib.h>

namespace {

voidpf arena_zalloc(voidpf, uInt items, uInt size) { return __autockpt_calloc(items, size); }
void arena_zfree(voidpf, voidpf p) { __autockpt_free(p); }

void use_arena(z_streamp strm) {
  if (strm && !strm->zalloc && !strm->zfree) {
    strm->zalloc = arena_zalloc;
    strm->zfree = arena_zfree;
  }
}

}  // namespace

extern "C" {

int __autockpt_deflateInit_(z_streamp strm, int level, const char *version, int stream_size) {
  use_arena(strm);
  return deflateInit_(strm, level, version, stream_size);
}

int __autockpt_deflateInit2_(z_streamp strm, int level, int method, int window_bits, int mem_level,
                             int strategy, const char *version, int stream_size) {
  use_arena(strm);
  return deflateInit2_(strm, level, method, window_bits, mem_level, strategy, version, stream_size);
}

int __autockpt_inflateInit_(z_streamp strm, const char *version, int stream_size) {
  use_arena(strm);
  return inflateInit_(strm, version, stream_size);
}

int __autockpt_inflateInit2_(z_streamp strm, int window_bits, const char *version,
                             int stream_size) {
  use_arena(strm);
  return inflateInit2_(strm, window_bits, version, stream_size);
}

int __autockpt_inflateBackInit_(z_streamp strm, int window_bits, unsigned char *window,
                                const char *version, int stream_size) {
  use_arena(strm);
  return inflateBackInit_(strm, window_bits, window, version, stream_size);
}

}  // extern "C"
