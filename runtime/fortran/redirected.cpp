// The calls of flang's runtime that the pass redirects here (include/autockpt/redirects.def):
// main's _FortranAProgramStart, whose environment defaults table a restart gives flang again,
// and the OPEN statements' unit numbers, which units.cpp watches (docs/design.md F7).  The
// library's functions are named strongly here, unlike in the layer: the program's own calls
// to them now come here, and the linker must still take them from flang's runtime library.
#include <cstdint>

namespace autockpt::fortran {
void remember_defaults(const void *env_defaults);
void watch_unit(int number, bool newunit);
}  // namespace autockpt::fortran

extern "C" {

void _FortranAProgramStart(int argc, const char *argv[], const char *envp[],
                           const void *env_defaults);
void *_FortranAioBeginOpenUnit(int unit, const char *file, int line);
bool _FortranAioGetNewUnit(void *cookie, int &unit, int kind);

void __autockpt__FortranAProgramStart(int argc, const char *argv[], const char *envp[],
                                      const void *env_defaults) {
  autockpt::fortran::remember_defaults(env_defaults);
  _FortranAProgramStart(argc, argv, envp, env_defaults);
}

void *__autockpt__FortranAioBeginOpenUnit(int unit, const char *file, int line) {
  autockpt::fortran::watch_unit(unit, false);
  return _FortranAioBeginOpenUnit(unit, file, line);
}

// NEWUNIT=: flang stores the number in a variable of `kind` bytes.
bool __autockpt__FortranAioGetNewUnit(void *cookie, void *unit, int kind) {
  bool ok = _FortranAioGetNewUnit(cookie, *static_cast<int *>(unit), kind);
  int64_t n = kind == 1   ? *static_cast<int8_t *>(unit)
              : kind == 2 ? *static_cast<int16_t *>(unit)
              : kind == 8 ? *static_cast<int64_t *>(unit)
                          : *static_cast<int32_t *>(unit);
  autockpt::fortran::watch_unit(int(n), true);
  return ok;
}

}  // extern "C"
