// A C++ pipeline of std::threads joined by bounded queues (std::mutex, std::condition_variable,
// std::atomic, lambdas): a producer, a transformer and the main thread, which folds the results
// into a std::map and prints a line every 500 items.  Each thread keeps a thread_local count.
// Built with autockpt (a SIGUSR1 handler is installed before main) it asks for its own checkpoint
// every 2000 items (AUTOCKPT_ON_SIGNAL=continue): checkpoints follow its progress, not time.
// Usage: pipeline ITEMS
#include <atomic>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

template <class T>
class BoundedQueue {
 public:
  explicit BoundedQueue(size_t cap) : cap_(cap) {}
  void push(T v) {
    std::unique_lock<std::mutex> lock(mu_);
    not_full_.wait(lock, [&] { return q_.size() < cap_; });
    q_.push_back(v);
    not_empty_.notify_one();
  }
  T pop() {
    std::unique_lock<std::mutex> lock(mu_);
    not_empty_.wait(lock, [&] { return !q_.empty(); });
    T v = q_.front();
    q_.pop_front();
    not_full_.notify_one();
    return v;
  }

 private:
  std::mutex mu_;
  std::condition_variable not_empty_, not_full_;
  std::deque<T> q_;
  size_t cap_;
};

static thread_local long t_items;
static std::atomic<long> g_transformed{0};

static long slow_hash(long x) {
  unsigned long h = (unsigned long)x * 2654435761ul;
  for (int k = 0; k < 4000; k++)
    h = h * 6364136223846793005ul + 1442695040888963407ul + (h >> 29);
  return (long)(h % 1000);
}

int main(int argc, char **argv) {
  long items = argc > 1 ? atol(argv[1]) : 20000;
  struct sigaction sa;
  sigaction(SIGUSR1, nullptr, &sa);
  bool self_checkpoint = sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN;
  BoundedQueue<long> raw(8), cooked(8);
  long produced = 0, transformed = 0;
  std::thread producer([&] {
    for (long i = 0; i < items; i++) {
      raw.push(i);
      t_items++;
    }
    raw.push(-1);
    produced = t_items;
  });
  std::thread transformer([&] {
    for (;;) {
      long v = raw.pop();
      if (v < 0)
        break;
      cooked.push(slow_hash(v) * 100000 + v);
      t_items++;
      g_transformed.fetch_add(1, std::memory_order_relaxed);
    }
    cooked.push(-1);
    transformed = t_items;
  });
  std::map<long, long> buckets;
  long sum = 0;
  for (;;) {
    long v = cooked.pop();
    if (v < 0)
      break;
    buckets[v / 100000 % 10]++;
    sum += v / 100000;
    if (++t_items % 500 == 0) {
      std::printf("%ld items, sum %ld, bucket3 %ld\n", t_items, sum, buckets[3]);
      std::fflush(stdout);
      if (self_checkpoint && t_items % 2000 == 0)
        std::raise(SIGUSR1);
    }
  }
  producer.join();
  transformer.join();
  std::printf("done %ld %ld %ld %ld buckets %zu\n", produced, transformed, t_items,
              g_transformed.load(), buckets.size());
  return 0;
}
