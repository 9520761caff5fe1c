// Files across a restart: to be written (see files.h).
#include "files.h"

namespace autockpt::files {

FILE *real(FILE *f) { return f; }
std::string save() { return std::string(); }
void restore(const std::string &) {}

}  // namespace autockpt::files
