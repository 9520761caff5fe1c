// The Fortran layer (docs/design.md F6): linked into programs built with autockpt-config
// --fldflags (which names __autockpt_fortran_layer).  flang's runtime buffers the output of its
// units itself, outside C's stdio: at a checkpoint it is flushed, so that what the program printed
// before it is on disk, where the restart's truncation (F3) expects it; and a restarted process
// starts flang's runtime again (below).  The heap of flang's runtime is
// runtime/fortran_runtime.cmake's.
#include "control.h"
#include "image/format.h"
#include "layers.h"

#include <string>

extern char **environ;

namespace autockpt::fortran {  // units.cpp (F7)
void flush_units();
std::string save_units();
void load_units(const std::string &bytes);
void reopen_units();
void remember_defaults(const void *env_defaults);
const void *environment_defaults();
}  // namespace autockpt::fortran

namespace {

// Fortran::runtime::io::FlushOutputOnCrash(const Terminator &): flushes the default output unit
// (6, stdout) and the error unit, without creating them.  Weak: a program without Fortran I/O
// has none.  Terminator is {const char *file; int line;}; a zeroed one names no source.
extern "C" void fortran_flush_output(const void *terminator)
    __asm__("_ZN7Fortran7runtime2io18FlushOutputOnCrashERKNS0_10TerminatorE")
    __attribute__((weak));

bool stop() {
  autockpt::fortran::flush_units();
  if (fortran_flush_output) {
    struct {
      const char *file = nullptr;
      long line = 0;
    } terminator;
    fortran_flush_output(&terminator);
  }
  return true;  // not this layer's to decide who writes
}

// The program's main calls _FortranAProgramStart before its main program (_QQmain): it records
// argc/argv/envp for GET_COMMAND_ARGUMENT and friends, reads the runtime's environment settings
// and registers the exit handler that closes (flushes) the units.  A restarted process re-enters
// main past that call, so it is made again here, with the restored arguments and this process's
// environment, and the environment defaults table main passed (flang's -fconvert and the like:
// a constant of the executable, kept in the Fortran section).
extern "C" void fortran_program_start(int argc, const char *argv[], const char *envp[],
                                      const void *env_defaults)
    __asm__("_FortranAProgramStart") __attribute__((weak));

void restart() {
  if (fortran_program_start)
    fortran_program_start(autockpt::control::user_argc(),
                          const_cast<const char **>(autockpt::control::user_argv()),
                          const_cast<const char **>(environ),
                          autockpt::fortran::environment_defaults());
  autockpt::fortran::reopen_units();
}

void save(autockpt::image::ImageMeta *, std::string *bytes) {
  *bytes = autockpt::fortran::save_units();
}

void load(const autockpt::image::ImageMeta &, std::string bytes) {
  autockpt::fortran::load_units(bytes);
}

const autockpt::layers::Layer kFortran = {
    "fortran", nullptr, nullptr, stop, nullptr, unsigned(autockpt::image::SectionKind::Fortran),
    save, load, restart, nullptr};
AUTOCKPT_LAYER(kFortran);

}  // namespace

extern "C" {
int __autockpt_fortran_layer = 1;  // named by --fldflags, so that this object is linked
}
