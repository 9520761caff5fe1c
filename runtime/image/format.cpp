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

}  // namespace autockpt::image
