// A C++ program whose state lives on the heap and in nested calls: a std::vector of primes that
// grows, a std::map of gaps, a std::string log, and a helper called from the loop.  Prints one
// line per round (with a pause, so a harness can interrupt it) and a summary at the end.
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <unistd.h>
#include <vector>

static bool is_prime(long n, const std::vector<long> &primes) {
  for (long p : primes) {
    if (p * p > n) return true;
    if (n % p == 0) return false;
  }
  return true;
}

static void extend(std::vector<long> &primes, std::map<long, int> &gaps, long upto) {
  for (long n = primes.back() + 1; n <= upto; ++n) {
    if (is_prime(n, primes)) {
      ++gaps[n - primes.back()];
      primes.push_back(n);
    }
  }
}

int main(int argc, char **argv) {
  int rounds = argc > 1 ? std::atoi(argv[1]) : 20;
  std::vector<long> primes{2};
  std::map<long, int> gaps;
  std::string log;
  for (int r = 1; r <= rounds; ++r) {
    extend(primes, gaps, 20000L * r);
    log += std::to_string(primes.size() % 10);
    std::printf("round %d: %zu primes, largest %ld\n", r, primes.size(), primes.back());
    std::fflush(stdout);
  }
  long most = 0;
  int count = 0;
  for (const auto &[gap, n] : gaps)
    if (n > count) most = gap, count = n;
  std::printf("most common gap %ld (%d times), log %s\n", most, count, log.c_str());
  return 0;
}
