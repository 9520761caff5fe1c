// Reads one image file.  open() checks everything that is cheap to check (magic, version, header
// and table checksums, bounds); each section's checksum is checked as it is read.  What the
// sections mean, and whether the image suits this executable, is left to the runtime.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#define XXH_STATIC_LINKING_ONLY  // XXH3_state_t
#include <xxhash.h>

#include "image/format.h"
#include "image/meta.h"
#include "status.h"

namespace autockpt::image {

// Memory a section is read into.
struct Target {
  void *data;
  uint64_t size;
};

class ImageReader {
 public:
  static Status open(const std::string &path, std::unique_ptr<ImageReader> *out);
  ~ImageReader();
  ImageReader(const ImageReader &) = delete;
  ImageReader &operator=(const ImageReader &) = delete;

  const std::string &path() const { return path_; }
  uint64_t file_size() const { return file_size_; }
  const FileHeader &header() const { return header_; }
  std::string build_id_hex() const;
  const std::vector<SectionEntry> &sections() const { return sections_; }
  bool has(SectionKind kind) const { return find(kind) != nullptr; }
  uint64_t raw_size(SectionKind kind) const;  // 0 when absent

  // Reads the whole section into `dst`, which must hold exactly raw_size(kind) bytes (`len`),
  // and verifies its checksum before returning.  A large section read into page-aligned memory
  // (the heap into the arena) is read by several threads, with O_DIRECT where the page cache
  // does not hold it (docs/design.md R15).
  Status read_section(SectionKind kind, void *dst, uint64_t len) const;
  // The same into consecutive parts of memory, whose sizes add up to raw_size(kind).
  Status read_section(SectionKind kind, const std::vector<Target> &parts) const;
  Status read_section(SectionKind kind, std::string *out) const;
  Status read_meta(ImageMeta *out) const;

  // Checks every section's checksum and that the metadata decodes.
  Status verify() const;

 private:
  ImageReader(std::string path, int fd, uint64_t file_size);
  Status load();  // reads and checks the header and the section table
  Status load_table();
  const SectionEntry *find(SectionKind kind) const;
  Status find_readable(SectionKind kind, const SectionEntry **out) const;
  // Reads `entry` in kIoChunk reads into the consecutive `parts` (in parallel when it is large
  // and they are page-aligned), or with `reuse` over and over into the first kIoChunk bytes of
  // parts[0], and checks the checksum.
  Status read_checked(const SectionEntry &entry, const Target *parts, size_t count,
                      bool reuse) const;
  Status read_zstd(const SectionEntry &entry, const Target *parts, size_t count,
                   XXH3_state_t *hash) const;
  Status read_error(int err) const;
  Status corrupt(const SectionEntry &entry) const;
  Status truncated(uint64_t expected) const;

  std::string path_;
  int fd_;
  uint64_t file_size_;
  FileHeader header_{};
  std::vector<SectionEntry> sections_;
};

}  // namespace autockpt::image
