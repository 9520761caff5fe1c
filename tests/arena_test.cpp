// Tests of the arena allocator (runtime/arena.cpp, design R8, R22): size classes without block
// headers, realloc across classes, aligned blocks, usable_size, freed memory left out of what a
// checkpoint saves, and many threads at once.  The test binary's own malloc is glibc's: only
// what the tests ask of autockpt::arena comes from the arena.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <set>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "arena.h"

namespace autockpt::arena {
namespace {

class ArenaTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { init(uint64_t(4) << 30); }
};

uint64_t saved_bytes() {
  uint64_t n = 0;
  for (const Extent &e : saved_extents()) n += e.length;
  return n;
}

TEST_F(ArenaTest, SmallBlocksCarryNoHeader) {
  // 1000 blocks of 32 bytes lie 32 bytes apart: nothing between them.
  std::vector<char *> v;
  for (int i = 0; i < 1000; ++i) v.push_back(static_cast<char *>(malloc(32)));
  std::sort(v.begin(), v.end());
  unsigned adjacent = 0;
  for (size_t i = 1; i < v.size(); ++i) adjacent += v[i] - v[i - 1] == 32;
  EXPECT_GE(adjacent, 990u);
  for (char *p : v) EXPECT_EQ(usable_size(p), 32u);
  for (char *p : v) free(p);
}

TEST_F(ArenaTest, EveryClassHoldsWhatWasAskedAndIsAligned) {
  for (size_t n = 0; n <= (300u << 10); n = n < 512 ? n + 1 : n * 9 / 8) {
    char *p = static_cast<char *>(malloc(n));
    ASSERT_NE(p, nullptr) << n;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 16, 0u) << n;
    EXPECT_GE(usable_size(p), n);
    EXPECT_LE(usable_size(p), n < 256 ? n + 16 : n + n / 4 + 8192) << n;
    memset(p, 0xab, usable_size(p));
    char *q = static_cast<char *>(calloc(1, n));  // reuses nothing dirty without zeroing it
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(q[i], 0) << n;
    free(p);
    char *r = static_cast<char *>(calloc(n, 1));  // may reuse p's block
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(r[i], 0) << n;
    free(q);
    free(r);
  }
}

TEST_F(ArenaTest, ReallocAcrossClassesKeepsTheBytes) {
  char *p = static_cast<char *>(malloc(10));
  for (int i = 0; i < 10; ++i) p[i] = char(i);
  size_t n = 10;
  for (size_t to : {20u, 100u, 1000u, 5000u, 70000u, 300000u, 3000000u, 40u, 7u}) {
    p = static_cast<char *>(realloc(p, to));
    ASSERT_NE(p, nullptr);
    for (size_t i = 0; i < std::min(n, to); ++i) ASSERT_EQ(p[i], char(i)) << to;
    for (size_t i = n; i < to; ++i) p[i] = char(i);
    n = to;
  }
  free(p);
}

TEST_F(ArenaTest, AlignedBlocksOfEverySize) {
  for (size_t align = 16; align <= (1u << 20); align *= 4) {
    for (size_t n : {1u, 100u, 4096u, 100000u, 600000u}) {
      char *p = static_cast<char *>(aligned(align, n));
      ASSERT_NE(p, nullptr);
      EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % align, 0u) << align << " " << n;
      EXPECT_GE(usable_size(p), n);
      memset(p, 1, n);
      char *q = static_cast<char *>(realloc(p, n * 2));  // leaves the aligned block
      for (size_t i = 0; i < n; ++i) ASSERT_EQ(q[i], 1);
      free(q);
      free(aligned(align, n));
    }
  }
}

TEST_F(ArenaTest, FreedMemoryIsNotSaved) {
  const uint64_t before = saved_bytes();
  std::vector<void *> small, large;
  for (int i = 0; i < 100000; ++i) small.push_back(malloc(48));
  for (int i = 0; i < 20; ++i) large.push_back(malloc(1 << 20));
  for (void *p : large) memset(p, 1, 1 << 20);
  const uint64_t full = saved_bytes();
  EXPECT_GE(full, before + 100000 * 48 + 20 * (1 << 20));
  EXPECT_LE(full, before + 100000 * 48 + 21 * (1 << 20) + (1 << 20));
  // Every other large block and all the small ones freed: what is saved shrinks with them.
  for (size_t i = 0; i < large.size(); i += 2) free(large[i]);
  for (void *p : small) free(p);
  EXPECT_LE(saved_bytes(), before + 11 * (1 << 20) + (1 << 20));
  for (size_t i = 1; i < large.size(); i += 2) free(large[i]);
  // The extents are page-aligned and ordered; all but the page map's lie below the frontier.
  const std::vector<Extent> extents = saved_extents();
  uint64_t end = 0;
  for (const Extent &e : extents) {
    EXPECT_EQ(e.offset % 4096, 0u);
    EXPECT_GE(e.offset, end);
    end = e.offset + e.length;
  }
  EXPECT_LE(end, reserved_bytes());
  ASSERT_GE(extents.size(), 2u);
  EXPECT_LE(extents[extents.size() - 2].offset + extents[extents.size() - 2].length, used_bytes());
}

TEST_F(ArenaTest, ManyThreadsAllocateAndFree) {
  constexpr int kThreads = 8, kRounds = 20000;
  std::vector<std::thread> threads;
  std::vector<int> bad(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t, &bad] {
      std::vector<std::pair<unsigned char *, size_t>> live;
      uint64_t x = 0x9e3779b97f4a7c15ull * (t + 1);
      for (int i = 0; i < kRounds; ++i) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t n = (x >> 8) % (x % 8 == 0 ? 20000 : 200) + 1;
        if (live.size() > 100 || (x & 1)) {
          if (!live.empty()) {
            auto [p, m] = live[(x >> 20) % live.size()];
            for (size_t k = 0; k < m; ++k) bad[t] += p[k] != (unsigned char)(m + t);
            free(p);
            live.erase(std::find(live.begin(), live.end(), std::make_pair(p, m)));
          }
        } else {
          auto *p = static_cast<unsigned char *>(malloc(n));
          memset(p, (unsigned char)(n + t), n);
          live.push_back({p, n});
        }
      }
      for (auto [p, m] : live) free(p);
    });
  }
  for (std::thread &th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(bad[t], 0) << "thread " << t;
}

TEST_F(ArenaTest, AForeignPointerIsNotTheArenas) {
  int local = 0;
  EXPECT_FALSE(contains(&local));
  void *p = malloc(8);
  EXPECT_TRUE(contains(p));
  free(p);
}

}  // namespace
}  // namespace autockpt::arena
