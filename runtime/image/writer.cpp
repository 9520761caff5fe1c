// Writes one image file (see writer.h).  Bulk data goes from the caller's memory straight to the
// file in kIoChunk writes and is checksummed on the way; only runs of small pieces are copied,
// into a staging buffer, so that every write stays large.
#include "image/writer.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

#define XXH_STATIC_LINKING_ONLY  // XXH3_state_t on the stack
#include <xxhash.h>
#include <zstd.h>

#include "image/io.h"

namespace autockpt::image {

namespace {

constexpr uint64_t kStageSize = 1 << 20;     // the staging buffer for small pieces
constexpr uint64_t kGatherBelow = 64 << 10;  // pieces smaller than this are staged
constexpr uint64_t kZstdOut = 4 << 20;       // compressed bytes are written in pieces this large

uint64_t align_up(uint64_t n) { return (n + kSectionAlignment - 1) & ~(kSectionAlignment - 1); }

// Streams the bytes of one section to `fd` from `offset` on and checksums them.  The put and
// flush calls return 0 or the errno of a failed write.
class SectionStream {
 public:
  SectionStream(int fd, uint64_t offset, std::vector<char> *stage)
      : fd_(fd), start_(offset), at_(offset), stage_(stage) {
    XXH3_64bits_reset(&hash_);
    stage_->clear();
  }

  int put(const Piece &piece) {
    XXH3_64bits_update(&hash_, piece.data, piece.size);
    const char *bytes = static_cast<const char *>(piece.data);
    if (piece.size >= kGatherBelow) {
      if (int err = flush()) return err;
      return write(bytes, piece.size);
    }
    if (stage_->size() + piece.size > kStageSize) {
      if (int err = flush()) return err;
    }
    stage_->insert(stage_->end(), bytes, bytes + piece.size);
    return 0;
  }

  int flush() {
    int err = write(stage_->data(), stage_->size());
    stage_->clear();
    return err;
  }

  uint64_t length() const { return at_ - start_; }
  uint64_t checksum() const { return XXH3_64bits_digest(&hash_); }

 private:
  int write(const char *data, uint64_t size) {
    for (uint64_t done = 0; done < size;) {
      uint64_t n = std::min(kIoChunk, size - done);
      if (int err = pwrite_all(fd_, data + done, n, at_)) return err;
      done += n;
      at_ += n;
    }
    return 0;
  }

  int fd_;
  uint64_t start_, at_;
  std::vector<char> *stage_;
  XXH3_state_t hash_;
};

}  // namespace

Status ImageWriter::create(const std::string &final_path, const Identity &id,
                           std::unique_ptr<ImageWriter> *out) {
  if (id.build_id_bytes.size() > sizeof(FileHeader::build_id)) {
    return Status::error("a build id of " + std::to_string(id.build_id_bytes.size()) +
                         " bytes does not fit in an image header (at most 64)");
  }
  std::string tmp = final_path + ".tmp";
  int fd = ::open(tmp.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0) return io_failure("create", tmp, errno);
  out->reset(new ImageWriter(final_path, fd, id));
  return Status::ok();
}

ImageWriter::ImageWriter(std::string final_path, int fd, const Identity &id)
    : final_path_(std::move(final_path)), tmp_path_(final_path_ + ".tmp"), fd_(fd) {
  std::memcpy(header_.magic, kMagic, sizeof kMagic);
  header_.format_version = kFullFormatVersion;
  header_.header_size = sizeof(FileHeader);
  header_.build_id_len = static_cast<uint32_t>(id.build_id_bytes.size());
  std::memcpy(header_.build_id, id.build_id_bytes.data(), id.build_id_bytes.size());
  header_.rank = id.rank;
  header_.generation = id.generation;
  header_.created_unix_ns = id.created_unix_ns;
  stage_.reserve(kStageSize);
}

ImageWriter::~ImageWriter() {
  discard();
  ZSTD_freeCCtx(static_cast<ZSTD_CCtx *>(zstd_));
}

void ImageWriter::set_base(const Base &base) {
  header_.format_version = kFormatVersion;
  header_.flags |= kImageIncremental;
  header_.base_generation = base.generation;
  header_.base_header_checksum = base.header_checksum;
  header_.chain_length = base.chain_length;
}

void ImageWriter::set_compression(int level, int workers) {
  level_ = level;
  workers_ = workers;
}

template <typename Stream>
Status ImageWriter::compress(Stream *out, const std::vector<Piece> &pieces, uint64_t total) {
  auto *cctx = static_cast<ZSTD_CCtx *>(zstd_);
  if (!cctx) {
    zstd_ = cctx = ZSTD_createCCtx();
    if (!cctx) return fail(Status::error("cannot start zstd (out of memory)"));
    zout_.resize(kZstdOut);
  }
  ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level_);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 0);  // the section's XXH3 covers it
  if (workers_ > 0) ZSTD_CCtx_setParameter(cctx, ZSTD_c_nbWorkers, workers_);
  ZSTD_CCtx_setPledgedSrcSize(cctx, total);
  ZSTD_outBuffer o{zout_.data(), zout_.size(), 0};
  // Hands the output on once it is nearly full, so that writes stay large.
  auto drain = [&](bool all) -> int {
    if (o.pos == 0 || (!all && o.size - o.pos >= ZSTD_CStreamOutSize())) return 0;
    int err = out->put(Piece{zout_.data(), o.pos});
    o.pos = 0;
    return err;
  };
  for (size_t i = 0; i <= pieces.size(); ++i) {
    const bool last = i == pieces.size();
    ZSTD_inBuffer in{last ? nullptr : pieces[i].data, last ? 0 : pieces[i].size, 0};
    for (;;) {
      size_t left = ZSTD_compressStream2(cctx, &o, &in, last ? ZSTD_e_end : ZSTD_e_continue);
      if (ZSTD_isError(left)) {
        return fail(Status::error(std::string("zstd failed: ") + ZSTD_getErrorName(left)));
      }
      if (int err = drain(false)) return fail_io("write", tmp_path_, err);
      if (last ? left == 0 : in.pos == in.size) break;
    }
  }
  if (int err = drain(true)) return fail_io("write", tmp_path_, err);
  return Status::ok();
}

void ImageWriter::discard() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (tmp_exists_) ::unlink(tmp_path_.c_str());
  tmp_exists_ = false;
}

Status ImageWriter::fail(Status error) {
  discard();
  failed_ = error;
  return error;
}

Status ImageWriter::fail_io(const char *what, const std::string &path, int err) {
  return fail(io_failure(what, path, err));
}

bool ImageWriter::has(SectionKind kind) const {
  return std::any_of(sections_.begin(), sections_.end(), [kind](const SectionEntry &e) {
    return e.kind == static_cast<uint32_t>(kind);
  });
}

Status ImageWriter::check_open() const {
  if (!failed_.is_ok()) return failed_;
  if (committed_) return Status::error(final_path_ + " is already committed");
  return Status::ok();
}

Status ImageWriter::add_section(SectionKind kind, const std::vector<Piece> &pieces) {
  if (Status s = check_open(); !s) return s;
  if (has(kind)) {
    return Status::error(final_path_ + " already has a " + section_name(kind) + " section");
  }
  SectionStream stream(fd_, next_offset_, &stage_);
  uint64_t total = 0;
  for (const Piece &piece : pieces) total += piece.size;
  const bool zstd = level_ > 0 && total >= kCompressFrom;
  if (zstd) {
    if (Status s = compress(&stream, pieces, total); !s) return s;
  } else {
    for (const Piece &piece : pieces) {
      if (int err = stream.put(piece)) return fail_io("write", tmp_path_, err);
    }
  }
  if (int err = stream.flush()) return fail_io("write", tmp_path_, err);

  SectionEntry entry{};
  entry.kind = static_cast<uint32_t>(kind);
  entry.flags = zstd ? kSectionZstd : 0;
  entry.offset = next_offset_;
  entry.stored_length = stream.length();
  entry.raw_length = total;
  entry.checksum = stream.checksum();
  sections_.push_back(entry);
  if (entry.stored_length > 0) size_ = entry.offset + entry.stored_length;
  next_offset_ = align_up(entry.offset + entry.stored_length);
  return Status::ok();
}

Status ImageWriter::add_section(SectionKind kind, const std::string &bytes) {
  return add_section(kind, {Piece{bytes.data(), bytes.size()}});
}

Status ImageWriter::write_trailer() {
  const uint64_t table_bytes = sizeof(SectionEntry) * sections_.size();
  header_.section_count = static_cast<uint32_t>(sections_.size());
  header_.section_table_offset = next_offset_;
  header_.section_table_checksum = compute_table_checksum(sections_.data(), header_.section_count);
  header_.header_checksum = compute_header_checksum(header_);
  if (int err = pwrite_all(fd_, sections_.data(), table_bytes, next_offset_)) {
    return fail_io("write", tmp_path_, err);
  }
  if (int err = pwrite_all(fd_, &header_, sizeof header_, 0)) {
    return fail_io("write", tmp_path_, err);
  }
  size_ = next_offset_ + table_bytes;
  return Status::ok();
}

Status ImageWriter::commit() {
  if (Status s = check_open(); !s) return s;
  if (!has(SectionKind::Meta)) {
    return fail(Status::error(final_path_ + " has no Meta section; an image needs one"));
  }
  if (Status s = write_trailer(); !s) return s;
  if (::fsync(fd_) != 0) return fail_io("flush", tmp_path_, errno);
  int closed = ::close(fd_);
  fd_ = -1;
  if (closed != 0) return fail_io("close", tmp_path_, errno);
  if (::rename(tmp_path_.c_str(), final_path_.c_str()) != 0) {
    return fail_io("rename into place", tmp_path_, errno);
  }
  tmp_exists_ = false;
  if (int err = fsync_dir(parent_dir(final_path_))) {
    ::unlink(final_path_.c_str());
    return fail_io("sync the directory of", final_path_, err);
  }
  committed_ = true;
  return Status::ok();
}

}  // namespace autockpt::image
