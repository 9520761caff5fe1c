// Reads one image file (see reader.h): sections go straight into the caller's memory in kIoChunk
// reads and are checksummed on the way; a large section (the heap) is read by a few threads with
// O_DIRECT while the calling thread checksums it (design R15).
#include "image/reader.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <mutex>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define XXH_STATIC_LINKING_ONLY  // XXH3_state_t on the stack
#include <xxhash.h>
#include <zstd.h>

#include "image/io.h"

namespace autockpt::image {

namespace {

// A large section is read in kReadPiece pieces by kReadThreads threads, with O_DIRECT, while one
// more thread faults in the destination pages ahead of them.  Two 4 MiB reads in flight kept this
// project's virtual disk as busy as more did (one stream of direct reads was its fastest when it
// was quiet); more threads, larger pieces, or readers that fault in their own pages measured the
// same or slower (bench/README.md, "Restart").
constexpr unsigned kReadThreads = 2;
constexpr uint64_t kReadPiece = 4 << 20;
constexpr uint64_t kDirectAlign = 4096;           // what O_DIRECT asks of offsets, lengths, memory
constexpr uint64_t kParallelFrom = 4 * kIoChunk;  // smaller sections are read by the caller alone
// The most zstd expands its input: a 128 KiB block of one byte repeated takes 4 bytes.
constexpr uint64_t kZstdMaxRatio = ZSTD_BLOCKSIZE_MAX / 4;

// Opens `path` again with O_DIRECT, if the file system allows it and it is still the file open as
// `fd`; -1 otherwise.
int open_direct(const std::string &path, int fd) {
  int direct = ::open(path.c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC);
  if (direct < 0) return -1;
  struct stat a, b;
  if (::fstat(fd, &a) != 0 || ::fstat(direct, &b) != 0 || a.st_dev != b.st_dev ||
      a.st_ino != b.st_ino) {
    ::close(direct);
    return -1;
  }
  return direct;
}

// One large section read into place (design R15).  Reader threads each claim the next piece and
// read it: with O_DIRECT, from the disk straight into `dst` (no page cache filled, no copy),
// unless the page cache already holds all of it, then through the cache.  A fault-in thread
// makes the pages of the pieces not yet claimed present (MADV_POPULATE_WRITE), so that zeroing
// fresh pages, the costly part on a VM, overlaps the reads instead of delaying them; a reader
// that overtakes it faults in its own pages.  The calling thread checksums the pieces in file
// order as they arrive: the checksum is known before read_section returns and the program runs.
// The file is mapped only to ask mincore() what is cached; nothing is read through that mapping.
// Where the bytes of a section go: consecutive parts of memory, one after the other.
class Scatter {
 public:
  Scatter(const Target *parts, size_t count) : parts_(parts, parts + count) {
    uint64_t at = 0;
    for (const Target &t : parts_) {
      starts_.push_back(at);
      at += t.size;
    }
    total_ = at;
  }
  uint64_t total() const { return total_; }
  // Whether every part starts at a multiple of `align` and all but the last are multiples of it.
  bool aligned(uint64_t align) const {
    for (size_t i = 0; i < parts_.size(); ++i) {
      if (reinterpret_cast<uintptr_t>(parts_[i].data) % align != 0 ||
          (i + 1 < parts_.size() && parts_[i].size % align != 0)) {
        return false;
      }
    }
    return true;
  }
  // Calls f(memory, section offset, bytes) for the pieces of [at, at + n) of the section, in
  // order, while it returns 0; returns what it returned last.
  template <typename F>
  int each(uint64_t at, uint64_t n, F f) const {
    size_t i = size_t(std::upper_bound(starts_.begin(), starts_.end(), at) - starts_.begin());
    for (i = i ? i - 1 : 0; n > 0 && i < parts_.size(); ++i) {
      const uint64_t in = at - starts_[i];
      if (in >= parts_[i].size) continue;  // an empty part
      const uint64_t m = std::min(n, parts_[i].size - in);
      if (int err = f(static_cast<char *>(parts_[i].data) + in, at, m)) return err;
      at += m;
      n -= m;
    }
    return 0;
  }

 private:
  std::vector<Target> parts_;
  std::vector<uint64_t> starts_;
  uint64_t total_ = 0;
};

// One large section read into place (design R15).  Reader threads each claim the next piece and
// read it: with O_DIRECT, from the disk straight into place (no page cache filled, no copy),
// unless the page cache already holds all of it, then through the cache.  A fault-in thread
// makes the pages of the pieces not yet claimed present (MADV_POPULATE_WRITE), so that zeroing
// fresh pages, the costly part on a VM, overlaps the reads instead of delaying them; a reader
// that overtakes it faults in its own pages.  The calling thread checksums the pieces in file
// order as they arrive: the checksum is known before read_section returns and the program runs.
// The file is mapped only to ask mincore() what is cached; nothing is read through that mapping.
// The section may go to several places (the heap's extents, R22): `dst` says where.
class ParallelRead {
 public:
  ParallelRead(int fd, int direct_fd, const SectionEntry &entry, const Scatter &dst)
      : fd_(fd), direct_fd_(direct_fd), entry_(entry), dst_(dst),
        pieces_((entry.stored_length + kReadPiece - 1) / kReadPiece), done_(pieces_, 0) {
    page_ = uint64_t(::sysconf(_SC_PAGESIZE));
    map_len_ = (entry.stored_length + page_ - 1) / page_ * page_;
    if (entry.offset % page_ == 0) {
      void *m = ::mmap(nullptr, map_len_, PROT_READ, MAP_SHARED, fd, off_t(entry.offset));
      if (m != MAP_FAILED) map_ = static_cast<char *>(m);
    }
  }
  ~ParallelRead() {
    if (map_) ::munmap(map_, map_len_);
  }
  ParallelRead(const ParallelRead &) = delete;
  ParallelRead &operator=(const ParallelRead &) = delete;

  // Reads the section and feeds it to `hash` in order.  Returns 0 or the errno of the first
  // failed read.
  int run(XXH3_state_t *hash) {
    pthread_t threads[kReadThreads + 1];
    unsigned started = 0;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 << 10);
    sigset_t all, old;  // no signal is handled on these threads: they start with all blocked
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    for (unsigned i = 0; i < kReadThreads; ++i) {
      if (pthread_create(&threads[started], &attr, read_main, this) == 0) ++started;
    }
    if (started > 0 && pthread_create(&threads[started], &attr, fault_in_main, this) == 0) {
      ++started;
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    pthread_attr_destroy(&attr);
    if (started == 0) read_pieces();  // no thread to be had: read on this one

    int err = 0;
    for (uint64_t k = 0; k < pieces_ && !err; ++k) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        arrived_.wait(lock, [&] { return done_[k] || error_; });
        err = error_;
      }
      if (!err) {
        const uint64_t at = k * kReadPiece;
        dst_.each(at, std::min(kReadPiece, entry_.stored_length - at),
                  [hash](char *p, uint64_t, uint64_t n) {
                    XXH3_64bits_update(hash, p, n);
                    return 0;
                  });
      }
    }
    stop_.store(true);
    for (unsigned i = 0; i < started; ++i) pthread_join(threads[i], nullptr);
    return err;
  }

 private:
  static void *read_main(void *self) {
    static_cast<ParallelRead *>(self)->read_pieces();
    return nullptr;
  }
  static void *fault_in_main(void *self) {
    static_cast<ParallelRead *>(self)->fault_in();
    return nullptr;
  }

  void read_pieces() {
    for (uint64_t k; !stop_.load() && (k = next_.fetch_add(1)) < pieces_;) {
      int err = read_piece(k);
      std::lock_guard<std::mutex> lock(mu_);
      if (err && !error_) error_ = err;
      if (err) stop_.store(true);
      done_[k] = 1;
      arrived_.notify_all();
    }
  }

  // Makes the whole pages of the pieces no reader has claimed yet present, one piece at a time,
  // from the readers' front on.  Stops at the first failure (a kernel before 5.14: EINVAL).
  void fault_in() {
    for (uint64_t k = 0; !stop_.load(); ++k) {
      k = std::max(k, next_.load());
      if (k >= pieces_) return;
      const uint64_t at = k * kReadPiece;
      const uint64_t page = page_;
      int err = dst_.each(at, std::min(kReadPiece, entry_.stored_length - at),
                          [page](char *p, uint64_t, uint64_t n) {
                            const uintptr_t from = (reinterpret_cast<uintptr_t>(p) + page - 1) /
                                                   page * page;
                            const uintptr_t to = (reinterpret_cast<uintptr_t>(p) + n) / page * page;
                            return from < to && ::madvise(reinterpret_cast<void *>(from),
                                                          to - from, MADV_POPULATE_WRITE)
                                       ? 1
                                       : 0;
                          });
      if (err) return;
    }
  }

  // Whether every page of [at, at + n) of the section is in the page cache.
  bool cached(uint64_t at, uint64_t n) const {
    if (!map_) return false;
    unsigned char resident[kReadPiece / 4096 + 1];
    const uint64_t first = at / page_ * page_;
    const uint64_t pages = (at + n - first + page_ - 1) / page_;
    if (pages > sizeof resident || ::mincore(map_ + first, at + n - first, resident) != 0) {
      return false;
    }
    for (uint64_t i = 0; i < pages; ++i) {
      if (!(resident[i] & 1)) return false;
    }
    return true;
  }

  int read_piece(uint64_t k) {
    const uint64_t at = k * kReadPiece;
    const uint64_t len = std::min(kReadPiece, entry_.stored_length - at);
    const bool direct = direct_ok_.load() && !cached(at, len);
    return dst_.each(at, len, [&](char *to, uint64_t off, uint64_t left) {
      uint64_t from = entry_.offset + off;
      if (direct && (reinterpret_cast<uintptr_t>(to) | from) % kDirectAlign == 0) {
        // Whole blocks from the disk; an unaligned end goes through the page cache.
        for (uint64_t whole = left & ~(kDirectAlign - 1); whole > 0;) {
          ssize_t n = ::pread(direct_fd_, to, whole, off_t(from));
          if (n < 0 && errno == EINTR) continue;
          if (n < 0 && errno == EINVAL) {  // the file system wants another alignment
            direct_ok_.store(false);
            break;
          }
          if (n < 0) return errno;
          if (n == 0) return ENODATA;
          to += n;
          from += n;
          left -= n;
          whole -= n;
          if (n % kDirectAlign != 0) break;  // a short read off the block grid: the rest cached
        }
      }
      return pread_all(fd_, to, left, from);
    });
  }

  const int fd_, direct_fd_;
  const SectionEntry entry_;
  const Scatter &dst_;
  const uint64_t pieces_;
  char *map_ = nullptr;
  uint64_t map_len_ = 0, page_ = 4096;
  std::atomic<uint64_t> next_{0};  // the next piece to claim
  std::atomic<bool> stop_{false};
  std::atomic<bool> direct_ok_{true};
  std::mutex mu_;
  std::condition_variable arrived_;
  std::vector<unsigned char> done_;  // per piece, under mu_
  int error_ = 0;                    // the first failure, under mu_
};

}  // namespace

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
  if (version < kOldestFormatVersion || version > kFormatVersion) {
    return Status::error(path_ + " is in image format version " + std::to_string(version) +
                         ", but this autockpt reads only versions " +
                         std::to_string(kOldestFormatVersion) + " to " +
                         std::to_string(kFormatVersion) +
                         (version > kFormatVersion
                              ? ": it was written by a newer autockpt; restart with that one"
                              : ": it was written by an older autockpt, which must restart it"));
  }
  if (header_.header_size != sizeof header_ ||
      compute_header_checksum(header_) != header_.header_checksum) {
    return Status::error(path_ + " is corrupt (header checksum mismatch)");
  }
  const bool incremental = header_.flags & kImageIncremental;
  if ((header_.flags & ~kImageIncremental) != 0 || (incremental && version < 3) ||
      (incremental && (header_.base_generation == 0 ||
                       header_.base_generation >= header_.generation ||
                       header_.chain_length == 0)) ||
      (!incremental && (header_.base_generation != 0 || header_.chain_length != 0))) {
    return Status::error(path_ + " is corrupt (its header names an impossible base image)");
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
    // Buffers are sized by raw_length before a section is read: it must be the stored length,
    // or for a compressed section no more than zstd can expand it to (R23).
    const std::string name = section_name(static_cast<SectionKind>(e.kind));
    if (e.flags != 0 && e.flags != kSectionZstd) {
      return Status::error("section " + name + " of " + path_ +
                           " is stored in a way this autockpt cannot read (flags " +
                           std::to_string(e.flags) + ")");
    }
    if (e.flags == kSectionZstd) {
      if (e.raw_length / kZstdMaxRatio > e.stored_length) {
        return Status::error(path_ + " is corrupt (section " + name + " stores " +
                             std::to_string(e.stored_length) + " compressed bytes but claims " +
                             std::to_string(e.raw_length) + ")");
      }
    } else if (e.raw_length != e.stored_length) {
      return Status::error(path_ + " is corrupt (section " + name + " stores " +
                           std::to_string(e.stored_length) + " bytes but claims " +
                           std::to_string(e.raw_length) + ")");
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
  *out = e;
  return Status::ok();
}

Status ImageReader::read_checked(const SectionEntry &entry, const Target *parts, size_t count,
                                 bool reuse) const {
  XXH3_state_t hash;
  XXH3_64bits_reset(&hash);
  if (reuse) {  // parts[0] is a scratch buffer of at least kIoChunk bytes
    char *buffer = static_cast<char *>(parts[0].data);
    for (uint64_t done = 0; done < entry.stored_length;) {
      const uint64_t n = std::min(kIoChunk, entry.stored_length - done);
      if (int err = pread_all(fd_, buffer, n, entry.offset + done)) return read_error(err);
      XXH3_64bits_update(&hash, buffer, n);
      done += n;
    }
  } else if (entry.flags & kSectionZstd) {
    if (Status s = read_zstd(entry, parts, count, &hash); !s) return s;
  } else {
    const Scatter dst(parts, count);
    const bool aligned = entry.offset % kDirectAlign == 0 && dst.aligned(kDirectAlign);
    const int direct =
        aligned && entry.stored_length >= kParallelFrom ? open_direct(path_, fd_) : -1;
    if (direct >= 0) {
      int err = ParallelRead(fd_, direct, entry, dst).run(&hash);
      ::close(direct);
      if (err) return read_error(err);
    } else {
      for (uint64_t done = 0; done < entry.stored_length;) {
        const uint64_t n = std::min(kIoChunk, entry.stored_length - done);
        int err = dst.each(done, n, [&](char *p, uint64_t at, uint64_t m) {
          int e = pread_all(fd_, p, m, entry.offset + at);
          if (!e) XXH3_64bits_update(&hash, p, m);
          return e;
        });
        if (err) return read_error(err);
        done += n;
      }
    }
  }
  if (XXH3_64bits_digest(&hash) != entry.checksum) return corrupt(entry);
  return Status::ok();
}

// A compressed section (R23): read in kIoChunk pieces, checksummed, and decompressed into the
// parts one after the other.  Any zstd error, and output that does not fill the parts exactly,
// is corruption.
Status ImageReader::read_zstd(const SectionEntry &entry, const Target *parts, size_t count,
                              XXH3_state_t *hash) const {
  std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx *)> dctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
  if (!dctx) return Status::error("cannot start zstd to read " + path_ + " (out of memory)");
  std::vector<char> in(std::min(kIoChunk, entry.stored_length));
  char spill[64];  // output beyond the parts lands here, and is an error
  size_t part = 0;
  uint64_t at = 0;  // in parts[part]
  size_t left = 1;  // what zstd says is left of the frame; 0 once it is complete
  bool extra = false;
  for (uint64_t done = 0; done < entry.stored_length;) {
    const uint64_t n = std::min(kIoChunk, entry.stored_length - done);
    if (int err = pread_all(fd_, in.data(), n, entry.offset + done)) return read_error(err);
    XXH3_64bits_update(hash, in.data(), n);
    done += n;
    ZSTD_inBuffer ib{in.data(), n, 0};
    while (ib.pos < ib.size && !extra) {
      while (part < count && at == parts[part].size) ++part, at = 0;
      ZSTD_outBuffer ob = part < count
                              ? ZSTD_outBuffer{static_cast<char *>(parts[part].data) + at,
                                               parts[part].size - at, 0}
                              : ZSTD_outBuffer{spill, sizeof spill, 0};
      left = ZSTD_decompressStream(dctx.get(), &ob, &ib);
      if (ZSTD_isError(left)) return corrupt(entry);
      if (part == count && ob.pos > 0) extra = true;
      at += ob.pos;
      if (left == 0 && ib.pos < ib.size) extra = true;  // bytes after the frame
    }
  }
  while (part < count && at == parts[part].size) ++part, at = 0;
  if (extra || left != 0 || part != count) return corrupt(entry);
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
  const Target whole{dst, len};
  return read_checked(*e, &whole, 1, /*reuse=*/false);
}

Status ImageReader::read_section(SectionKind kind, const std::vector<Target> &parts) const {
  const SectionEntry *e = nullptr;
  if (Status s = find_readable(kind, &e); !s) return s;
  uint64_t len = 0;
  for (const Target &t : parts) len += t.size;
  if (len != e->raw_length) {
    return Status::error("section " + std::string(section_name(kind)) + " of " + path_ + " holds " +
                         std::to_string(e->raw_length) + " bytes, not the " + std::to_string(len) +
                         " expected");
  }
  return read_checked(*e, parts.data(), parts.size(), /*reuse=*/false);
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
    const Target buffer{scratch.data(), scratch.size()};
    if (Status s = read_checked(e, &buffer, 1, /*reuse=*/true); !s) return s;
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
