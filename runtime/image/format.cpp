// The pieces of the image format that both the writer and the reader need: section names,
// header and table checksums, and the Meta section's archive codec.
#include "image/format.h"

#include <cstring>
#include <sstream>

#include "image/archive.h"
#include <xxhash.h>

#include "image/meta.h"

// The Boost class templates behind BoundedIArchive (archive.h), instantiated once, as libboost
// does for its own archives.
#include <boost/archive/impl/archive_serializer_map.ipp>
#include <boost/archive/impl/basic_binary_iarchive.ipp>
#include <boost/archive/impl/basic_binary_iprimitive.ipp>

namespace boost::archive {
template class detail::archive_serializer_map<autockpt::image::BoundedIArchive>;
template class basic_binary_iarchive<autockpt::image::BoundedIArchive>;
template class basic_binary_iprimitive<autockpt::image::BoundedIArchive, char,
                                       std::char_traits<char>>;
}  // namespace boost::archive

namespace autockpt::image {

const char *section_name(SectionKind kind) {
  switch (kind) {
    case SectionKind::Meta: return "Meta";
    case SectionKind::Globals: return "Globals";
    case SectionKind::Heap: return "Heap";
    case SectionKind::Frames: return "Frames";
    case SectionKind::Files: return "Files";
    case SectionKind::Libc: return "Libc";
    case SectionKind::Mpi: return "Mpi";
    case SectionKind::Cuda: return "Cuda";
    case SectionKind::Threads: return "Threads";
    case SectionKind::OpenMP: return "OpenMP";
    case SectionKind::Fortran: return "Fortran";
    case SectionKind::HeapExtents: return "HeapExtents";
    case SectionKind::HeapKeep: return "HeapKeep";
  }
  return "Unknown";
}

uint64_t compute_header_checksum(const FileHeader &h) {
  FileHeader copy = h;
  copy.header_checksum = 0;
  return XXH3_64bits(&copy, sizeof copy);
}

uint64_t compute_table_checksum(const SectionEntry *entries, uint32_t count) {
  return XXH3_64bits(entries, sizeof(SectionEntry) * count);
}

std::string to_hex(const void *data, uint64_t size) {
  static const char digits[] = "0123456789abcdef";
  const auto *bytes = static_cast<const unsigned char *>(data);
  std::string hex;
  hex.reserve(2 * size);
  for (uint64_t i = 0; i < size; ++i) {
    hex += digits[bytes[i] >> 4];
    hex += digits[bytes[i] & 15];
  }
  return hex;
}

std::string encode_meta(const ImageMeta &meta) { return to_archive(meta); }

Status decode_meta(const std::string &bytes, ImageMeta *out) {
  return from_archive(bytes, out, "the image's metadata");
}

std::string encode_heap_extents(const HeapExtent *extents, uint64_t count) {
  return std::string(reinterpret_cast<const char *>(extents), count * sizeof(HeapExtent));
}

bool decode_heap_extents(const std::string &bytes, uint64_t limit, uint64_t stored,
                         std::vector<HeapExtent> *out, std::string *error) {
  uint64_t total = 0;
  if (!decode_heap_runs(bytes, limit, out, &total, error)) return false;
  if (total != stored) {
    *error = "its heap extents add up to " + std::to_string(total) + " bytes, but its Heap "
             "section holds " + std::to_string(stored);
    return false;
  }
  return true;
}

bool decode_heap_runs(const std::string &bytes, uint64_t limit, std::vector<HeapExtent> *out,
                      uint64_t *total_out, std::string *error) {
  constexpr uint64_t kPage = 4096;
  out->clear();
  if (bytes.size() % sizeof(HeapExtent) != 0) {
    *error = "its heap extents take " + std::to_string(bytes.size()) +
             " bytes, not a multiple of " + std::to_string(sizeof(HeapExtent));
    return false;
  }
  out->resize(bytes.size() / sizeof(HeapExtent));
  std::memcpy(out->data(), bytes.data(), bytes.size());
  uint64_t end = 0, total = 0;
  for (size_t i = 0; i < out->size(); ++i) {
    const HeapExtent &e = (*out)[i];
    const std::string which = "heap extent " + std::to_string(i);
    if (e.offset % kPage != 0 || e.length == 0) {
      *error = which + " is not a non-empty run at a page boundary";
    } else if (e.offset < end) {
      *error = which + " overlaps or precedes the one before it";
    } else if (e.offset > limit || e.length > limit - e.offset) {
      *error = which + " lies beyond " + std::to_string(limit) + " bytes from the heap's base";
    } else {
      end = e.offset + e.length;
      total += e.length;
      continue;
    }
    return false;
  }
  *total_out = total;
  return true;
}

}  // namespace autockpt::image
