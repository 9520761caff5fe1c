// Files and file descriptors across a restart (DESIGN D5): the program's FILE* are handles in
// checkpointed memory; the runtime records how each real stream, descriptor and C++ filebuf was
// opened and re-creates it at restart (same fd, same offset; output files truncated to their
// size at the checkpoint so that nothing is written twice; input files checked unchanged).
// The wrappers the pass redirects to are in files_stdio.cpp, files_fd.cpp, files_fstream.cpp.
#pragma once

#include <cstdio>
#include <string>

namespace autockpt::files {

// The real stream behind what the program holds: a handle, or stdin/stdout/stderr (or any
// stream opened by uninstrumented code), which are passed through.
FILE *real(FILE *f);

// Checkpoint, after fflush(NULL): the state of every open handle, descriptor and filebuf of the
// program, and of fds 0-2 (the Files section).  Warns once about files that cannot be
// re-created; a restart from this checkpoint then stops with a message naming them.
std::string save();

// Every descriptor open now that the program did not open through autockpt belongs to a
// library (MPI's shared memory, sockets, pipes): it is not re-created, and nothing is said
// about it.  Called by layers whose library opens descriptors inside its calls (mpi/).
void library_fds_open_now();
// The same for one descriptor, which a layer re-creates itself (fortran/: flang's units).
void library_fd(int fd);

// Restart, after the heap, globals and frame records are restored, before the frames are
// re-entered:
// checks every file, re-opens it at its descriptor number and offset, truncates output files
// (and a stdout/stderr file) to their size at the checkpoint.  Dies with a message if a file
// is gone or changed.
void restore(const std::string &saved);

// Is p in memory a checkpoint saves and a restart restores (the arena, the program's stack,
// the instrumented modules' globals)?
bool in_saved_memory(const void *p);

}  // namespace autockpt::files
