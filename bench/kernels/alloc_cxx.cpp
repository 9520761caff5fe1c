// Allocator benchmark (C++): std::map<int, std::string> inserts and erases (strings past the
// small-string buffer, so every one allocates), and std::vector growth by push_back.
#include "bench.h"

#include <map>
#include <string>
#include <vector>

BENCH_KERNEL uint64_t bench_kernel_alloc_cxx(long ops, long nkeys, long nvec, uint64_t *rng) {
  uint64_t check = 0;
  std::map<int, std::string> m;
  for (long op = 0; op < ops; op++) {
    uint64_t r = bench_rand(rng);
    int k = int(r % uint64_t(nkeys));
    if ((r >> 32) & 1) {
      auto it = m.find(k);
      if (it != m.end()) {
        check += it->second.size();
        m.erase(it);
        continue;
      }
    }
    size_t len = 16 + size_t((r >> 40) % 48);
    m[k].assign(len, char('a' + (r >> 56) % 26));
  }
  check += m.size();
  for (long v = 0; v < nvec; v++) {
    std::vector<std::vector<int>> vs(32);
    for (int i = 0; i < 20000; i++)
      vs[size_t(i) & 31].push_back(i ^ int(v));
    for (auto &x : vs)
      check += x.size() + uint64_t(x.back());
  }
  return check;
}

int main(int argc, char **argv) {
  double rs = bench_arg(argc, argv, 1), ss = bench_arg(argc, argv, 2);
  long ops = bench_scaled(1500000, rs * ss, 1000);
  long nvec = bench_scaled(400, rs * ss, 2);
  uint64_t rng = 0xFACADEull;
  bench_time t0 = bench_now();
  uint64_t check = bench_kernel_alloc_cxx(ops, bench_scaled(50000, ss, 64), nvec, &rng);
  bench_time t = bench_since(t0);
  bench_report_u("alloc_cxx", t, check);
  return 0;
}
