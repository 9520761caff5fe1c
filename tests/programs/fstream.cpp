// C++ file streams across checkpoints and restarts: reads INPUT with std::ifstream and
// std::getline (rewinding with seekg every round), writes a line per input line to OUTPUT
// through a std::ofstream whose buffer is usually part-full at a checkpoint, appends a summary
// per round to OUTPUT.sum through a heap-allocated std::ofstream, and prints progress on
// std::cout, which is not synchronised with stdio and keeps a fixed precision set once at the
// start.  The output files and stdout must be the same whether it runs once or is killed and
// restarted.
//
//     fstream INPUT OUTPUT ROUNDS [WORK]     (WORK: inner iterations per input line)
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <string>

static unsigned long long mix(const std::string &s, long work) {
  unsigned long long h = 1469598103934665603ull;
  for (long k = 0; k < work; ++k)
    for (char c : s)
      h = (h ^ (unsigned char)c) * 1099511628211ull + (unsigned long long)k;
  return h;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    std::cerr << "usage: fstream INPUT OUTPUT ROUNDS [WORK]\n";
    return 2;
  }
  long rounds = std::atol(argv[3]);
  long work = argc > 4 ? std::atol(argv[4]) : 2000;
  std::ios::sync_with_stdio(false);
  std::cout << std::fixed << std::setprecision(3);
  std::ifstream in(argv[1]);
  std::ofstream out(argv[2]);
  auto sum = std::make_unique<std::ofstream>(std::string(argv[2]) + ".sum");
  if (!in || !out || !*sum) {
    std::cerr << "cannot open the files\n";
    return 1;
  }
  double acc = 0;
  std::string line;
  for (long r = 0; r < rounds; ++r) {
    in.clear();
    in.seekg(0);
    long lines = 0;
    while (std::getline(in, line)) {
      unsigned long long h = mix(line, work);
      acc += double(h % 1000) / 7.0;
      out << r << ' ' << lines << ' ' << std::hex << h << std::dec << '\n';
      ++lines;
    }
    *sum << "round " << r << ": " << lines << " lines, " << in.tellg() << '\n';
    std::cout << "round " << r << " lines " << lines << " acc " << acc << '\n';
  }
  out.close();
  sum.reset();
  std::cout << "done " << acc << std::endl;
  return out ? 0 : 1;
}
