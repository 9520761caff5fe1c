// The generations of one checkpoint directory (see store.h).  Every step that changes what is
// committed is a rename or an unlink of a MANIFEST, fsynced with its directory; everything else
// only ever touches uncommitted generations.
#include "image/store.h"

#include <algorithm>
#include <cerrno>
#include <set>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <filesystem>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

#include "image/io.h"
#include "image/reader.h"

namespace autockpt::image {

namespace fs = std::filesystem;

namespace {

constexpr const char *kManifest = "MANIFEST";
constexpr uint64_t kMaxManifestBytes = 1 << 20;

struct ManifestFile {
  std::string name;
  uint64_t size = 0;
  uint64_t header_checksum = 0;
};

struct Manifest {
  uint64_t generation = 0;
  uint32_t ranks = 0;
  int64_t created_unix_ns = 0;
  std::vector<ManifestFile> files;
};

std::string format_manifest(const Manifest &m) {
  std::ostringstream out;
  out << "autockpt-manifest 1\n"
      << "generation " << m.generation << "\n"
      << "ranks " << m.ranks << "\n"
      << "created_unix_ns " << m.created_unix_ns << "\n";
  for (const ManifestFile &f : m.files) {
    out << "file " << f.name << " " << f.size << " " << std::hex << f.header_checksum << std::dec
        << "\n";
  }
  out << "end\n";
  return out.str();
}

// Whether `text` is a complete manifest: every line present, one file per rank, "end" last.
bool parse_manifest(const std::string &text, Manifest *m) {
  std::istringstream in(text);
  std::string key;
  unsigned version = 0;
  if (!(in >> key >> version) || key != "autockpt-manifest" || version != 1) return false;
  if (!(in >> key >> m->generation) || key != "generation") return false;
  if (!(in >> key >> m->ranks) || key != "ranks" || m->ranks == 0) return false;
  if (!(in >> key >> m->created_unix_ns) || key != "created_unix_ns") return false;
  for (uint32_t rank = 0; rank < m->ranks; ++rank) {
    ManifestFile f;
    if (!(in >> key >> f.name >> f.size >> std::hex >> f.header_checksum >> std::dec)) return false;
    if (key != "file" || f.name.find('/') != std::string::npos) return false;
    m->files.push_back(f);
  }
  return in >> key && key == "end" && (in >> std::ws).eof();
}

// Reads a small file whole; false when it is missing, unreadable or too large.
bool read_small_file(const std::string &path, std::string *out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  out->clear();
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0) out->append(buf, n);
    if (out->size() > kMaxManifestBytes) break;
  }
  ::close(fd);
  return n == 0;
}

// Reads the manifest of the generation in `gen_dir` and checks that it names generation `gen`.
bool load_manifest(const std::string &gen_dir, uint64_t gen, Manifest *m) {
  std::string text;
  return read_small_file(gen_dir + "/" + kManifest, &text) && parse_manifest(text, m) &&
         m->generation == gen;
}

// Writes `path` through `path.tmp`: write, fsync, rename, fsync of the directory.
Status write_file_durably(const std::string &path, const std::string &text) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0) return io_failure("create", tmp, errno);
  int err = pwrite_all(fd, text.data(), text.size(), 0);
  if (!err && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && !err) err = errno;
  if (!err && ::rename(tmp.c_str(), path.c_str()) != 0) err = errno;
  if (err) {
    ::unlink(tmp.c_str());
    return io_failure("write", path, err);
  }
  if ((err = fsync_dir(parent_dir(path)))) return io_failure("sync the directory of", path, err);
  return Status::ok();
}

// "gen-000007" → 7.  False for any other name.
bool parse_gen_name(const std::string &name, uint64_t *number) {
  const std::string prefix = "gen-";
  if (name.size() <= prefix.size() || name.size() > prefix.size() + 18 ||
      name.compare(0, prefix.size(), prefix) != 0) {
    return false;
  }
  uint64_t n = 0;
  for (size_t i = prefix.size(); i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9') return false;
    n = 10 * n + (name[i] - '0');
  }
  *number = n;
  return true;
}

int64_t mtime_ns(const std::string &path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return 0;
  return int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

int64_t now_unix_ns() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// The entries of `dir`; none when it cannot be read.  Unlike a range-for, never throws.
std::vector<fs::directory_entry> entries_of(const std::string &dir) {
  std::vector<fs::directory_entry> entries;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    entries.push_back(*it);
  }
  return entries;
}

GenerationInfo describe(const std::string &path, uint64_t number) {
  GenerationInfo info;
  info.number = number;
  info.path = path;
  for (const fs::directory_entry &e : entries_of(path)) {
    std::error_code ec;
    const uint64_t size = e.is_regular_file(ec) ? e.file_size(ec) : 0;
    if (ec) continue;
    info.bytes += size;
    if (e.path().extension() == ".ackpt") info.files.push_back(e.path().filename().string());
  }
  std::sort(info.files.begin(), info.files.end());
  Manifest m;
  info.committed = load_manifest(path, number, &m);
  info.mtime_unix_ns = mtime_ns(info.committed ? path + "/" + kManifest : path);
  return info;
}

// The reason why a committed-looking generation cannot be restarted from, or "".
std::string check_generation(const GenerationInfo &info, GenerationStore::Depth depth) {
  Manifest m;
  if (!load_manifest(info.path, info.number, &m)) {
    return "it has no complete MANIFEST (it was never committed)";
  }
  for (const ManifestFile &f : m.files) {
    const std::string path = info.path + "/" + f.name;
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return f.name + " is missing";
    if (uint64_t(st.st_size) != f.size) {
      return f.name + " has " + std::to_string(st.st_size) + " bytes, its MANIFEST says " +
             std::to_string(f.size);
    }
    std::unique_ptr<ImageReader> reader;
    if (Status s = ImageReader::open(path, &reader); !s) return s.message();
    if (reader->header().header_checksum != f.header_checksum) {
      return f.name + " is not the file its MANIFEST names (its header checksum differs)";
    }
    if (depth == GenerationStore::Depth::Contents) {
      if (Status s = reader->verify(); !s) return s.message();
    }
  }
  return "";
}

// Why a restart must not trust `path`, or "".  The checkpoint directory is followed (it may be a
// link to scratch space) and may be writable by its group (a project directory made under umask
// 002); what lies inside it is not followed, and only its owner may write it.
std::string untrusted(const std::string &path, bool follow, bool regular, bool group_ok = false) {
  struct stat st;
  if ((follow ? ::stat(path.c_str(), &st) : ::lstat(path.c_str(), &st)) != 0) {
    return path + " cannot be examined (" + std::strerror(errno) + ")";
  }
  if (regular && !S_ISREG(st.st_mode)) return path + " is not a regular file";
  if (!regular && !S_ISDIR(st.st_mode)) return path + " is not a directory";
  const uid_t me = ::geteuid();
  if (st.st_uid != me) {
    return path + " belongs to user " + std::to_string(st.st_uid) + ", not to this user (" +
           std::to_string(me) + ")";
  }
  const mode_t group = group_ok ? 0 : S_IWGRP;
  const char *who = (st.st_mode & group) && (st.st_mode & S_IWOTH) ? "its group and others"
                    : (st.st_mode & group)                         ? "its group"
                    : (st.st_mode & S_IWOTH)                         ? "others"
                                                                     : nullptr;
  if (!who) return "";
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", unsigned(st.st_mode & 07777));
  return path + " is writable by " + who + " (mode " + mode + ")";
}

}  // namespace

GenerationStore::GenerationStore(std::string dir) : dir_(std::move(dir)) {}

Status GenerationStore::prepare() {
  const std::string where = "AUTOCKPT_DIR=" + dir_;
  if (dir_.empty()) return Status::error("AUTOCKPT_DIR is empty: set it to a directory");
  for (size_t slash = dir_.find('/', 1);; slash = dir_.find('/', slash + 1)) {
    const std::string prefix = dir_.substr(0, slash);
    const mode_t mode = slash == std::string::npos ? 0700 : 0755;  // missing parents as mkdir -p
    if (::mkdir(prefix.c_str(), mode) != 0 && errno != EEXIST) {
      return Status::error(where + ": cannot create it (" + std::strerror(errno) + ")");
    }
    if (slash == std::string::npos) break;
  }
  struct stat st;
  if (::stat(dir_.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Status::error(where + " is not a directory");
  }

  const std::string probe = dir_ + "/.autockpt-probe-" + std::to_string(::getpid());
  int fd = ::open(probe.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
  int err = fd < 0 ? errno : 0;
  if (fd >= 0) {
    if (::fsync(fd) != 0) err = errno;
    ::close(fd);
    ::unlink(probe.c_str());
  }
  if (err) {
    return Status::error(where + " is not writable (" + std::strerror(err) +
                         "): choose another directory for the checkpoints");
  }
  return Status::ok();
}

std::vector<GenerationInfo> GenerationStore::list() const {
  std::vector<GenerationInfo> gens;
  for (const fs::directory_entry &e : entries_of(dir_)) {
    uint64_t number = 0;
    std::error_code ec;
    if (!parse_gen_name(e.path().filename().string(), &number)) continue;
    if (!fs::is_directory(e.symlink_status(ec))) continue;
    gens.push_back(describe(e.path().string(), number));
  }
  std::sort(gens.begin(), gens.end(),
            [](const GenerationInfo &a, const GenerationInfo &b) { return a.number < b.number; });
  return gens;
}

uint64_t GenerationStore::next_number() const {
  std::vector<GenerationInfo> gens = list();
  return gens.empty() ? 1 : gens.back().number + 1;
}

std::string GenerationStore::gen_path(uint64_t gen) const {
  char name[32];
  std::snprintf(name, sizeof name, "/gen-%06" PRIu64, gen);
  return dir_ + name;
}

std::string GenerationStore::image_path(uint64_t gen, uint32_t rank) const {
  char name[32];
  std::snprintf(name, sizeof name, "/rank-%05" PRIu32 ".ackpt", rank);
  return gen_path(gen) + name;
}

Status GenerationStore::begin(uint64_t gen, std::string *gen_dir) {
  const std::string path = gen_path(gen);
  Manifest m;
  if (load_manifest(path, gen, &m)) {
    return Status::error("generation " + std::to_string(gen) + " in " + dir_ +
                         " is already committed");
  }
  std::error_code ec;
  fs::remove_all(path, ec);
  if (ec) return io_failure("remove the leftovers in", path, ec.value());
  if (::mkdir(path.c_str(), 0700) != 0) return io_failure("create", path, errno);
  *gen_dir = path;
  return Status::ok();
}

Status GenerationStore::commit(uint64_t gen, uint32_t nranks) {
  const std::string cannot = "cannot commit generation " + std::to_string(gen) + ": ";
  Manifest m;
  m.generation = gen;
  m.ranks = nranks;
  m.created_unix_ns = now_unix_ns();
  for (uint32_t rank = 0; rank < nranks; ++rank) {
    std::unique_ptr<ImageReader> reader;
    if (Status s = ImageReader::open(image_path(gen, rank), &reader); !s) {
      return Status::error(cannot + s.message());
    }
    const FileHeader &h = reader->header();
    if (h.generation != gen || h.rank != rank) {
      return Status::error(cannot + reader->path() + " holds rank " + std::to_string(h.rank) +
                           " of generation " + std::to_string(h.generation));
    }
    const std::string &path = reader->path();
    m.files.push_back(
        {path.substr(path.find_last_of('/') + 1), reader->file_size(), h.header_checksum});
  }
  if (Status s = write_file_durably(gen_path(gen) + "/" + kManifest, format_manifest(m)); !s) {
    return Status::error(cannot + s.message());
  }
  if (int err = fsync_dir(dir_)) return io_failure("sync the directory", dir_, err);
  return Status::ok();
}

Status GenerationStore::abandon(uint64_t gen) {
  Manifest m;
  if (load_manifest(gen_path(gen), gen, &m)) {
    return Status::error("generation " + std::to_string(gen) + " in " + dir_ +
                         " is committed; only an uncommitted one can be abandoned");
  }
  return remove(gen);
}

Status GenerationStore::remove(uint64_t gen) {
  // The MANIFEST goes first, so that a kill during the removal leaves an uncommitted generation.
  const std::string path = gen_path(gen);
  const std::string manifest = path + "/" + kManifest;
  if (::unlink(manifest.c_str()) == 0) {
    if (int err = fsync_dir(path)) return io_failure("sync the directory", path, err);
  } else if (errno != ENOENT) {
    return io_failure("remove", manifest, errno);
  }
  std::error_code ec;
  fs::remove_all(path, ec);
  if (ec) return io_failure("remove", path, ec.value());
  return Status::ok();
}

std::vector<std::pair<uint64_t, bool>> GenerationStore::doomed(unsigned keep) const {
  keep = std::max(keep, 1u);
  const std::vector<GenerationInfo> gens = list();
  auto newest =
      std::find_if(gens.rbegin(), gens.rend(), [](const GenerationInfo &g) { return g.committed; });
  if (newest == gens.rend()) return {};
  std::set<uint64_t> needed;  // the newest `keep` and what they are incremental on
  unsigned kept = 0;
  for (auto g = gens.rbegin(); g != gens.rend() && kept < keep; ++g) {
    if (!g->committed) continue;
    ++kept;
    needed.insert(g->number);
    for (uint64_t base : bases_of(*g)) needed.insert(base);
  }
  std::vector<std::pair<uint64_t, bool>> out;
  for (auto g = gens.rbegin(); g != gens.rend(); ++g) {
    if (needed.count(g->number)) continue;
    if (g->committed || g->number < newest->number) out.push_back({g->number, g->committed});
  }
  return out;
}

void GenerationStore::prune(unsigned keep) {
  for (const auto &[gen, committed] : doomed(keep)) {
    (void)remove(gen);  // best effort: what stays is removed by a later prune
  }
}

uint64_t GenerationStore::retire(unsigned keep) {
  uint64_t out = 0;
  for (const auto &[gen, committed] : doomed(keep)) {
    if (out || !committed) {
      (void)remove(gen);  // older, or uncommitted (what a failed attempt or a retire left)
      continue;
    }
    // Only the MANIFEST: the generation is uncommitted from here on.  No fsync of the
    // directory: the generations kept are durable already, and a crash of the machine that lost
    // this unlink would leave a committed-looking generation with images missing, which a
    // restart finds and passes over for a newer one (it is never the newest).
    const std::string manifest = gen_path(gen) + "/" + kManifest;
    if (::unlink(manifest.c_str()) != 0 && errno != ENOENT) return 0;
    out = gen;
  }
  return out;
}

bool GenerationStore::base_of(const std::string &path, uint64_t *base) const {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return false;
  const int64_t mtime_ns = int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  auto seen = bases_seen_.find(path);
  if (seen != bases_seen_.end() && seen->second.dev == st.st_dev && seen->second.ino == st.st_ino &&
      seen->second.size == uint64_t(st.st_size) && seen->second.mtime_ns == mtime_ns) {
    *base = seen->second.base;
    return true;
  }
  std::unique_ptr<ImageReader> r;
  if (!ImageReader::open(path, &r)) return false;
  const FileHeader &h = r->header();
  *base = (h.flags & kImageIncremental) ? h.base_generation : 0;
  if (bases_seen_.size() > 4096) bases_seen_.clear();  // a bound; what is gone is read again
  bases_seen_[path] = {uint64_t(st.st_dev), uint64_t(st.st_ino), uint64_t(st.st_size), mtime_ns,
                       *base};
  return true;
}

std::vector<uint64_t> GenerationStore::bases_of(const GenerationInfo &info) const {
  std::vector<uint64_t> bases;
  for (const std::string &file : info.files) {
    uint64_t gen = info.number;
    for (;;) {
      uint64_t base = 0;
      if (!base_of(gen_path(gen) + "/" + file, &base) || !base || base >= gen) break;
      gen = base;
      if (std::find(bases.begin(), bases.end(), gen) != bases.end()) break;  // known from here
      bases.push_back(gen);
    }
  }
  return bases;
}

Status GenerationStore::verify_chain(const GenerationInfo &info,
                                     const std::vector<GenerationInfo> &gens,
                                     std::vector<uint64_t> *chain, std::string *why, Depth depth,
                                     const std::vector<uint64_t> &damaged) const {
  chain->assign(1, info.number);
  auto broken = [&](const std::string &reason) {
    if (why) *why = reason;
    return Status::error("generation " + std::to_string(info.number) + " in " + dir_ +
                         " is not valid: " + reason);
  };
  for (const std::string &file : info.files) {
    uint64_t gen = info.number;
    std::unique_ptr<ImageReader> r;
    if (Status s = ImageReader::open(info.path + "/" + file, &r); !s) return broken(s.message());
    while (r->header().flags & kImageIncremental) {
      const FileHeader h = r->header();
      const uint64_t base = h.base_generation;
      const std::string link =
          (gen == info.number ? "it is incremental on generation " + std::to_string(base)
                              : "it needs generation " + std::to_string(base) +
                                    " (the base of generation " + std::to_string(gen) + ")") +
          ", which ";
      auto b = std::find_if(gens.begin(), gens.end(),
                            [base](const GenerationInfo &g) { return g.number == base; });
      if (b == gens.end()) return broken(link + "is missing");
      if (!b->committed) return broken(link + "was never committed");
      if (std::find(damaged.begin(), damaged.end(), base) != damaged.end()) {
        return broken(link + "proved damaged when a restart read it");
      }
      if (std::find(chain->begin(), chain->end(), base) == chain->end()) {
        std::string reason;
        if (!verify_generation(*b, &reason, depth)) return broken(link + "is not valid: " + reason);
        chain->push_back(base);
      }
      if (Status s = ImageReader::open(b->path + "/" + file, &r); !s) {
        return broken(link + "cannot be read: " + s.message());
      }
      if (r->header().generation != base || r->header().header_checksum != h.base_header_checksum) {
        return broken(link + "holds another " + file + " than the one it was written on (its "
                      "header checksum differs)");
      }
      gen = base;
    }
  }
  std::sort(chain->rbegin(), chain->rend());
  return Status::ok();
}

Status GenerationStore::check_trusted(const GenerationInfo &info) const {
  std::string why = untrusted(dir_, /*follow=*/true, /*regular=*/false, /*group_ok=*/true);
  if (why.empty()) why = untrusted(info.path, false, false);
  std::vector<std::string> files = {kManifest};
  files.insert(files.end(), info.files.begin(), info.files.end());
  for (size_t k = 0; k < files.size() && why.empty(); ++k) {
    why = untrusted(info.path + "/" + files[k], false, true);
  }
  if (why.empty()) return Status::ok();
  return Status::error(
      "the checkpoint " + info.path + " cannot be trusted: " + why +
      ". A restart reads only checkpoints that no other user can have written or changed. If "
      "you trust it, make it yours (chown) and writable by you alone (chmod -R go-w " + dir_ +
      "); otherwise remove " + dir_ + ", or set AUTOCKPT_RESTART=never to start from the "
      "beginning.");
}

Status GenerationStore::verify_generation(const GenerationInfo &info, std::string *why,
                                           Depth depth) const {
  const std::string reason = check_generation(info, depth);
  if (reason.empty()) return Status::ok();
  if (why) *why = reason;
  return Status::error("generation " + std::to_string(info.number) + " in " + dir_ +
                       " is not valid: " + reason);
}

}  // namespace autockpt::image
