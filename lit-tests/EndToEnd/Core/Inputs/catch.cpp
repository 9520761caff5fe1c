// Work inside throw expressions and catch blocks: every round throws an exception whose message
// takes work to compute, and the handler computes (its loop polls) while the exception is caught,
// then uses it again; a nested try inside the handler throws and catches a second one.  Most of
// the program's polls are there, so kills land there; a checkpoint must wait for the throw and the
// block's end (docs/design.md R25).
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

static double work(int round, int n) {
  double s = 0;
  for (int i = 0; i < n; i++)
    s += (i % (round + 7)) * 0.5;
  return s;
}

// The message takes work: it is computed after the exception object is allocated and before it
// is thrown (the throw expression's operand), so polls fall there too.
static std::string describe(int round) {
  return "round " + std::to_string(round) + (work(round, 100000) > 0 ? " +" : " -");
}

static void fail(int round) { throw std::runtime_error(describe(round)); }

int main(int argc, char **argv) {
  int rounds = argc > 1 ? std::atoi(argv[1]) : 40;
  double total = 0;
  unsigned long chars = 0;
  for (int round = 1; round <= rounds; round++) {
    try {
      fail(round);
    } catch (const std::exception &e) {
      total += work(round, 200000);
      try {
        throw std::logic_error(std::string(e.what()) + " inner");
      } catch (const std::logic_error &inner) {
        total += work(round + 1, 100000);
        chars += std::string(inner.what()).size();
      }
      chars += std::string(e.what()).size();
    }
    if (round % 4 == 0) {
      std::printf("round %d total %.1f chars %lu\n", round, total, chars);
      std::fflush(stdout);
    }
  }
  std::printf("done %.1f %lu\n", total, chars);
  return 0;
}
