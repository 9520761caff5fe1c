// Static constructors run once: in a restarted process the image holds what they did.  A C++
// global with a constructor that prints and allocates, a global std::ofstream (its constructor
// truncates the file), a C constructor function with a priority, and an inline variable.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

static int constructor_runs;

struct Table {
  std::vector<double> weights;
  Table() {
    for (int i = 0; i < 1000; i++) weights.push_back(1.0 / (i + 1));
    constructor_runs++;
    std::printf("table constructed\n");
  }
};
Table table;
std::ofstream journal("ctors.journal");
inline std::string greeting = std::string("hello from an inline variable");

__attribute__((constructor(200))) static void early() {
  constructor_runs++;
  std::printf("C constructor\n");
}

int main(int argc, char **argv) {
  int rounds = argc > 1 ? std::atoi(argv[1]) : 12;
  double s = 0;
  for (int round = 1; round <= rounds; round++) {
    for (int i = 0; i < 1000000; i++) s += table.weights[i % 1000] * ((i & 7) - 3);
    journal << "round " << round << "\n";
    journal.flush();
    std::printf("round %d %.6f\n", round, s);
    std::fflush(stdout);
  }
  journal.close();
  std::ifstream back("ctors.journal");
  int lines = 0;
  for (std::string line; std::getline(back, line);) lines++;
  std::printf("%s; constructors ran %d times; journal has %d lines\n", greeting.c_str(),
              constructor_runs, lines);
  return 0;
}
