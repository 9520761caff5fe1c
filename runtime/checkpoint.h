// Writing a checkpoint image from the unwound process, and reading one back (DESIGN D6).
#pragma once

#include "image/store.h"
#include "options.h"
#include "process.h"
#include "status.h"

#include <string>

#include "frames.h"
#include "image/meta.h"

namespace autockpt::checkpoint {

// The records of a stack of frames as the image's metadata describes them (function, line,
// variables); their offsets are into the stack's own buffer.
void describe_frames(const frames::Stack &stack, std::vector<image::FrameRecord> *out);

// Writes generation `store.next_number()` from the saved frames, the registered globals and
// the arena.  On failure nothing new is committed and the previous generation stays intact.
Status write(image::GenerationStore &store, const Options &opts, const std::string &reason,
             ProcessState *ps);

// Finds the newest committed generation that verifies, falling back to older ones with a
// message.  Returns false in *found when there is none to use (fresh start).  An error means
// there are checkpoints but none can be used: the caller must not silently start over.
Status find_restart_image(image::GenerationStore &store, std::string *path, bool *found);

// Restores globals, heap and frame records from the image at `path`, checking each section's
// checksum as it is read.  *damaged says that the image proved damaged while it was read (a
// section failed its checksum or the metadata did not decode; the heap may be half overwritten):
// the process must start again (re-exec) without this generation to fall back to another one.
// Any other error (an image of another build) stops the restart.
Status restore(const std::string &path, ProcessState *ps, bool *damaged);

// Internal environment variable: generations (numbers, space-separated) that a previous try of
// this restart found damaged while restoring them.
constexpr const char *kSkipVariable = "AUTOCKPT__SKIP_GENERATIONS";

}  // namespace autockpt::checkpoint
