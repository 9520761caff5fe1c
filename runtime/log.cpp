// Messages to stderr.  Writes whole lines with one write(2) so that ranks do not interleave.
#include "log.h"

#include <cstdarg>
#include <cstdio>
#include <unistd.h>

namespace autockpt {

namespace {

unsigned g_verbosity = 1;
int g_rank = -1;  // a rank of a job: its messages say which

void emit(const char *kind, const char *fmt, va_list ap) {
  char line[2048];
  int n = g_rank < 0 ? snprintf(line, sizeof line, "autockpt: %s", kind)
                     : snprintf(line, sizeof line, "autockpt: rank %d: %s", g_rank, kind);
  n += vsnprintf(line + n, sizeof line - n - 1, fmt, ap);
  if (n > int(sizeof line) - 2)
    n = sizeof line - 2;
  line[n++] = '\n';
  ssize_t ignored = write(STDERR_FILENO, line, n);
  (void)ignored;
}

}  // namespace

void set_verbosity(unsigned level) { g_verbosity = level; }
void set_log_rank(int rank) { g_rank = rank; }
unsigned verbosity() { return g_verbosity; }

void log(unsigned level, const char *fmt, ...) {
  if (level > g_verbosity)
    return;
  va_list ap;
  va_start(ap, fmt);
  emit("", fmt, ap);
  va_end(ap);
}

void warn(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  emit("warning: ", fmt, ap);
  va_end(ap);
}

void fatal(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  emit("error: ", fmt, ap);
  va_end(ap);
  fflush(nullptr);
  _exit(kExitError);
}

const char *human_bytes(unsigned long long bytes, char (&buf)[32]) {
  static const char *const Units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = double(bytes);
  unsigned u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  snprintf(buf, sizeof buf, u ? "%.1f %s" : "%.0f %s", v, Units[u]);
  return buf;
}

}  // namespace autockpt
