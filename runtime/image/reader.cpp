// Reads one image file (see reader.h): sections go straight into the caller's memory in kIoChunk
// reads and are checksummed on the way.
#include "image/reader.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define XXH_STATIC_LINKING_ONLY  // XXH3_state_t on the stack
#include <xxhash.h>

#include "image/io.h"

namespace autockpt::image {

Status ImageReader::open(const std::string &path, std::unique_ptr<ImageReader> *out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) return Status::error(path + " does not exist");
  if (fd < 0) return Status::error("cannot open " + path + " (" + std::strerror(errno) + ")");
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::error(path + " is not a regular file, so not an autockpt image");
  }
  std::unique_ptr<ImageReader> reader(new ImageReader(path, fd, st.st_size));
  if (Status s = reader->load(); !s) return s;
  *out = std::move(reader);
  return Status::ok();
}

ImageReader::ImageReader(std::string path, int fd, uint64_t file_size)
    : path_(std::move(path)), fd_(fd), file_size_(file_size) {}

ImageReader::~ImageReader() { ::close(fd_); }

Status ImageReader::load() {
  if (file_size_ == 0) return Status::error(path_ + " is not an autockpt image (it is empty)");
  char magic[sizeof kMagic] = {};
  if (int err = pread_all(fd_, magic, std::min<uint64_t>(sizeof magic, file_size_), 0)) {
    return read_error(err);
  }
  if (std::memcmp(magic, kMagic, sizeof magic) != 0) {
    return Status::error(path_ + " is not an autockpt image (bad magic)");
  }
  if (file_size_ < sizeof header_) return truncated(sizeof header_);
  if (int err = pread_all(fd_, &header_, sizeof header_, 0)) return read_error(err);

  const uint32_t version = header_.format_version;
  if (version != kFormatVersion) {
    return Status::error(path_ + " is in image format version " + std::to_string(version) +
                         ", but this autockpt reads only version " +
                         std::to_string(kFormatVersion) +
                         (version > kFormatVersion
                              ? ": it was written by a newer autockpt; restart with that one"
                              : ": it was written by an older autockpt, which must restart it"));
  }
  if (header_.header_size != sizeof header_ ||
      compute_header_checksum(header_) != header_.header_checksum) {
    return Status::error(path_ + " is corrupt (header checksum mismatch)");
  }
  return load_table();
}

Status ImageReader::load_table() {
  const uint32_t count = header_.section_count;
  if (count > kMaxSections) {
    return Status::error(path_ + " is corrupt (it claims " + std::to_string(count) + " sections)");
  }
  const uint64_t table_bytes = sizeof(SectionEntry) * count;
  const uint64_t table_offset = header_.section_table_offset;
  if (table_offset > file_size_ || table_bytes > file_size_ - table_offset) {
    return truncated(table_offset + table_bytes);
  }
  sections_.resize(count);
  if (int err = pread_all(fd_, sections_.data(), table_bytes, table_offset)) return read_error(err);
  if (compute_table_checksum(sections_.data(), count) != header_.section_table_checksum) {
    return Status::error(path_ + " is corrupt (section table checksum mismatch)");
  }
  for (const SectionEntry &e : sections_) {
    if (e.offset > file_size_ || e.stored_length > file_size_ - e.offset) {
      return truncated(e.offset + e.stored_length);
    }
  }
  return Status::ok();
}

std::string ImageReader::build_id_hex() const {
  return to_hex(header_.build_id,
                std::min<uint64_t>(header_.build_id_len, sizeof header_.build_id));
}

const SectionEntry *ImageReader::find(SectionKind kind) const {
  for (const SectionEntry &e : sections_) {
    if (e.kind == static_cast<uint32_t>(kind)) return &e;
  }
  return nullptr;
}

uint64_t ImageReader::raw_size(SectionKind kind) const {
  const SectionEntry *e = find(kind);
  return e ? e->raw_length : 0;
}

Status ImageReader::find_readable(SectionKind kind, const SectionEntry **out) const {
  const SectionEntry *e = find(kind);
  if (!e) return Status::error(path_ + " has no " + section_name(kind) + " section");
  if (e->flags != 0) {
    return Status::error("section " + std::string(section_name(kind)) + " of " + path_ +
                         " is stored in a way this autockpt cannot read (flags " +
                         std::to_string(e->flags) + ")");
  }
  *out = e;
  return Status::ok();
}

Status ImageReader::read_checked(const SectionEntry &entry, char *buffer, bool reuse) const {
  XXH3_state_t hash;
  XXH3_64bits_reset(&hash);
  for (uint64_t done = 0; done < entry.stored_length;) {
    const uint64_t n = std::min(kIoChunk, entry.stored_length - done);
    char *dst = reuse ? buffer : buffer + done;
    if (int err = pread_all(fd_, dst, n, entry.offset + done)) return read_error(err);
    XXH3_64bits_update(&hash, dst, n);
    done += n;
  }
  if (XXH3_64bits_digest(&hash) != entry.checksum) return corrupt(entry);
  return Status::ok();
}

Status ImageReader::read_section(SectionKind kind, void *dst, uint64_t len) const {
  const SectionEntry *e = nullptr;
  if (Status s = find_readable(kind, &e); !s) return s;
  if (len != e->raw_length) {
    return Status::error("section " + std::string(section_name(kind)) + " of " + path_ + " holds " +
                         std::to_string(e->raw_length) + " bytes, not the " + std::to_string(len) +
                         " expected");
  }
  return read_checked(*e, static_cast<char *>(dst), /*reuse=*/false);
}

Status ImageReader::read_section(SectionKind kind, std::string *out) const {
  out->resize(raw_size(kind));
  return read_section(kind, out->data(), out->size());
}

Status ImageReader::read_meta(ImageMeta *out) const {
  std::string bytes;
  if (Status s = read_section(SectionKind::Meta, &bytes); !s) return s;
  if (Status s = decode_meta(bytes, out); !s) return Status::error(path_ + ": " + s.message());
  return Status::ok();
}

Status ImageReader::verify() const {
  uint64_t largest = 0;
  for (const SectionEntry &e : sections_) largest = std::max(largest, e.stored_length);
  std::vector<char> scratch(std::min(kIoChunk, largest));
  for (const SectionEntry &e : sections_) {
    if (Status s = read_checked(e, scratch.data(), /*reuse=*/true); !s) return s;
  }
  ImageMeta meta;
  return read_meta(&meta);
}

Status ImageReader::read_error(int err) const {
  if (err == ENODATA) {
    return Status::error(path_ + " ended early (did it shrink while being read?)");
  }
  return Status::error("cannot read " + path_ + " (" + std::strerror(err) + ")");
}

Status ImageReader::corrupt(const SectionEntry &entry) const {
  const char *name = section_name(static_cast<SectionKind>(entry.kind));
  return Status::error("section " + std::string(name) + " of " + path_ +
                       " is corrupt (checksum mismatch)");
}

Status ImageReader::truncated(uint64_t expected) const {
  return Status::error(path_ + " is truncated: expected " + std::to_string(expected) +
                       " bytes, found " + std::to_string(file_size_));
}

}  // namespace autockpt::image
