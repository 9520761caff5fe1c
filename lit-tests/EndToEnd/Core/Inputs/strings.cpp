// Heap blocks made by library code compiled elsewhere: libstdc++'s out-of-line std::string and
// std::ostringstream allocate with the global operator new, which must be in the arena too.
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>

int main(int argc, char **argv) {
  int rounds = argc > 1 ? std::atoi(argv[1]) : 12;
  std::string text(200, 'x');
  std::ostringstream log;
  unsigned long h = 0;
  for (int round = 1; round <= rounds; round++) {
    for (int i = 0; i < 300000; i++) {
      text[(i * 7) % text.size()] = char('a' + (i + round) % 26);
      h = h * 131 + (unsigned char)text[i % text.size()];
    }
    log << round << ":" << (h % 1000) << " ";
    text += std::to_string(round);
    std::printf("round %d %s | %s\n", round, text.substr(0, 24).c_str(), log.str().c_str());
    std::fflush(stdout);
  }
  std::printf("done %zu %lu %s\n", text.size(), h, log.str().c_str());
  return 0;
}
