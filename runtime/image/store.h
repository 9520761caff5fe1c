// The generations of checkpoints in one directory (AUTOCKPT_DIR, DESIGN D6):
//
//   <dir>/gen-000007/rank-00000.ackpt   one image per process, written by ImageWriter
//   <dir>/gen-000007/MANIFEST           written last; a generation is committed iff it parses
//
// The MANIFEST is text, written through MANIFEST.tmp and a rename:
//
//   autockpt-manifest 1
//   generation 7
//   ranks 2
//   created_unix_ns 1700000000123456789
//   file rank-00000.ackpt <size> <header_checksum in hex>
//   file rank-00001.ackpt <size> <header_checksum in hex>
//   end
//
// A kill at any moment leaves the previous committed generation intact and never makes a partial
// generation look committed.  Directories are created 0700 and files 0600: a checkpoint holds
// the program's whole memory.  Choosing which generation to restart from is left to the runtime.
#pragma once
#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "status.h"

namespace autockpt::image {

struct GenerationInfo {
  uint64_t number = 0;
  std::string path;  // <dir>/gen-NNNNNN
  bool committed = false;
  uint64_t bytes = 0;              // all files in the directory
  int64_t mtime_unix_ns = 0;       // of the MANIFEST when committed, else of the directory
  std::vector<std::string> files;  // the *.ackpt files present, sorted
};

class GenerationStore {
 public:
  using GenerationInfo = image::GenerationInfo;

  explicit GenerationStore(std::string dir);
  const std::string &dir() const { return dir_; }

  // Creates the directory (and its missing parents) and proves that it is writable.
  Status prepare();

  // Every gen-NNNNNN directory, committed or not, by number ascending.
  std::vector<GenerationInfo> list() const;

  // 1 + the highest number of any generation directory (1 when there is none).
  uint64_t next_number() const;

  // Creates the directory of generation `gen`, removing what a failed attempt left there.
  Status begin(uint64_t gen, std::string *gen_dir);
  std::string gen_path(uint64_t gen) const;
  std::string image_path(uint64_t gen, uint32_t rank) const;

  // Commits generation `gen` once all `nranks` images are in place: writes its MANIFEST.
  Status commit(uint64_t gen, uint32_t nranks);

  // Removes an uncommitted generation; a committed one is refused.
  Status abandon(uint64_t gen);

  // Removes a generation, committed or not.
  Status remove(uint64_t gen);

  // Keeps the newest `keep` (at least 1) committed generations and every generation they are
  // incremental on (R24); removes other committed ones and uncommitted ones older than the
  // newest committed one.
  void prune(unsigned keep);

  // For a job (docs/design.md M20): removes what prune(keep) would, except that the newest
  // committed generation among them only loses its MANIFEST (it is uncommitted from then on)
  // and its number is returned (0 for none): every rank then removes its own image from it,
  // side by side, and a later prune removes what is left of it.
  uint64_t retire(unsigned keep);

  // Checks the manifest against the files and verifies every image.  On failure `why` (when not
  // null) gets the reason alone; the Status says which generation.
  // Contents: every section's checksum is checked (reads every byte).  Structure: the
  // manifest, file sizes, headers and section tables only; a restart uses it and checks each
  // section's checksum while reading it into place, so the image is read once.
  enum class Depth { Structure, Contents };
  Status verify_generation(const GenerationInfo &info, std::string *why,
                           Depth depth = Depth::Contents) const;

  // The generations that committed generation `info` is read from, newest first: itself, then
  // for an incremental image (R24) its base, the base's base, ... down to full images, for every
  // rank's image.  Each base must be a committed generation of `gens` (list()) that verifies to
  // `depth`, is not in `damaged` (found damaged while a restart read it), and holds an image of
  // the same name whose header is the one the newer image names.  On failure `why` (when not
  // null) gets the reason, naming the broken link.
  Status verify_chain(const GenerationInfo &info, const std::vector<GenerationInfo> &gens,
                      std::vector<uint64_t> *chain, std::string *why,
                      Depth depth = Depth::Structure,
                      const std::vector<uint64_t> &damaged = {}) const;

  // The generations the images of `info` name as bases, transitively, as far as they can be read
  // (no verification): what pruning must keep for `info` to stay usable.
  std::vector<uint64_t> bases_of(const GenerationInfo &info) const;

  // Whether a restart may read generation `info` at all: the checkpoint directory, the
  // generation's directory, its MANIFEST and its images must belong to this user and be
  // writable by no one else (docs/design.md R18).  The error names the first that is not and
  // says what to do.
  Status check_trusted(const GenerationInfo &info) const;

 private:
  // What prune(keep) removes, newest first, and whether each is committed.
  std::vector<std::pair<uint64_t, bool>> doomed(unsigned keep) const;

  // The generation the image at `path` is incremental on (0 for a full image); false when it
  // cannot be read.
  bool base_of(const std::string &path, uint64_t *base) const;

  std::string dir_;
  // What base_of() read from each image, by path, with the file's identity (device, inode, size,
  // modification time): a prune reads the header of every image of each generation it keeps,
  // and in a job that is in the checkpoint's stop (M20), while an image once written never
  // changes.  One thread at a time uses a store (the runtime's removal thread runs between
  // checkpoints, M21).
  struct BaseSeen {
    uint64_t dev, ino, size;
    int64_t mtime_ns;
    uint64_t base;
  };
  mutable std::unordered_map<std::string, BaseSeen> bases_seen_;
};

}  // namespace autockpt::image
