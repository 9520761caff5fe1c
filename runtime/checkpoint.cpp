// Checkpoint images: what goes into each section, and the checks before any byte is restored.
#include "checkpoint.h"

#include "arena.h"
#include "autockpt/abi.h"
#include "control.h"
#include "files.h"
#include "frames.h"
#include "heap_image.h"
#include "identity.h"
#include "image/reader.h"
#include "image/writer.h"
#include "layers.h"
#include "layout.h"
#include "libc_state.h"
#include "log.h"
#include "registry.h"
#include "state.h"
#include "trigger.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

namespace autockpt::checkpoint {

using namespace image;

namespace {

int64_t now_unix_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double monotonic_s() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return double(t.tv_sec) + double(t.tv_nsec) * 1e-9;
}

uint64_t monotonic_ns() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return uint64_t(t.tv_sec) * 1'000'000'000 + uint64_t(t.tv_nsec);
}

std::string hostname() {
  char buf[256] = {};
  gethostname(buf, sizeof buf - 1);
  return buf;
}

}  // namespace

void describe_frames(const frames::Stack &stack, std::vector<FrameRecord> *out) {
  for (const frames::Record &r : stack.records) {
    FrameRecord fr;
    fr.fid = r.fid;
    fr.spid = r.spid;
    fr.layout = r.layout;
    fr.offset = r.offset;
    fr.size = r.size;
    if (const autockpt_function *f = registry::function(r.fid)) {
      fr.function = f->name;
      fr.file = f->file;
      if (r.spid >= 1 && r.spid <= f->nsafepoints)
        fr.line = f->safepoints[r.spid - 1].line;
    }
    frames::describe_slots(r.fid, r.spid, &fr.slots);
    out->push_back(fr);
  }
}

namespace {

ImageMeta describe(uint64_t gen, const std::string &reason, const ProcessState &ps,
                   std::vector<Piece> *globals) {
  ImageMeta m;
  m.abi_version = AUTOCKPT_ABI_VERSION;
  m.exe_path = identity::executable_path();
  m.build_id = identity::hex(identity::executable_build_id());
  for (const identity::Library &l : identity::libraries())
    m.libraries.push_back({l.path, l.build_id, l.base});
  m.generation = gen;
  m.created_unix_ns = now_unix_ns();
  m.hostname = hostname();
  m.pid = getpid();
  m.checkpoint_count = ps.checkpoints;
  m.reason = reason;
  m.heap_base = arena::base();
  m.heap_size = arena::used_bytes();
  m.stack_base = ps.stack_base;
  m.stack_size = ps.stack_size;
  m.argc = ps.argc;
  m.argv_addr = reinterpret_cast<uintptr_t>(ps.argv);
  m.envp_addr = reinterpret_cast<uintptr_t>(ps.envp);
  uint64_t off = 0;
  for (const registry::Global &g : registry::globals()) {
    m.globals.push_back({g.module, g.name, reinterpret_cast<uintptr_t>(g.addr), g.size, off});
    globals->push_back({g.addr, g.size});
    off += g.size;
  }
  describe_frames(frames::main_stack(), &m.frames);
  return m;
}

// Whether [offset, offset + size) lies within `total` bytes.
bool within(uint64_t offset, uint64_t size, uint64_t total) {
  return offset <= total && size <= total - offset;
}

// A metadata record that points outside its section: only a forged or mis-built image has one.
Status out_of_bounds(const std::string &path, const std::string &what, const char *section) {
  return Status::error("the checkpoint " + path + " is corrupt: " + what + " lies outside its " +
                       section + " section. Remove that generation to fall back to an older "
                       "one, or set AUTOCKPT_RESTART=never to start from the beginning.");
}

// What write_image wrote: a full image, or one incremental on `base`.
struct Written {
  uint64_t bytes = 0;       // the file
  uint64_t heap_bytes = 0;  // of it, heap (known for planned heaps only)
  uint64_t base = 0;
};

// Whether the image of `snap` can be incremental on the generation its plan names (R24): that
// image is there, is the generation it should be, and its chain is shorter than FULL_EVERY asks.
bool incremental_base(const GenerationStore &store, const Snapshot &snap, unsigned full_every,
                      Base *base) {
  if (!snap.heap.made || !snap.heap.base)
    return false;
  std::unique_ptr<ImageReader> r;
  if (!ImageReader::open(store.image_path(snap.heap.base, snap.rank), &r))
    return false;
  const FileHeader &h = r->header();
  if (h.generation != snap.heap.base || h.rank != snap.rank || h.chain_length + 1 >= full_every)
    return false;
  base->generation = h.generation;
  base->header_checksum = h.header_checksum;
  base->chain_length = h.chain_length + 1;
  return true;
}

Status write_image(const GenerationStore &store, const Options &opts, const Snapshot &snap,
                   Written *out) {
  const std::string path = store.image_path(snap.gen, snap.rank);
  const ImageMeta &meta = snap.meta;
  Identity id;
  id.build_id_bytes = identity::executable_build_id().substr(0, 64);
  id.generation = snap.gen;
  id.rank = meta.rank;
  id.created_unix_ns = uint64_t(meta.created_unix_ns);
  std::unique_ptr<ImageWriter> w;
  if (Status s = ImageWriter::create(path, id, &w); !s)
    return s;
  Base base;
  const bool incremental = incremental_base(store, snap, opts.full_every, &base);
  if (incremental) {
    w->set_base(base);
    out->base = base.generation;
  }
  set_compression(w.get(), opts.compress);
  const std::vector<char> &fb = frames::main_stack().buffer;
  Status s = w->add_section(SectionKind::Meta, encode_meta(meta));
  if (s)
    s = w->add_section(SectionKind::Frames, {{fb.data(), fb.size()}});
  if (s)
    s = w->add_section(SectionKind::Globals, snap.globals);
  if (s)
    s = snap.heap.made ? write_planned_heap(w.get(), snap.heap, incremental, &out->heap_bytes)
                       : write_heap(w.get());
  if (s)
    s = w->add_section(SectionKind::Files, snap.files_state);
  if (s)
    s = w->add_section(SectionKind::Libc, snap.libc_state);
  for (const auto &[kind, bytes] : snap.layer_sections)
    if (s)
      s = w->add_section(SectionKind(kind), bytes);
  if (s)
    s = w->commit();
  out->bytes = w->bytes_written();
  return s;
}

// Where the program's stdout stands when it is a regular file, -1 otherwise.
off_t stdout_offset() {
  struct stat st;
  if (fstat(STDOUT_FILENO, &st) != 0 || !S_ISREG(st.st_mode))
    return -1;
  return lseek(STDOUT_FILENO, 0, SEEK_CUR);
}

}  // namespace

namespace {
uint64_t g_hold_gen;  // kHoldVariable, read before the program's environment replaces it
uint64_t g_lagging_gen;  // kLaggingVariable
char g_hold_restore[512];  // kHoldRestoreVariable's file, or empty
}  // namespace

void read_test_settings() {
  if (const char *hold = getenv(kHoldVariable))
    g_hold_gen = strtoull(hold, nullptr, 10);
  if (const char *lagging = getenv(kLaggingVariable))
    g_lagging_gen = strtoull(lagging, nullptr, 10);
  if (const char *hold = getenv(kHoldRestoreVariable))
    snprintf(g_hold_restore, sizeof g_hold_restore, "%s", hold);
}

namespace {
uint64_t g_last_gen;  // the generation this process prepared last (AUTOCKPT_INCREMENTAL)

// Old generations leave off the stop (M21).  A process that writes in place (a rank of a job,
// AUTOCKPT_ASYNC=no) removed what it no longer keeps before going on, and removing an image
// frees its blocks: on this VM's disk 0.5 ms for 200 KB and 7 ms for 20 MB, a rank at a time.
// A thread of the runtime's removes them while the program runs on; the next checkpoint and the
// program's exit wait for it first, so two removals never overlap and a listing sees what the
// last one left.  A kill meanwhile leaves images of a generation that is no longer committed:
// the next removal takes them.
struct Removal {
  GenerationStore *store;
  unsigned keep;
  uint64_t retired;  // a rank of a job: the generation rank 0 took out of use (M20)
  uint32_t rank;
};
pthread_t g_remover;
bool g_removing;

void remove_old(const Removal &r) {
  if (r.retired) {
    // The rank that removes the last image removes the directory too (the others' rmdir finds
    // it not empty); whatever stays, a later prune removes.
    (void)::unlink(r.store->image_path(r.retired, r.rank).c_str());
    (void)::rmdir(r.store->gen_path(r.retired).c_str());
  } else {
    r.store->prune(r.keep);
  }
}

void *removal_thread(void *arg) {
  RuntimeHeap heap;  // its strings are the runtime's, never the program's arena
  remove_old(*static_cast<Removal *>(arg));
  delete static_cast<Removal *>(arg);
  return nullptr;
}

void remove_in_background(const Removal &r) {
  RuntimeHeap heap;
  wait_for_removal();
  static bool at_fork;  // a child of the program has no removal thread to wait for (a join
  if (!at_fork)         // would wait forever): it forgets the parent's
    at_fork = pthread_atfork(nullptr, nullptr, [] { g_removing = false; }) == 0;
  auto *arg = new Removal(r);
  if (pthread_create(&g_remover, nullptr, removal_thread, arg) == 0) {
    g_removing = true;
    return;
  }
  delete arg;
  remove_old(r);
}
}  // namespace

void wait_for_removal() {
  if (g_removing)
    pthread_join(g_remover, nullptr);
  g_removing = false;
}

Status prepare(GenerationStore &store, const Options &opts, const std::string &reason,
               ProcessState *ps, Snapshot *snap, bool defer_directory) {
  wait_for_removal();
  fflush(nullptr);  // stdio buffers are not in the image: what was printed stays printed
  snap->reason = reason;
  snap->stdout_at = stdout_offset();
  snap->files_state = files::save();  // before the heap is written: it may touch it
  snap->libc_state = libc_state::save();
  // A rank of a job: every rank writes its image of the same generation (rank 0's directory),
  // and rank 0 commits it once every rank's image is durable (DESIGN D6, docs/design.md M5).
  const layers::Job *job = layers::job();
  uint32_t rank = job ? uint32_t(job->rank()) : 0, nranks = job ? uint32_t(job->size()) : 1;
  std::vector<GenerationInfo> gens = store.list();
  if (g_lagging_gen && job && rank == 0)  // a test's: rank 0's listing lags
    gens.erase(std::remove_if(gens.begin(), gens.end(),
                              [](const GenerationInfo &g) { return g.number == g_lagging_gen; }),
               gens.end());
  uint64_t gen = gens.empty() ? 1 : gens.back().number + 1;
  std::string gen_dir;
  if (job) {
    // One collective (M20): rank 0 makes the directory of the number it sees, and the ranks
    // agree on the highest number any proposes (rank 0's, or the next one where it could not
    // make it), whether rank 0's directory is made, and whether any rank's checkpoint came from
    // its signal.  Only where that is not the directory rank 0 made does it make that one, with
    // a second collective.  The others go by committed generations alone: rank 0's new
    // directory may be there already.  Rank 0's listing lags where it misses the newest
    // generations (a job restarted with rank 0 on another node of a shared file system, whose
    // directory cache is seconds old): another rank sees a higher number, or the number rank 0
    // sees is taken (committed) and its begin() fails, and it proposes the next one.  What fails
    // in the second try is reported.
    Status began = rank == 0 ? store.begin(gen, &gen_dir) : Status::ok();
    uint64_t seen = 1;
    for (const GenerationInfo &g : gens)
      if (g.committed)
        seen = g.number + 1;
    uint64_t v[3] = {rank != 0 ? seen : began ? gen : gen + 1, rank == 0 && began ? gen : 0,
                     snap->signal};
    job->max(v, 3);
    snap->signal = v[2] != 0;
    if (v[0] != v[1]) {
      if (rank == 0) {
        log(2, "checkpoint: rank 0 makes generation %llu, not %llu (%s)",
            (unsigned long long)v[0], (unsigned long long)gen,
            began ? "another rank sees newer generations" : began.message().c_str());
        if (began)
          (void)store.abandon(gen);
        began = store.begin(v[0], &gen_dir);
      }
      if (!job->all(bool(began)))
        return began ? Status::error("rank 0 could not create generation " +
                                     std::to_string(v[0])) : began;
    }
    gen = v[0];
    snap->begun = true;
  } else if (!defer_directory) {
    if (Status began = store.begin(gen, &gen_dir); !began)
      return began;
    snap->begun = true;
  }
  snap->gen = gen;
  snap->hold_before_commit = g_hold_gen == gen;
  if (snap->hold_before_commit)
    g_hold_gen = 0;  // once: a checkpoint after the held one fails may get the same number
  snap->gen_dir = store.gen_path(gen);
  snap->rank = rank;
  snap->nranks = nranks;
  ++ps->checkpoints;
  snap->meta = describe(gen, reason, *ps, &snap->globals);
  snap->meta.rank = rank;
  snap->meta.nranks = nranks;
  layers::each([&](const layers::Layer &l) {
    if (!l.save)
      return;
    std::string bytes;
    l.save(&snap->meta, &bytes);
    if (l.section)
      snap->layer_sections.push_back({l.section, std::move(bytes)});
  });
  // For tests that check where a restart resumes: the poll it was taken at, what was printed.
  // Said now, before the generation can be committed (a test may kill the program then).
  char where[96] = "";
  if (state::flag() & trigger::kCountingBit)
    snprintf(where, sizeof where, " at poll %llu;", (unsigned long long)trigger::polls());
  if (snap->stdout_at >= 0)
    snprintf(where + strlen(where), sizeof where - strlen(where), " stdout at byte %lld;",
             (long long)snap->stdout_at);
  if (where[0])
    log(2, "checkpoint %llu:%.*s", (unsigned long long)gen, int(strlen(where) - 1), where);
  if (opts.incremental) {
    // The last step of the stop (R24).  The previous checkpoint of this process can be the base
    // when it is committed: then every page written since its copy was taken is known.
    uint64_t base = 0;
    for (const GenerationInfo &g : gens)
      if (g_last_gen && g.number == g_last_gen && g.committed)
        base = g.number;
    double t0 = monotonic_s();
    plan_heap(base, &snap->heap);
    g_last_gen = gen;
    log(3, "checkpoint %llu: heap planned in %.2f ms (%zu extents, %zu written runs)",
        (unsigned long long)gen, (monotonic_s() - t0) * 1e3, snap->heap.extents.size(),
        snap->heap.written.size());
  }
  return Status::ok();
}

Status finish(GenerationStore &store, const Options &opts, const Snapshot &snap) {
  double t0 = monotonic_s();
  const layers::Job *job = layers::job();
  uint64_t gen = snap.gen;
  uint64_t bytes = 0;
  std::string gen_dir;
  if (!snap.begun)
    if (Status s = store.begin(gen, &gen_dir); !s)
      return s;
  Written written;
  Status s = write_image(store, opts, snap, &written);
  bytes = written.bytes;
  double t_written = monotonic_s();
  if (job && !job->all(bool(s)) && s)
    s = Status::error("another rank could not write its image of generation " +
                      std::to_string(gen));
  double t_durable = monotonic_s();  // a job: every rank's image is durable (or one failed)
  if (s && snap.hold_before_commit) {
    log(1, "checkpoint %llu: process %d holds before committing it (%s)",
        (unsigned long long)gen, int(getpid()), kHoldVariable);
    for (;;)
      pause();
  }
  if (s && snap.rank == 0)
    s = store.commit(gen, snap.nranks);
  double t_manifest = monotonic_s();
  uint64_t retired = 0;  // a job: the old generation whose images every rank removes (M20)
  if (job) {
    // Every rank told whether rank 0 committed, and which generation rank 0 took out of use.
    uint64_t v[2] = {snap.rank == 0 && !s, s && snap.rank == 0 ? store.retire(opts.keep) : 0};
    job->max(v, 2);
    if (v[0] && s)
      s = Status::error("rank 0 could not commit generation " + std::to_string(gen));
    retired = v[1];
  }
  if (!s) {
    if (snap.rank == 0)
      (void)store.abandon(gen);
    return s;
  }
  double t_told = monotonic_s();
  if (retired || !job) {
    // A writer in the background removes them itself (the program is not waiting for it).
    const Removal r = {&store, opts.keep, retired, snap.rank};
    if (snap.stop_end_ns)
      remove_old(r);
    else
      remove_in_background(r);
  }
  // The job's share of a checkpoint beside the writing (docs/design.md M13; bench/mpi/coord.py
  // reads this line): agreeing on the generation and making its directory, then the commit
  // (the manifest, every rank told, the old generations pruned).
  if (job && snap.rank == 0)
    log(2, "checkpoint %llu: prepared in %.3f ms; images durable on every rank %.3f ms after "
        "the write began (rank 0's own write %.3f ms); committed %.3f ms after that (the manifest "
        "%.3f ms, every rank told %.3f ms, old generations pruned %.3f ms)",
        (unsigned long long)gen, double(snap.prepare_ns) / 1e6, (t_durable - t0) * 1e3,
        (t_written - t0) * 1e3, (monotonic_s() - t_durable) * 1e3, (t_manifest - t_durable) * 1e3,
        (t_told - t_manifest) * 1e3, (monotonic_s() - t_told) * 1e3);
  double dt = monotonic_s() - t0;
  uint64_t end_ns = snap.stop_end_ns ? snap.stop_end_ns : monotonic_ns();
  double stopped = snap.stop_begin_ns ? double(end_ns - snap.stop_begin_ns) * 1e-9 : dt;
  char b1[32], b2[32], b3[32], b4[32];
  uint64_t gbytes = 0;
  for (const Piece &p : snap.globals)
    gbytes += p.size;
  char kind[96] = "";
  if (written.base)
    snprintf(kind, sizeof kind, ", incremental on %llu: %s of the heap written",
             (unsigned long long)written.base, human_bytes(written.heap_bytes, b4));
  else if (snap.heap.made)
    snprintf(kind, sizeof kind, ", full");
  log(1, "checkpoint %llu (%s) written to %s: %s%s (heap %s, globals %s, %zu frames) in %.0f ms; "
      "the program stopped %.1f ms%s",
      (unsigned long long)gen, snap.reason.c_str(), snap.gen_dir.c_str(), human_bytes(bytes, b1),
      kind, human_bytes(snap.meta.heap_size, b2), human_bytes(gbytes, b3),
      snap.meta.frames.size(), dt * 1e3, stopped * 1e3,
      snap.stop_end_ns ? " (written in the background)" : "");
  if (!snap.meta.threads.empty())
    log(2, "checkpoint %llu holds %zu threads besides main; written in %.0f us",
        (unsigned long long)gen, snap.meta.threads.size(), dt * 1e6);
  return Status::ok();
}

Status write(GenerationStore &store, const Options &opts, const std::string &reason,
             uint64_t stop_begin_ns, ProcessState *ps, bool *signal) {
  Snapshot snap;
  snap.stop_begin_ns = stop_begin_ns;
  snap.signal = *signal;
  uint64_t t_prepare = monotonic_ns();
  Status prepared = prepare(store, opts, reason, ps, &snap);
  *signal = snap.signal;
  if (!prepared)
    return prepared;
  snap.prepare_ns = monotonic_ns() - t_prepare;
  Status s = finish(store, opts, snap);
  if (!s)
    --ps->checkpoints;
  return s;
}

Status find_restart_image(GenerationStore &store, std::string *path, bool *found) {
  *found = false;
  std::vector<GenerationInfo> gens = store.list();
  std::string damaged;
  std::vector<uint64_t> skipped;  // generations found damaged by an earlier try
  if (const char *skip = getenv(kSkipVariable))
    for (const char *p = skip; *p;) {
      char *end;
      unsigned long long n = strtoull(p, &end, 10);
      if (end == p)
        break;
      skipped.push_back(n);
      p = end;
    }
  for (auto it = gens.rbegin(); it != gens.rend(); ++it) {
    if (!it->committed)
      continue;
    if (Status s = store.check_trusted(*it); !s)
      return s;  // not damage: falling back would hide it (docs/design.md R18)
    std::string why;
    if (std::find(skipped.begin(), skipped.end(), it->number) != skipped.end())
      why = "a section failed its checksum while it was read";
    Status s = why.empty() ? store.verify_generation(*it, &why, GenerationStore::Depth::Structure)
                           : Status::error(why);
    std::vector<uint64_t> chain;
    if (s)  // an incremental image: the generations it builds on (R24)
      s = store.verify_chain(*it, gens, &chain, &why, GenerationStore::Depth::Structure, skipped);
    for (size_t k = 1; s && k < chain.size(); ++k)
      for (const GenerationInfo &g : gens)
        if (g.number == chain[k])
          if (Status t = store.check_trusted(g); !t)
            return t;
    if (!s) {
      warn("checkpoint %s cannot be used: %s", it->path.c_str(),
           why.empty() ? s.message().c_str() : why.c_str());
      damaged += "\n  " + it->path + ": " + (why.empty() ? s.message() : why);
      continue;
    }
    const layers::Job *job = layers::job();
    int nranks = job ? job->size() : 1;
    if (int(it->files.size()) != nranks)
      return Status::error(
          "the checkpoint " + it->path + " was written by a job of " +
          std::to_string(it->files.size()) + (it->files.size() == 1 ? " rank" : " ranks") +
          "; this job has " + std::to_string(nranks) + ". Run it again with " +
          std::to_string(it->files.size()) + (it->files.size() == 1 ? " rank" : " ranks") +
          " to resume, or remove " + store.dir() +
          " (or set AUTOCKPT_RESTART=never) to start from the beginning.");
    if (!damaged.empty())
      warn("falling back to the older checkpoint %s", it->path.c_str());
    *path = store.image_path(it->number, job ? uint32_t(job->rank()) : 0);
    *found = true;
    return Status::ok();
  }
  if (!damaged.empty())
    return Status::error("no usable checkpoint in " + store.dir() + ":" + damaged +
                         "\nTo start the program from the beginning instead, remove that "
                         "directory or run with AUTOCKPT_RESTART=never.");
  return Status::ok();
}

Status restore(const GenerationStore &store, const std::string &path, ProcessState *ps,
               bool *damaged, uint64_t *damaged_generation) {
  *damaged = false;
  *damaged_generation = 0;
  // A section that fails its checksum is damage, like one found before the restart began
  // (R7): the caller starts again without this generation and falls back to the one before.
  std::unique_ptr<ImageReader> r;
  auto read_failed = [&](Status s) {
    *damaged = true;
    if (!*damaged_generation)
      *damaged_generation = r ? r->header().generation : 0;
    return s;
  };
  if (Status s = ImageReader::open(path, &r); !s)
    return read_failed(s);
  // An incremental image is read on top of its bases (R24), which find_restart_image checked.
  std::vector<std::unique_ptr<ImageReader>> bases;
  for (const ImageReader *link = r.get(); link->header().flags & kImageIncremental;) {
    const FileHeader &h = link->header();
    std::unique_ptr<ImageReader> b;
    Status s = ImageReader::open(store.image_path(h.base_generation, h.rank), &b);
    if (s && (b->header().generation != h.base_generation ||
              b->header().header_checksum != h.base_header_checksum))
      s = Status::error(b->path() + " is not the image " + path + " was written on");
    if (!s) {
      *damaged_generation = h.base_generation;
      return read_failed(s);
    }
    bases.push_back(std::move(b));
    link = bases.back().get();
  }
  std::vector<const ImageReader *> chain;  // the full image first
  for (auto b = bases.rbegin(); b != bases.rend(); ++b)
    chain.push_back(b->get());
  chain.push_back(r.get());
  ImageMeta m;
  if (Status s = r->read_meta(&m); !s)
    return read_failed(s);
  std::string ours = identity::hex(identity::executable_build_id());
  if (m.build_id != ours)
    return Status::error(
        "the checkpoint " + path + " was written by a different build of this program (" +
        m.exe_path + ", build-id " + m.build_id + "); this is " + identity::executable_path() +
        ", build-id " + ours + ". Run the program that wrote it, or remove the checkpoint "
        "directory (or set AUTOCKPT_RESTART=never) to start from the beginning.");
  if (m.abi_version != AUTOCKPT_ABI_VERSION)
    return Status::error("the checkpoint " + path + " was written with autockpt ABI version " +
                         std::to_string(m.abi_version) + ", this runtime has " +
                         std::to_string(AUTOCKPT_ABI_VERSION));

  // Globals: the same variables at the same addresses, or the image is not ours.
  const std::vector<registry::Global> &now = registry::globals();
  if (now.size() != m.globals.size())
    return Status::error("the checkpoint " + path + " lists " + std::to_string(m.globals.size()) +
                         " global variables, this program has " + std::to_string(now.size()));
  for (size_t k = 0; k < now.size(); ++k) {
    const GlobalRecord &g = m.globals[k];
    if (reinterpret_cast<uintptr_t>(now[k].addr) != g.addr || now[k].size != g.size)
      return Status::error("global variable '" + g.name + "' of " + g.module +
                           " moved or changed size since the checkpoint " + path +
                           " was written (address randomisation not disabled?)");
  }
  std::string gbytes;
  if (Status s = r->read_section(SectionKind::Globals, &gbytes); !s)
    return read_failed(s);
  for (const GlobalRecord &g : m.globals)
    if (!within(g.offset, g.size, gbytes.size()))
      return out_of_bounds(path, "global variable '" + g.name + "'", "Globals");
  std::string files_state, libc_state;  // absent in images of older builds
  if (r->has(SectionKind::Files))
    if (Status s = r->read_section(SectionKind::Files, &files_state); !s)
      return read_failed(s);
  if (r->has(SectionKind::Libc))
    if (Status s = r->read_section(SectionKind::Libc, &libc_state); !s)
      return read_failed(s);
  // The layers' sections, read before anything is overwritten; given to them once it is.
  std::vector<std::pair<const layers::Layer *, std::string>> layer_sections;
  Status layer_status = Status::ok();
  layers::each([&](const layers::Layer &l) {
    if (!l.load)
      return;
    std::string bytes;
    if (l.section && r->has(SectionKind(l.section)) && layer_status)
      layer_status = r->read_section(SectionKind(l.section), &bytes);
    layer_sections.push_back({&l, std::move(bytes)});
  });
  if (!layer_status)
    return read_failed(layer_status);
  if (!m.threads.empty() && layer_sections.empty())
    return Status::error("the checkpoint " + path + " holds " + std::to_string(m.threads.size()) +
                         " threads besides main, but this program starts none");
  std::vector<char> fbuf(r->raw_size(SectionKind::Frames));
  if (Status s = r->read_section(SectionKind::Frames, fbuf.data(), fbuf.size()); !s)
    return read_failed(s);
  for (const FrameRecord &f : m.frames)
    if (f.size > UINT64_MAX - sizeof(autockpt_frame_head) ||
        !within(f.offset, sizeof(autockpt_frame_head) + f.size, fbuf.size()))
      return out_of_bounds(path, "the frame of " + f.function, "Frames");
  if (m.heap_base != arena::base())
    return Status::error("the checkpoint's heap is at a different address");
  if (g_hold_restore[0]) {  // a test's hook: the image is open, the restore under way
    struct timespec ms = {0, 1000000};
    while (access(g_hold_restore, F_OK) != 0)
      nanosleep(&ms, nullptr);
  }
  size_t failed = 0;
  if (Status s = read_heap(chain, &failed); !s) {
    *damaged_generation = chain[failed]->header().generation;
    return read_failed(s);  // the heap is half overwritten: only a fresh process can try again
  }
  for (size_t k = 0; k < now.size(); ++k)
    memcpy(now[k].addr, gbytes.data() + m.globals[k].offset, now[k].size);

  std::vector<frames::Record> recs;
  for (const FrameRecord &f : m.frames)
    recs.push_back({f.fid, f.spid, f.layout, f.offset, f.size});
  frames::adopt(std::move(recs), std::move(fbuf));
  for (auto &[layer, bytes] : layer_sections)
    layer->load(m, std::move(bytes));
  ps->argc = m.argc;
  ps->argv = reinterpret_cast<char **>(m.argv_addr);
  ps->envp = reinterpret_cast<char **>(m.envp_addr);
  ps->checkpoints = m.checkpoint_count;
  char links[96] = "";
  if (!bases.empty())
    snprintf(links, sizeof links, "; incremental, read on top of generation%s",
             bases.size() > 1 ? "s" : "");
  std::string link_list;
  for (const auto &b : bases)
    link_list += (link_list.empty() ? " " : ", ") + std::to_string(b->header().generation);
  chain.clear();
  bases.clear();
  r.reset();  // its descriptor may be a number one of the program's files gets back
  files::restore(files_state);  // may truncate stdout, which may be stderr too: log after it
  libc_state::restore(libc_state);
  double age = double(now_unix_ns() - m.created_unix_ns) * 1e-9;
  log(1, "resuming from checkpoint %llu (%s, written %.0f s ago by pid %lld on %s%s%s)",
      (unsigned long long)m.generation, path.c_str(), age, (long long)m.pid, m.hostname.c_str(),
      links, link_list.c_str());
  return Status::ok();
}

}  // namespace autockpt::checkpoint
