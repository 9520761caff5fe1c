// `autockpt list | inspect | verify | clean`: what a person asks of a checkpoint directory.
// Reading and checking images is left to runtime/image; this file only chooses and prints.
#include "commands.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "autockpt/abi.h"
#include "image/reader.h"
#include "image/store.h"

namespace autockpt {

namespace {

using image::GenerationInfo;
using image::GenerationStore;
using image::ImageMeta;
using image::ImageReader;
namespace fs = std::filesystem;

int fail(const std::string &message) {
  std::fprintf(stderr, "autockpt: %s\n", message.c_str());
  return 1;
}

int usage(const char *text) {
  std::fprintf(stderr, "usage: autockpt %s\n", text);
  return 2;
}

std::string human_size(uint64_t bytes) {
  static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  if (bytes < 1024) return std::to_string(bytes) + " B";
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 4) {
    value /= 1024;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, "%.1f %s", value, units[unit]);
  return text;
}

int64_t now_unix_ns() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

std::string age(int64_t unix_ns) {
  const int64_t s = (now_unix_ns() - unix_ns) / 1000000000;
  if (s < 0) return "in the future";
  if (s < 60) return std::to_string(s) + " s ago";
  if (s < 3600) return std::to_string(s / 60) + " min ago";
  if (s < 2 * 86400) return std::to_string(s / 3600) + " h ago";
  return std::to_string(s / 86400) + " days ago";
}

std::string local_time(int64_t unix_ns) {
  const time_t t = unix_ns / 1000000000;
  struct tm tm;
  char text[64];
  localtime_r(&t, &tm);
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S %Z", &tm);
  return text;
}

std::string hex(uint64_t value) {
  char text[24];
  std::snprintf(text, sizeof text, "0x%" PRIx64, value);
  return text;
}

// "dir/" → "dir", so that parent and name are what a person means.
fs::path normalized(const char *arg) {
  fs::path p = fs::path(arg).lexically_normal();
  return p.has_filename() ? p : p.parent_path();
}

int check_directory(const fs::path &dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) return fail(dir.string() + " does not exist");
  if (!fs::is_directory(dir, ec)) return fail(dir.string() + " is not a directory");
  return 0;
}

// Where a saved pointer points, when that is one of the places the image knows.
std::string pointee(const ImageMeta &m, uint64_t p) {
  if (p - m.heap_base < m.heap_size) return " (heap)";
  if (p - m.stack_base < m.stack_size) return " (stack)";
  for (const image::GlobalRecord &g : m.globals) {
    if (p - g.addr >= g.size) continue;
    return " (" + g.name + (p == g.addr ? "" : " + " + std::to_string(p - g.addr)) + ")";
  }
  return "";
}

// A saved scalar as a person reads it; "" for anything else (arrays, structs, vectors).
std::string preview(const ImageMeta &m, const image::SlotRecord &s, const char *bytes) {
  char text[64];
  switch (s.kind) {
    case AUTOCKPT_SLOT_INT:
    case AUTOCKPT_SLOT_UINT: {
      if (s.size != 1 && s.size != 2 && s.size != 4 && s.size != 8) return "";
      uint64_t u = 0;
      std::memcpy(&u, bytes, s.size);  // little-endian
      const unsigned shift = 64 - 8 * unsigned(s.size);
      if (s.kind == AUTOCKPT_SLOT_UINT) {
        std::snprintf(text, sizeof text, "%" PRIu64, u);
      } else {
        std::snprintf(text, sizeof text, "%" PRId64, int64_t(u << shift) >> shift);
      }
      return text;
    }
    case AUTOCKPT_SLOT_FLOAT:
      if (s.size == sizeof(float)) {
        float f;
        std::memcpy(&f, bytes, sizeof f);
        std::snprintf(text, sizeof text, "%.9g", double(f));
      } else if (s.size == sizeof(double)) {
        double d;
        std::memcpy(&d, bytes, sizeof d);
        std::snprintf(text, sizeof text, "%.17g", d);
      } else {
        return "";
      }
      return text;
    case AUTOCKPT_SLOT_POINTER: {
      if (s.size != sizeof(uint64_t)) return "";
      uint64_t p;
      std::memcpy(&p, bytes, sizeof p);
      return p == 0 ? "null" : hex(p) + pointee(m, p);
    }
    default:
      return "";
  }
}

// The saved slots of one frame: name (or <temporary>), type, size and, for scalars, the value.
// `payload` is null when the Frames section could not be read: no values then.
void print_slots(const ImageMeta &m, const image::FrameRecord &f, const char *payload) {
  size_t name_width = 0, type_width = 0;
  std::vector<std::string> names;
  for (const image::SlotRecord &s : f.slots) {
    std::string name = s.name.empty()                      ? "<temporary>"
                       : (s.flags & AUTOCKPT_SLOT_ADDRESS_OF) ? "&" + s.name
                                                              : s.name;
    name_width = std::max(name_width, std::min<size_t>(name.size(), 24));
    type_width = std::max(type_width, std::min<size_t>(s.type.size(), 24));
    names.push_back(std::move(name));
  }
  for (size_t k = 0; k < f.slots.size(); ++k) {
    const image::SlotRecord &s = f.slots[k];
    std::string value;
    if (payload && s.offset + s.size <= f.size) value = preview(m, s, payload + s.offset);
    std::printf("       %-*s  %-*s  %10s%s%s\n", int(name_width), names[k].c_str(), int(type_width),
                s.type.c_str(), human_size(s.size).c_str(), value.empty() ? "" : "  = ",
                value.c_str());
  }
}

void print_frames(const ImageMeta &m, const std::vector<image::FrameRecord> &list,
                  const char *base, uint64_t size, const char *indent) {
  for (size_t i = 0; i < list.size(); ++i) {
    const image::FrameRecord &f = list[i];
    std::printf("%s#%zu %s (%s:%u) safe point %u, %" PRIu64 " bytes\n", indent, i,
                f.function.empty() ? "(the runtime's)" : f.function.c_str(),
                f.file.c_str(), f.line, f.spid, f.size);
    const uint64_t head = sizeof(autockpt_frame_head);
    const bool readable = base && f.offset + head + f.size <= size;
    print_slots(m, f, readable ? base + f.offset + head : nullptr);
  }
}

void print_meta(const ImageMeta &m, const std::vector<char> *frames,
                const std::string *threads = nullptr) {
  std::printf("exe         %s\n", m.exe_path.c_str());
  std::printf("reason      %s (checkpoint %" PRIu64 " of this run)\n", m.reason.c_str(),
              m.checkpoint_count);
  std::printf("process     pid %" PRId64 " on %s, rank %u of %u\n", m.pid, m.hostname.c_str(),
              m.rank, m.nranks);
  std::printf("argc        %d\n", m.argc);
  std::printf("heap        %s (%" PRIu64 " bytes) at %s\n", human_size(m.heap_size).c_str(),
              m.heap_size, hex(m.heap_base).c_str());
  std::printf("stack       %s at %s\n", human_size(m.stack_size).c_str(),
              hex(m.stack_base).c_str());
  std::printf("libraries   %zu\n", m.libraries.size());
  for (const image::LibraryRecord &l : m.libraries) {
    std::printf("  %s (build id %s) at %s\n", l.path.c_str(), l.build_id.c_str(),
                hex(l.base).c_str());
  }
  uint64_t global_bytes = 0;
  for (const image::GlobalRecord &g : m.globals) global_bytes += g.size;
  std::printf("globals     %zu, %s\n", m.globals.size(), human_size(global_bytes).c_str());
  for (const image::GlobalRecord &g : m.globals) {
    std::printf("  %s (%s) %s\n", g.name.c_str(), g.module.c_str(), human_size(g.size).c_str());
  }
  std::printf("frames      %zu, innermost first (the main thread)\n", m.frames.size());
  print_frames(m, m.frames, frames ? frames->data() : nullptr, frames ? frames->size() : 0, "  ");
  if (!m.threads.empty())
    std::printf("threads     %zu besides main, in creation order\n", m.threads.size());
  static const char *const kStatus[] = {"starting", "running", "exited, not joined yet"};
  for (const image::ThreadRecord &t : m.threads) {
    std::printf("  thread %u: %s%s, stack %s at %s, pthread_t %s, %zu frames%s\n", t.index,
                t.status < 3 ? kStatus[t.status] : "?", t.detached ? ", detached" : "",
                human_size(t.stack_size).c_str(), hex(t.stack_addr).c_str(),
                hex(t.handle).c_str(), t.frames.size(),
                t.status == 1 && t.frames.empty() ? " (had not started)" : "");
    const bool readable = threads && t.frames_offset + t.frames_size <= threads->size();
    print_frames(m, t.frames, readable ? threads->data() + t.frames_offset : nullptr,
                 t.frames_size, "    ");
  }
  std::printf("files       %zu\n", m.files.size());
  for (const image::FileRecord &f : m.files) {
    std::printf("  fd %d %s (flags %s, offset %" PRIu64 ", size %" PRIu64 ")\n", f.fd,
                f.path.c_str(), hex(uint64_t(uint32_t(f.flags))).c_str(), f.offset, f.size);
  }
}

int inspect_image(const std::string &path) {
  std::unique_ptr<ImageReader> reader;
  if (Status s = ImageReader::open(path, &reader); !s) return fail(s.message());
  const image::FileHeader &h = reader->header();
  std::printf("image       %s (%s)\n", path.c_str(), human_size(reader->file_size()).c_str());
  std::printf("build id    %s\n", reader->build_id_hex().c_str());
  std::printf("generation  %" PRIu64 "\n", h.generation);
  std::printf("created     %s (%s)\n", local_time(h.created_unix_ns).c_str(),
              age(h.created_unix_ns).c_str());
  std::printf("rank        %u\n", h.rank);
  if (h.flags & image::kImageIncremental) {
    std::printf("kind        incremental on generation %" PRIu64 " (its image's header checksum %s);"
                " %u incremental image%s since a full one\n",
                h.base_generation, hex(h.base_header_checksum).c_str(), h.chain_length,
                h.chain_length == 1 ? "" : "s");
  } else {
    std::printf("kind        full\n");
  }
  std::printf("sections\n");
  for (const image::SectionEntry &e : reader->sections()) {
    const std::string raw =
        e.flags & image::kSectionZstd ? " (zstd, " + human_size(e.raw_length) + " raw)" : "";
    std::printf("  %-8s %10s%s\n", image::section_name(static_cast<image::SectionKind>(e.kind)),
                human_size(e.stored_length).c_str(), raw.c_str());
  }
  ImageMeta meta;
  if (Status s = reader->read_meta(&meta); !s) return fail(s.message());
  // The frames' bytes, for the values of their variables; a damaged section only hides those.
  std::vector<char> frames(reader->raw_size(image::SectionKind::Frames));
  Status frames_read =
      reader->read_section(image::SectionKind::Frames, frames.data(), frames.size());
  std::string threads;  // other threads' frames, when the program started any
  Status threads_read = Status::ok();
  if (reader->has(image::SectionKind::Threads))
    threads_read = reader->read_section(image::SectionKind::Threads, &threads);
  print_meta(meta, frames_read ? &frames : nullptr, threads_read ? &threads : nullptr);
  if (!frames_read) {
    std::fprintf(stderr, "autockpt: values of saved variables not shown: %s\n",
                 frames_read.message().c_str());
  }
  return 0;
}

// The images of a gen-NNNNNN directory, sorted.
std::vector<std::string> images_in(const fs::path &dir) {
  std::vector<std::string> images;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code status;
    if (it->path().extension() == ".ackpt" && it->is_regular_file(status)) {
      images.push_back(it->path());
    }
  }
  std::sort(images.begin(), images.end());
  return images;
}

int verify_image(const std::string &path) {
  std::unique_ptr<ImageReader> reader;
  Status s = ImageReader::open(path, &reader);
  if (s) s = reader->verify();
  if (!s) return fail(s.message());
  std::printf("OK  %s\n", path.c_str());
  return 0;
}

// ", incremental on 6, 5, 4" for a generation read on top of others (R24), else "".
std::string chain_note(const std::vector<uint64_t> &chain) {
  std::string note;
  for (size_t k = 1; k < chain.size(); ++k)
    note += (k == 1 ? ", incremental on " : ", ") + std::to_string(chain[k]);
  return note;
}

int verify_generation(const GenerationStore &store, const GenerationInfo &g) {
  if (Status s = store.verify_generation(g, nullptr); !s) return fail(s.message());
  std::vector<uint64_t> chain;
  if (Status s = store.verify_chain(g, store.list(), &chain, nullptr); !s) return fail(s.message());
  std::printf("OK  %s (%zu image%s%s)\n", g.path.c_str(), g.files.size(),
              g.files.size() == 1 ? "" : "s", chain_note(chain).c_str());
  return 0;
}

int verify_directory(const fs::path &dir) {
  GenerationStore store(dir.string());
  int rc = 0;
  bool any_committed = false;
  for (const GenerationInfo &g : store.list()) {
    if (!g.committed) {
      std::printf("--  %s (incomplete, ignored)\n", g.path.c_str());
      continue;
    }
    any_committed = true;
    rc |= verify_generation(store, g);
  }
  if (!any_committed) return fail(dir.string() + " holds no committed checkpoint");
  return rc;
}

}  // namespace

int cmd_list(int argc, char **argv) {
  if (argc != 1) return usage("list <dir>");
  const fs::path dir = normalized(argv[0]);
  if (int rc = check_directory(dir)) return rc;
  GenerationStore store(dir.string());
  const std::vector<GenerationInfo> gens = store.list();
  if (gens.empty()) {
    std::printf("no checkpoints in %s\n", dir.c_str());
    return 0;
  }
  std::vector<std::string> lines;
  size_t newest = gens.size();  // the one a restart would take
  for (const GenerationInfo &g : gens) {
    char head[96];
    std::snprintf(head, sizeof head, "%s  %-10s  %10s  %-12s", fs::path(g.path).filename().c_str(),
                  g.committed ? "committed" : "incomplete", human_size(g.bytes).c_str(),
                  age(g.mtime_unix_ns).c_str());
    std::string why;
    std::vector<uint64_t> chain;
    if (!g.committed) {
      lines.push_back(head + std::string("  -"));
    } else if (store.verify_generation(g, &why) && store.verify_chain(g, gens, &chain, &why)) {
      lines.push_back(head + std::string("  valid") + chain_note(chain));
      newest = lines.size() - 1;
    } else {
      lines.push_back(head + std::string("  INVALID (") + why + ")");
    }
  }
  if (newest < lines.size()) lines[newest] += "  <- newest";
  for (const std::string &line : lines) std::printf("%s\n", line.c_str());
  return 0;
}

int cmd_inspect(int argc, char **argv) {
  if (argc != 1) return usage("inspect <image-file | gen-dir>");
  const fs::path target = normalized(argv[0]);
  std::error_code ec;
  if (!fs::is_directory(target, ec)) return inspect_image(target.string());
  const std::vector<std::string> images = images_in(target);
  if (images.empty()) {
    return fail(target.string() + " holds no images: give an image file or a gen-NNNNNN " +
                "directory (autockpt list shows them)");
  }
  int rc = 0;
  for (size_t i = 0; i < images.size(); ++i) {
    if (i > 0) std::printf("\n");
    rc |= inspect_image(images[i]);
  }
  return rc;
}

int cmd_verify(int argc, char **argv) {
  if (argc != 1) return usage("verify <image-file | gen-dir | dir>");
  const fs::path target = normalized(argv[0]);
  std::error_code ec;
  if (!fs::exists(target, ec)) return fail(target.string() + " does not exist");
  if (!fs::is_directory(target, ec)) return verify_image(target.string());
  GenerationStore parent(target.has_parent_path() ? target.parent_path().string() : ".");
  for (const GenerationInfo &g : parent.list()) {
    if (fs::path(g.path).filename() == target.filename()) return verify_generation(parent, g);
  }
  return verify_directory(target);
}

int cmd_clean(int argc, char **argv) {
  const char *const text = "clean <dir> [--keep N]";
  const char *dir_arg = nullptr;
  unsigned long keep = 0;
  for (int i = 0; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--keep" && i + 1 < argc) {
      char *end = nullptr;
      keep = std::strtoul(argv[++i], &end, 10);
      if (*argv[i] == '\0' || *end != '\0' || *argv[i] == '-') return usage(text);
    } else if (arg[0] != '-' && !dir_arg) {
      dir_arg = argv[i];
    } else {
      return usage(text);
    }
  }
  if (!dir_arg) return usage(text);
  const fs::path dir = normalized(dir_arg);
  if (int rc = check_directory(dir)) return rc;

  GenerationStore store(dir.string());
  const std::vector<GenerationInfo> before = store.list();
  if (before.empty()) {
    std::printf("no checkpoints in %s: nothing removed\n", dir.c_str());
    return 0;
  }
  int rc = 0;
  if (keep == 0) {
    for (const GenerationInfo &g : before) {
      if (Status s = store.remove(g.number); !s) rc = fail(s.message());
    }
  } else {
    store.prune(static_cast<unsigned>(keep));
  }
  const std::vector<GenerationInfo> after = store.list();
  size_t kept = 0;
  for (const GenerationInfo &g : before) {
    const bool gone = kept >= after.size() || after[kept].number != g.number;
    if (!gone) {
      ++kept;
      continue;
    }
    std::printf("removed %s (%s, %s)\n", g.path.c_str(), g.committed ? "committed" : "incomplete",
                human_size(g.bytes).c_str());
  }
  std::printf("%zu generation%s kept in %s\n", after.size(), after.size() == 1 ? "" : "s",
              dir.c_str());
  return rc;
}

}  // namespace autockpt
