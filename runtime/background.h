// Asynchronous checkpoints (AUTOCKPT_ASYNC, docs/design.md R21): a copy-on-write copy of the
// stopped program writes, checksums and commits the image while the program runs on.  What
// goes into the image and how it is committed is checkpoint.h's; this file only makes the copy,
// hears how its write ended and keeps the program's own children out of it.
#pragma once

#include "checkpoint.h"
#include "image/store.h"
#include "options.h"
#include "process.h"
#include "status.h"

namespace autockpt::background {

// Makes the writer process from the stopped program and returns once it holds its copy:
// the program may go on.  `snap` is prepared (checkpoint::prepare); its stop_end_ns is set here.
Status start(image::GenerationStore &store, const Options &opts, checkpoint::Snapshot &snap);

// Whether a write started by start() has not been heard to end yet (a read that does not block).
bool busy();

// Waits until the write in flight (if any) has ended.  Returns how it ended: ok once the
// generation is committed; the error otherwise (a failed write, or a writer that was killed:
// its generation is then removed, the previous one is intact).  `ps` loses the checkpoint that
// did not happen.  `why` says in the log who waits ("checkpoint (timer)", "exit").
Status wait(image::GenerationStore &store, ProcessState *ps, const char *why);

// The writer's process id while a write is in flight, 0 otherwise (for tests and messages).
int writer_pid();

}  // namespace autockpt::background
