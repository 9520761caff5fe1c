// Writing a checkpoint image from the unwound process, and reading one back (DESIGN D6).
#pragma once

#include "image/store.h"
#include "options.h"
#include "process.h"
#include "status.h"

#include <string>
#include <sys/types.h>
#include <utility>
#include <vector>

#include "frames.h"
#include "heap_image.h"
#include "image/meta.h"
#include "image/writer.h"

namespace autockpt::checkpoint {

// The records of a stack of frames as the image's metadata describes them (function, line,
// variables); their offsets are into the stack's own buffer.
void describe_frames(const frames::Stack &stack, std::vector<image::FrameRecord> *out);

// A checkpoint of the stopped program, described but not yet written: the metadata and the
// small sections are copies; the frames, the globals and the heap are read from memory when it
// is written (by this process, or by a copy of it made while the program was still stopped).
struct Snapshot {
  std::string reason;
  uint64_t gen = 0;
  std::string gen_dir;
  bool begun = false;  // its directory is made (else finish() makes it)
  uint32_t rank = 0, nranks = 1;
  image::ImageMeta meta;
  std::vector<image::Piece> globals;
  std::string files_state, libc_state;
  std::vector<std::pair<unsigned, std::string>> layer_sections;
  off_t stdout_at = -1;      // where stdout stood, -1 when it is not a regular file
  uint64_t stop_begin_ns = 0;  // CLOCK_MONOTONIC: when the program stopped for it
  uint64_t stop_end_ns = 0;    // when it went on; 0 while it is still stopped
  uint64_t prepare_ns = 0;     // how long prepare() took (written in place)
  // A test's hook (AUTOCKPT__HOLD_BEFORE_COMMIT=<generation>): the image of this generation is
  // written, and then its writer waits to be killed instead of committing it.
  bool hold_before_commit = false;
  HeapPlan heap;  // AUTOCKPT_INCREMENTAL: the heap as it was at the stop (R24)
  // In: this checkpoint came from this process's checkpoint signal.  Out, for a rank of a job
  // (set by prepare() even when it fails): from any rank's (M6: every rank then exits).
  bool signal = false;
};

// Describes generation `store.next_number()` (the job's maximum for a rank) from the saved
// frames, the registered globals and the arena, and counts it in ps->checkpoints.  With
// AUTOCKPT_INCREMENTAL its last step plans the heap (R24): nothing may write the arena between
// it and the copy (or the write in place).  It creates
// the generation's directory too unless `defer_directory` (a single process whose writer
// makes it: a mkdir with its journal write is milliseconds of a stop).  The program must stay
// stopped until the memory is written or copied.
Status prepare(image::GenerationStore &store, const Options &opts, const std::string &reason,
               ProcessState *ps, Snapshot *snap, bool defer_directory = false);

// Writes, makes durable and commits the image of `snap`, prunes old generations and logs the
// checkpoint.  On failure nothing new is committed, the generation's directory is removed and
// the previous generation stays intact; the caller takes the checkpoint off ps->checkpoints.
Status finish(image::GenerationStore &store, const Options &opts, const Snapshot &snap);

// Returns once the old generations the last checkpoint written in place no longer keeps are
// removed (finish() leaves that to a thread of the runtime's: docs/design.md M21).  prepare()
// calls it; the program's exit must.
void wait_for_removal();

// prepare() and finish() in one, with the program stopped for the whole write.
// `*signal` as Snapshot::signal.
Status write(image::GenerationStore &store, const Options &opts, const std::string &reason,
             uint64_t stop_begin_ns, ProcessState *ps, bool *signal);

// Finds the newest committed generation that verifies, with every generation an incremental
// one builds on (R24), falling back to older ones with a message.  Returns false in *found when there is none to use (fresh start).  An error means
// there are checkpoints but none can be used: the caller must not silently start over.
Status find_restart_image(image::GenerationStore &store, std::string *path, bool *found);

// Restores globals, heap and frame records from the image at `path` (an incremental image on top
// of its bases, R24), checking each section's checksum as it is read.  *damaged says that an
// image proved damaged while it was read (a section failed its checksum or the metadata did not
// decode; the heap may be half overwritten), and *damaged_generation which: the process must
// start again (re-exec) without that generation to fall back to another one.  Any other error
// (an image of another build) stops the restart.
Status restore(const image::GenerationStore &store, const std::string &path, ProcessState *ps,
               bool *damaged, uint64_t *damaged_generation);

// Internal environment variable: generations (numbers, space-separated) that a previous try of
// this restart found damaged while restoring them.
constexpr const char *kSkipVariable = "AUTOCKPT__SKIP_GENERATIONS";
// Internal environment variable, for tests: the generation whose writer holds before its commit.
constexpr const char *kHoldVariable = "AUTOCKPT__HOLD_BEFORE_COMMIT";
// Internal environment variable, for tests: a generation that rank 0 of a job does not see when
// it lists the checkpoint directory, as a shared file system's listing may lag (M20).
constexpr const char *kLaggingVariable = "AUTOCKPT__LAGGING_LISTING";
// Internal environment variable, for tests: a file; a restore, its image open and its heap not
// read yet, waits until that file exists (a signal sent meanwhile comes during the restore).
constexpr const char *kHoldRestoreVariable = "AUTOCKPT__HOLD_RESTORE";
// Reads the internal settings above (writing and restoring); called at start, before the
// program's environment (without them) replaces the process's.
void read_test_settings();

}  // namespace autockpt::checkpoint
