// Exit handlers registered before and during main run once, after a restart too.
#include <cstdio>
#include <cstdlib>
struct Noisy { const char *name; ~Noisy() { std::printf("destroyed %s\n", name); } };
Noisy global_object{"global"};
static void bye() { std::printf("bye from atexit\n"); }
static long step(int i) { static Noisy local{"local static"}; return i % 7; }
int main(int argc, char **argv) {
  int rounds = argc > 1 ? std::atoi(argv[1]) : 12;
  std::atexit(bye);
  long s = 0;
  for (int round = 1; round <= rounds; round++) {
    for (int i = 0; i < 1000000; i++) s += step(i) ^ (i & 3);
    std::printf("round %d %ld\n", round, s);
    std::fflush(stdout);
  }
  std::printf("done %ld\n", s);
  return 0;
}
