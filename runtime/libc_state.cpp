// rand()/random(), drand48() and the C++ standard streams' formatting across a restart (see
// libc_state.h).
//
// random() (and rand(), which is random() in glibc) keeps its state in an int32 array whose
// first word glibc writes, when it switches arrays, with the generator's type and the position
// of its rear pointer.  A checkpoint switches away and back (initstate on a scratch array, then
// setstate) so that word is current, and saves the array's address and bytes; a restart puts the
// bytes back (at the same address when it is memory the image restores, else in a runtime array:
// libc's own default array may sit elsewhere in a newer libc) and switches to it with setstate.
//
// The drand48 family keeps a 48-bit X: seed48 returns the old X and sets a new one, so the
// checkpoint reads X by setting it twice.  seed48 also resets the multiplier and addend, which
// lcong48 may have changed and nothing can read back: lcong48, seed48 and srand48 are redirected
// so the runtime knows the parameters in force and re-applies them.
#include "libc_state.h"

#include "files.h"
#include "log.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <sstream>

#include "image/archive.h"
#include <boost/serialization/string.hpp>
#include <boost/serialization/version.hpp>

namespace autockpt::libc_state {

struct StreamFormat {
  int32_t flags = 0, fill = ' ', state = 0, exceptions = 0;
  int64_t precision = 6, width = 0;

  template <class A>
  void serialize(A &a, unsigned /*version*/) {
    a & flags & fill & state & exceptions & precision & width;
  }
};

struct Section {
  uint64_t random_at = 0;    // the address of the state array's first (type) word
  std::string random_state;  // its bytes, first word included
  uint16_t x[3] = {};        // drand48's X
  bool lcong = false;        // lcong48's parameters are in force
  uint16_t lcong_params[7] = {};
  StreamFormat cin, cout, cerr, clog;

  template <class A>
  void serialize(A &a, unsigned /*version*/) {
    a & random_at & random_state;
    for (uint16_t &w : x)
      a & w;
    a & lcong;
    for (uint16_t &w : lcong_params)
      a & w;
    a & cin & cout & cerr & clog;
  }
};

}  // namespace autockpt::libc_state

BOOST_CLASS_VERSION(autockpt::libc_state::Section, 1)

namespace autockpt::libc_state {

namespace {

int32_t g_scratch[32];     // a 128-byte state to switch to while reading random()'s
int32_t g_random_home[64];  // random()'s state when its array is not in saved memory
bool g_lcong;               // lcong48 was called after the last seed48/srand48
unsigned short g_lcong_params[7];

constexpr int kDegree[5] = {0, 7, 15, 31, 63};  // glibc's TYPE_0..TYPE_4

StreamFormat format_of(std::ios &s) {
  StreamFormat f;
  f.flags = int32_t(s.flags());
  f.fill = s.fill();
  f.state = int32_t(s.rdstate());
  f.exceptions = int32_t(s.exceptions());
  f.precision = s.precision();
  f.width = s.width();
  return f;
}

void set_format(std::ios &s, const StreamFormat &f) {
  s.flags(std::ios::fmtflags(f.flags));
  s.fill(char(f.fill));
  s.precision(f.precision);
  s.width(f.width);
  try {
    s.exceptions(std::ios::goodbit);
    s.clear(std::ios::iostate(f.state));
    s.exceptions(std::ios::iostate(f.exceptions));
  } catch (const std::exception &) {
  }
}

}  // namespace

std::string save() {
  Section sec;
  char *cur = initstate(1, reinterpret_cast<char *>(g_scratch), sizeof g_scratch);
  setstate(cur);  // writes cur's type and rear position into its first word
  int32_t head;
  memcpy(&head, cur, sizeof head);
  int degree = kDegree[(head % 5 + 5) % 5];
  sec.random_at = reinterpret_cast<uintptr_t>(cur);
  sec.random_state.assign(cur, sizeof(int32_t) * size_t(1 + std::max(degree, 1)));

  unsigned short zero[3] = {0, 0, 0};
  unsigned short *old = seed48(zero);
  unsigned short x[3] = {old[0], old[1], old[2]};
  seed48(x);
  if (g_lcong) {
    unsigned short p[7] = {x[0], x[1], x[2], g_lcong_params[3], g_lcong_params[4],
                           g_lcong_params[5], g_lcong_params[6]};
    lcong48(p);
  }
  std::copy(x, x + 3, sec.x);
  sec.lcong = g_lcong;
  std::copy(g_lcong_params, g_lcong_params + 7, sec.lcong_params);

  sec.cin = format_of(std::cin);
  sec.cout = format_of(std::cout);
  sec.cerr = format_of(std::cerr);
  sec.clog = format_of(std::clog);

  return image::to_archive(sec);
}

void restore(const std::string &saved) {
  if (saved.empty())
    return;
  Section sec;
  if (Status s = image::from_archive(saved, &sec, "the checkpoint's library state"); !s)
    fatal("%s", s.message().c_str());
  if (sec.random_state.size() >= 8 && sec.random_state.size() <= sizeof g_random_home) {
    auto *at = reinterpret_cast<char *>(sec.random_at);
    if (!files::in_saved_memory(at))
      at = reinterpret_cast<char *>(g_random_home);
    memcpy(at, sec.random_state.data(), sec.random_state.size());
    setstate(at);
  }

  unsigned short x[3] = {sec.x[0], sec.x[1], sec.x[2]};
  seed48(x);
  g_lcong = sec.lcong;
  std::copy(sec.lcong_params, sec.lcong_params + 7, g_lcong_params);
  if (g_lcong) {
    unsigned short p[7] = {x[0], x[1], x[2], g_lcong_params[3], g_lcong_params[4],
                           g_lcong_params[5], g_lcong_params[6]};
    lcong48(p);
  }

  set_format(std::cin, sec.cin);
  set_format(std::cout, sec.cout);
  set_format(std::cerr, sec.cerr);
  set_format(std::clog, sec.clog);
}

}  // namespace autockpt::libc_state

// The redirected calls that set drand48's parameters (include/autockpt/redirects_files.def).
extern "C" {

void __autockpt_srand48(long seed) {
  autockpt::libc_state::g_lcong = false;
  srand48(seed);
}

unsigned short *__autockpt_seed48(unsigned short x[3]) {
  autockpt::libc_state::g_lcong = false;
  return seed48(x);
}

void __autockpt_lcong48(unsigned short params[7]) {
  std::copy(params, params + 7, autockpt::libc_state::g_lcong_params);
  autockpt::libc_state::g_lcong = true;
  lcong48(params);
}

}  // extern "C"
