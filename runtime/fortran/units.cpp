// Fortran units opened with OPEN (docs/design.md F7).  flang's runtime keeps its unit table in
// its own memory, which a restart does not have, and opens the files inside its own calls, which
// the files layer does not see.  So the OPEN statements of instrumented code are watched (the
// pass redirects _FortranAioBeginOpenUnit and _FortranAioGetNewUnit here): a checkpoint asks
// flang, through the same I/O calls compiled code makes, what each of those units is now
// (INQUIRE: file, access, form, action, modes, position), and a restart opens them again under
// the same numbers and puts each back at its position, output files cut back to their size at
// the checkpoint so that nothing is written twice.
#include "control.h"
#include "files.h"
#include "image/archive.h"
#include "image/format.h"
#include "log.h"

#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>
#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <mutex>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace autockpt::fortran {

// flang's I/O API (flang/Runtime/io-api.h), weak: a program without Fortran I/O has none.
using Cookie = void *;
#define AUTOCKPT_FLANG_IO(ret, name, ...) \
  extern "C" ret name(__VA_ARGS__) __attribute__((weak));
AUTOCKPT_FLANG_IO(Cookie, _FortranAioBeginOpenUnit, int, const char *, int)
AUTOCKPT_FLANG_IO(Cookie, _FortranAioBeginOpenNewUnit, const char *, int)
AUTOCKPT_FLANG_IO(Cookie, _FortranAioBeginInquireUnit, int, const char *, int)
AUTOCKPT_FLANG_IO(Cookie, _FortranAioBeginFlush, int, const char *, int)
AUTOCKPT_FLANG_IO(Cookie, _FortranAioBeginClose, int, const char *, int)
AUTOCKPT_FLANG_IO(Cookie, _FortranAioBeginExternalListInput, int, const char *, int)
AUTOCKPT_FLANG_IO(Cookie, _FortranAioBeginUnformattedInput, int, const char *, int)
AUTOCKPT_FLANG_IO(void, _FortranAioEnableHandlers, Cookie, bool, bool, bool, bool, bool)
AUTOCKPT_FLANG_IO(bool, _FortranAioSetFile, Cookie, const char *, size_t)
AUTOCKPT_FLANG_IO(bool, _FortranAioSetStatus, Cookie, const char *, size_t)
AUTOCKPT_FLANG_IO(bool, _FortranAioSetAccess, Cookie, const char *, size_t)
AUTOCKPT_FLANG_IO(bool, _FortranAioSetForm, Cookie, const char *, size_t)
AUTOCKPT_FLANG_IO(bool, _FortranAioSetAction, Cookie, const char *, size_t)
AUTOCKPT_FLANG_IO(bool, _FortranAioSetPosition, Cookie, const char *, size_t)
AUTOCKPT_FLANG_IO(bool, _FortranAioSetRecl, Cookie, size_t)
AUTOCKPT_FLANG_IO(bool, _FortranAioSetBlank, Cookie, const char *, size_t)
AUTOCKPT_FLANG_IO(bool, _FortranAioSetDecimal, Cookie, const char *, size_t)
AUTOCKPT_FLANG_IO(bool, _FortranAioSetDelim, Cookie, const char *, size_t)
AUTOCKPT_FLANG_IO(bool, _FortranAioSetPad, Cookie, const char *, size_t)
AUTOCKPT_FLANG_IO(bool, _FortranAioSetRound, Cookie, const char *, size_t)
AUTOCKPT_FLANG_IO(bool, _FortranAioSetSign, Cookie, const char *, size_t)
AUTOCKPT_FLANG_IO(bool, _FortranAioSetEncoding, Cookie, const char *, size_t)
AUTOCKPT_FLANG_IO(bool, _FortranAioSetPos, Cookie, int64_t)
AUTOCKPT_FLANG_IO(bool, _FortranAioGetNewUnit, Cookie, int &, int)
AUTOCKPT_FLANG_IO(bool, _FortranAioInquireCharacter, Cookie, uint64_t, char *, size_t)
AUTOCKPT_FLANG_IO(bool, _FortranAioInquireLogical, Cookie, uint64_t, bool &)
AUTOCKPT_FLANG_IO(bool, _FortranAioInquireInteger64, Cookie, uint64_t, int64_t &, int)
AUTOCKPT_FLANG_IO(int, _FortranAioEndIoStatement, Cookie)
#undef AUTOCKPT_FLANG_IO

namespace {

// flang's HashInquiryKeyword: INQUIRE specifiers are passed by this hash of their name.
constexpr uint64_t keyword(const char *p) {
  uint64_t hash = 1;
  for (; *p; ++p)
    hash = 26 * hash + uint64_t(*p >= 'a' && *p <= 'z' ? *p - 'a' : *p - 'A');
  return hash;
}

// What a unit was at the checkpoint.  Character specifiers as INQUIRE returns them, blank-trimmed.
struct Unit {
  int32_t number = 0;
  bool newunit = false;  // numbered by OPEN(NEWUNIT=): flang hands these out, -2 downwards
  std::string path;      // absolute at the checkpoint
  std::string access, form, action, blank, decimal, delim, pad, round, sign, encoding;
  int64_t recl = 0;      // direct access only
  int64_t pos = 0;       // INQUIRE POS: 1 + the byte offset of the next record
  int64_t size = 0;      // of the file, after the unit was flushed

  template <class Archive>
  void serialize(Archive &ar, unsigned) {
    ar &number &newunit &path &access &form &action &blank &decimal &delim &pad &round &sign
        &encoding &recl &pos &size;
  }
};

// The whole section: flang's environment defaults table (compiled in by -fconvert and the like,
// in the executable, at the same address in every run) and the units.
struct Section {
  uint64_t env_defaults = 0;
  std::vector<Unit> units;

  template <class Archive>
  void serialize(Archive &ar, unsigned) {
    ar &env_defaults &units;
  }
};

constexpr int kFirstNewUnit = -2;  // flang 19 and 22: the first NEWUNIT is -2, then -3, ...

std::mutex g_mutex;
std::vector<std::pair<int, bool>> *g_watched;  // units OPEN named in this process: number, newunit
std::vector<Unit> *g_saved;                     // read from the image, re-opened at restart
const void *g_env_defaults;                     // what main gave _FortranAProgramStart

void watch(int number, bool newunit) {
  std::lock_guard<std::mutex> lock(g_mutex);
  RuntimeHeap runtime_heap;
  if (!g_watched)
    g_watched = new std::vector<std::pair<int, bool>>;
  for (auto &w : *g_watched)
    if (w.first == number) {
      w.second = newunit;
      return;
    }
  g_watched->push_back({number, newunit});
}

Cookie quiet(Cookie c) {  // errors come back from EndIoStatement instead of stopping the program
  _FortranAioEnableHandlers(c, true, false, false, false, true);
  return c;
}

std::string inquire_text(Cookie c, const char *what) {
  char buf[PATH_MAX] = {};
  if (!_FortranAioInquireCharacter(c, keyword(what), buf, sizeof buf - 1))
    return "";
  std::string s(buf);
  s.erase(s.find_last_not_of(' ') + 1);
  return s;
}

int64_t inquire_int(Cookie c, const char *what) {
  int64_t v = 0;
  _FortranAioInquireInteger64(c, keyword(what), v, 8);
  return v;
}

int64_t position(int number) {
  Cookie c = quiet(_FortranAioBeginInquireUnit(number, __FILE__, __LINE__));
  int64_t pos = inquire_int(c, "POS");
  _FortranAioEndIoStatement(c);
  return pos;
}

bool defined(const std::string &v) { return !v.empty() && v != "UNDEFINED" && v != "UNKNOWN"; }

std::string absolute(const std::string &path) {
  if (path.empty() || path[0] == '/')
    return path;
  char cwd[PATH_MAX];
  return getcwd(cwd, sizeof cwd) ? std::string(cwd) + "/" + path : path;
}

// The descriptor flang's runtime has open on `path`: the files layer is told it is re-created
// here, so that it does not warn that nobody will.
void claim_descriptor(const std::string &path) {
  char real[PATH_MAX];
  if (!realpath(path.c_str(), real))
    return;
  DIR *d = opendir("/proc/self/fd");
  if (!d)
    return;
  while (dirent *e = readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9')
      continue;
    char link[64], target[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%s", e->d_name);
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n > 0 && (target[n] = 0, strcmp(target, real) == 0))
      files::library_fd(atoi(e->d_name));
  }
  closedir(d);
}

}  // namespace

// ---- Checkpoint ---------------------------------------------------------------------------------

// Every watched unit that is open, flushed (its records on disk), with the fds behind it claimed.
void flush_units() {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (!g_watched || !_FortranAioBeginFlush)
    return;
  RuntimeHeap runtime_heap;
  for (auto &[number, newunit] : *g_watched) {
    Cookie c = quiet(_FortranAioBeginInquireUnit(number, __FILE__, __LINE__));
    bool opened = false;
    _FortranAioInquireLogical(c, keyword("OPENED"), opened);
    std::string name = opened ? inquire_text(c, "NAME") : "";
    _FortranAioEndIoStatement(c);
    if (!opened)
      continue;
    _FortranAioEndIoStatement(quiet(_FortranAioBeginFlush(number, __FILE__, __LINE__)));
    claim_descriptor(name);
  }
}

void remember_defaults(const void *env_defaults) { g_env_defaults = env_defaults; }
const void *environment_defaults() { return g_env_defaults; }

std::string save_units() {
  std::lock_guard<std::mutex> lock(g_mutex);
  RuntimeHeap runtime_heap;
  Section section;
  section.env_defaults = reinterpret_cast<uintptr_t>(g_env_defaults);
  std::vector<Unit> &units = section.units;
  for (auto &[number, newunit] : g_watched ? *g_watched : std::vector<std::pair<int, bool>>{}) {
    Cookie c = quiet(_FortranAioBeginInquireUnit(number, __FILE__, __LINE__));
    bool opened = false, named = false;
    _FortranAioInquireLogical(c, keyword("OPENED"), opened);
    _FortranAioInquireLogical(c, keyword("NAMED"), named);
    Unit u;
    u.number = number;
    u.newunit = newunit;
    if (opened) {
      u.path = absolute(inquire_text(c, "NAME"));
      u.access = inquire_text(c, "ACCESS");
      u.form = inquire_text(c, "FORM");
      u.action = inquire_text(c, "ACTION");
      for (auto [field, what] : {std::pair{&u.blank, "BLANK"}, {&u.decimal, "DECIMAL"},
                                 {&u.delim, "DELIM"}, {&u.pad, "PAD"}, {&u.round, "ROUND"},
                                 {&u.sign, "SIGN"}, {&u.encoding, "ENCODING"}})
        *field = inquire_text(c, what);
      u.recl = u.access == "DIRECT" ? inquire_int(c, "RECL") : 0;
      u.pos = inquire_int(c, "POS");
    }
    _FortranAioEndIoStatement(c);
    if (!opened)
      continue;
    if (!named || u.path.empty()) {
      warn("Fortran unit %d is a scratch file; it will not be re-opened after a restart", number);
      continue;
    }
    struct stat st;
    u.size = stat(u.path.c_str(), &st) == 0 ? st.st_size : 0;
    units.push_back(std::move(u));
  }
  return image::to_archive(section);
}

void watch_unit(int number, bool newunit) { watch(number, newunit); }

void load_units(const std::string &bytes) {
  if (bytes.empty())
    return;
  RuntimeHeap runtime_heap;
  Section section;
  if (!image::from_archive(bytes, &section, "Fortran section"))
    fatal("the Fortran section of the checkpoint is damaged; the image does not match this "
          "program: remove the checkpoint directory to start over");
  g_env_defaults = reinterpret_cast<const void *>(uintptr_t(section.env_defaults));
  g_saved = new std::vector<Unit>(std::move(section.units));
}

// ---- Restart ------------------------------------------------------------------------------------

namespace {

bool set(bool (*fn)(Cookie, const char *, size_t), Cookie c, const std::string &v) {
  return !defined(v) || fn(c, v.data(), v.size());
}

// OPEN again, under the same number.  `at_end`: positioned after the last record.
void open_again(const Unit &u, bool at_end) {
  Cookie c = quiet(u.newunit ? _FortranAioBeginOpenNewUnit(__FILE__, __LINE__)
                             : _FortranAioBeginOpenUnit(u.number, __FILE__, __LINE__));
  _FortranAioSetFile(c, u.path.data(), u.path.size());
  _FortranAioSetStatus(c, "OLD", 3);
  set(_FortranAioSetAccess, c, u.access);
  set(_FortranAioSetForm, c, u.form);
  set(_FortranAioSetAction, c, u.action);
  if (u.access == "DIRECT")
    _FortranAioSetRecl(c, size_t(u.recl));
  else
    _FortranAioSetPosition(c, at_end ? "APPEND" : "REWIND", 6);
  if (u.form == "FORMATTED") {
    set(_FortranAioSetBlank, c, u.blank);
    set(_FortranAioSetDecimal, c, u.decimal);
    set(_FortranAioSetDelim, c, u.delim);
    set(_FortranAioSetPad, c, u.pad);
    set(_FortranAioSetRound, c, u.round);
    set(_FortranAioSetSign, c, u.sign);
    if (u.encoding == "UTF-8")  // INQUIRE says ASCII for OPEN's ENCODING='DEFAULT'
      set(_FortranAioSetEncoding, c, u.encoding);
  }
  int number = u.number;
  if (u.newunit)
    _FortranAioGetNewUnit(c, number, 4);
  if (int iostat = _FortranAioEndIoStatement(c))
    fatal("cannot re-open Fortran unit %d (%s): flang's OPEN failed with IOSTAT=%d; remove the "
          "checkpoint directory to start over", u.number, u.path.c_str(), iostat);
  if (number != u.number)
    fatal("Fortran unit %d (%s) came back as unit %d after the restart: this flang numbers "
          "NEWUNIT units differently; remove the checkpoint directory to start over",
          u.number, u.path.c_str(), number);
}

}  // namespace

void reopen_units() {
  if (!g_saved || !_FortranAioBeginOpenUnit)
    return;
  RuntimeHeap runtime_heap;
  std::vector<Unit> units = std::move(*g_saved);
  delete g_saved;
  g_saved = nullptr;
  // NEWUNIT numbers come from flang's pool in order (-2, -3, ...): units that were closed at
  // the checkpoint are held by placeholders while the later ones are opened, then closed.
  std::sort(units.begin(), units.end(), [](const Unit &a, const Unit &b) {
    return a.newunit != b.newunit ? !a.newunit : a.newunit ? a.number > b.number
                                                           : a.number < b.number;
  });
  std::vector<int> placeholders;
  int next_new = kFirstNewUnit;
  for (const Unit &u : units) {
    for (; u.newunit && next_new > u.number; --next_new) {
      Cookie c = quiet(_FortranAioBeginOpenNewUnit(__FILE__, __LINE__));
      _FortranAioSetStatus(c, "SCRATCH", 7);
      int n = 0;
      _FortranAioGetNewUnit(c, n, 4);
      _FortranAioEndIoStatement(c);
      placeholders.push_back(n);
    }
    if (u.newunit)
      --next_new;

    struct stat st;
    if (stat(u.path.c_str(), &st) != 0)
      fatal("cannot re-open Fortran unit %d: %s: %s; restore the file, or remove the "
            "checkpoint directory to start over", u.number, u.path.c_str(), strerror(errno));
    bool writes = u.action != "READ";
    bool sequential = u.access == "SEQUENTIAL";
    int64_t offset = u.pos > 0 ? u.pos - 1 : 0;
    if (st.st_size < u.size)
      fatal("cannot re-open Fortran unit %d: %s has %lld bytes, the checkpoint saw %lld; restore "
            "the file, or remove the checkpoint directory to start over", u.number,
            u.path.c_str(), (long long)st.st_size, (long long)u.size);
    // What was written after the checkpoint goes; a sequential unit that only writes ends at
    // its position (its next record is the file's last).
    int64_t keep = writes && sequential && u.action == "WRITE" ? offset : u.size;
    if (writes && st.st_size > keep && truncate(u.path.c_str(), keep) != 0)
      fatal("cannot cut %s back to its size at the checkpoint: %s", u.path.c_str(),
            strerror(errno));
    bool at_end = !sequential || offset >= keep;
    open_again(u, at_end && sequential);
    log(2, "Fortran unit %d is %s again, at byte %lld", u.number, u.path.c_str(),
        (long long)offset);
    if (u.access == "STREAM" && offset > 0) {
      if (u.form != "UNFORMATTED" || u.action == "WRITE") {
        warn("Fortran unit %d (%s): a formatted or write-only stream is re-opened at its "
             "start, not at byte %lld", u.number, u.path.c_str(), (long long)offset);
        continue;
      }
      Cookie c = quiet(_FortranAioBeginUnformattedInput(u.number, __FILE__, __LINE__));
      _FortranAioSetPos(c, u.pos);
      _FortranAioEndIoStatement(c);
    } else if (sequential && !at_end) {
      // Records are read again until the unit is where it was.
      bool formatted = u.form == "FORMATTED";
      int64_t now = position(u.number), before = -1;
      while (now < u.pos && now != before) {
        Cookie c = quiet(formatted
                             ? _FortranAioBeginExternalListInput(u.number, __FILE__, __LINE__)
                             : _FortranAioBeginUnformattedInput(u.number, __FILE__, __LINE__));
        _FortranAioEndIoStatement(c);
        before = now;
        now = position(u.number);
      }
      if (now != u.pos)
        fatal("cannot put Fortran unit %d (%s) back at byte %lld (it is at %lld): the file "
              "changed; restore it, or remove the checkpoint directory to start over",
              u.number, u.path.c_str(), (long long)offset, (long long)(now - 1));
    }
    claim_descriptor(u.path);
  }
  for (int n : placeholders)
    _FortranAioEndIoStatement(quiet(_FortranAioBeginClose(n, __FILE__, __LINE__)));
  for (const Unit &u : units)
    watch(u.number, u.newunit);
}

}  // namespace autockpt::fortran
