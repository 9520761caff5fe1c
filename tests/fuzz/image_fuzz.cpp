// libFuzzer target on what a restart reads from disk: the image reader (header, section table,
// sections, checksums) and the metadata archive (Boost.Serialization through BoundedIArchive).
//
// An input that starts with the image magic is read as an image twice: as it is, and with its
// checksums recomputed (header, table, and every section that lies inside the file), so that
// mutations reach the table and metadata checks behind them.  Any other input is decoded as a
// Meta section.  Nothing may crash, leak or read out of bounds, whatever the bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>

#include <xxhash.h>

#include "image/format.h"
#include "image/meta.h"
#include "image/reader.h"

namespace {

using namespace autockpt::image;

// One in-memory file, rewritten for every input: the reader opens it by path.
const std::string &scratch_path() {
  static const std::string path = [] {
    int fd = ::memfd_create("image_fuzz", 0);
    if (fd < 0) std::abort();
    return "/proc/self/fd/" + std::to_string(fd);
  }();
  return path;
}

void store(const std::string &bytes) {
  const int fd = std::atoi(scratch_path().c_str() + std::strlen("/proc/self/fd/"));
  if (::ftruncate(fd, 0) != 0 ||
      ::pwrite(fd, bytes.data(), bytes.size(), 0) != ssize_t(bytes.size())) {
    std::abort();
  }
}

// Opens, verifies and reads every section and the metadata, as a restart and `verify` do.
void read_image(const std::string &bytes) {
  store(bytes);
  std::unique_ptr<ImageReader> reader;
  if (!ImageReader::open(scratch_path(), &reader)) return;
  (void)reader->build_id_hex();
  (void)reader->verify();
  for (const SectionEntry &e : reader->sections()) {
    std::string section;
    (void)reader->read_section(static_cast<SectionKind>(e.kind), &section);
  }
  ImageMeta meta;
  (void)reader->read_meta(&meta);
}

// The same bytes with every checksum made to hold, where the layout allows it.
std::string with_checksums(std::string bytes) {
  if (bytes.size() < sizeof(FileHeader)) return bytes;
  FileHeader h;
  std::memcpy(&h, bytes.data(), sizeof h);
  const uint64_t count = h.section_count;
  if (count <= kMaxSections && h.section_table_offset <= bytes.size() &&
      count * sizeof(SectionEntry) <= bytes.size() - h.section_table_offset) {
    std::vector<SectionEntry> table(count);
    std::memcpy(table.data(), bytes.data() + h.section_table_offset, count * sizeof(SectionEntry));
    for (SectionEntry &e : table) {
      if (e.offset <= bytes.size() && e.stored_length <= bytes.size() - e.offset) {
        e.checksum = XXH3_64bits(bytes.data() + e.offset, e.stored_length);
      }
    }
    std::memcpy(bytes.data() + h.section_table_offset, table.data(), count * sizeof(SectionEntry));
    h.section_table_checksum = compute_table_checksum(table.data(), uint32_t(count));
  }
  h.header_checksum = compute_header_checksum(h);
  std::memcpy(bytes.data(), &h, sizeof h);
  return bytes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string bytes(reinterpret_cast<const char *>(data), size);
  if (size >= sizeof kMagic && std::memcmp(data, kMagic, sizeof kMagic) == 0) {
    read_image(bytes);
    read_image(with_checksums(bytes));
  } else {
    ImageMeta meta;
    (void)decode_meta(bytes, &meta);
  }
  return 0;
}
