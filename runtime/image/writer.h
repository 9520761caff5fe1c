// Writes one image file: sections streamed in large aligned writes to `<path>.tmp`, then the
// section table and the header, fsync, and a rename to `<path>`.  Until commit() succeeds no file
// exists at `<path>`, and a writer that fails or is dropped removes its `.tmp`.  Which images make
// up a committed generation is left to GenerationStore (store.h).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "image/format.h"
#include "status.h"

namespace autockpt::image {

// A run of bytes to write; a section is the concatenation of its pieces.
struct Piece {
  const void *data;
  uint64_t size;
};

class ImageWriter {
 public:
  // Opens `final_path + ".tmp"` for writing (created or truncated, mode 0644).
  static Status create(const std::string &final_path, const Identity &id,
                       std::unique_ptr<ImageWriter> *out);
  ~ImageWriter();
  ImageWriter(const ImageWriter &) = delete;
  ImageWriter &operator=(const ImageWriter &) = delete;

  // Sections of kCompressFrom bytes or more added from now on are stored zstd-compressed at
  // `level` with `workers` threads besides the caller's (design R23); level 0: none.
  void set_compression(int level, int workers);
  static constexpr uint64_t kCompressFrom = 64 << 10;

  // Makes the image incremental on `base` (format 3, R24): it is read on top of that image.
  void set_base(const Base &base);

  // Appends a section of `kind` (each kind at most once).  After a failure every call returns
  // the first error again.
  Status add_section(SectionKind kind, const std::vector<Piece> &pieces);
  Status add_section(SectionKind kind, const std::string &bytes);

  // Writes the section table and the header, makes the file durable and renames it into place.
  Status commit();

  // The size of the file so far: up to the end of the last section, the whole file after commit().
  uint64_t bytes_written() const { return size_; }
  const std::string &path() const { return final_path_; }

 private:
  ImageWriter(std::string final_path, int fd, const Identity &id);
  bool has(SectionKind kind) const;
  Status check_open() const;  // the first failure, or an error once committed
  Status write_trailer();
  void discard();             // closes the file and removes the .tmp
  Status fail(Status error);  // discards; remembers and returns `error`
  Status fail_io(const char *what, const std::string &path, int err);
  // Streams `pieces` through zstd into `out`'s SectionStream (writer.cpp).
  template <typename Stream>
  Status compress(Stream *out, const std::vector<Piece> &pieces, uint64_t total);

  std::string final_path_, tmp_path_;
  int fd_;
  bool tmp_exists_ = true;
  std::vector<char> stage_;  // gathers small pieces into large writes
  FileHeader header_{};
  std::vector<SectionEntry> sections_;
  uint64_t next_offset_ = kSectionAlignment;  // where the next section starts; the header is first
  uint64_t size_ = 0;
  Status failed_;
  bool committed_ = false;
  int level_ = 0, workers_ = 0;
  void *zstd_ = nullptr;     // a ZSTD_CCtx, made at the first compressed section
  std::vector<char> zout_;   // its output buffer
};

}  // namespace autockpt::image
