// C++ thread_local objects with destructors, in two std::threads and in main, across checkpoints
// and restarts: the C library keeps the list of a thread's thread_local destructors in memory no
// image holds, so after a restart they must still run, once each, when each thread ends (the
// runtime keeps the lists).  The workers' destructors record what they saw and main prints it
// after joining them; main's own prints the last line at exit.  The workers end before main's
// last rounds, so the last checkpoints hold threads that have ended and are not joined yet.  Main waits for the workers'
// rounds on a condition variable, prints them and asks for its own checkpoint every 3rd round
// (SIGUSR1, AUTOCKPT_ON_SIGNAL=continue, when a handler is installed).
// Usage: thread-dtors ROUNDS
#include <atomic>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>

static std::mutex mu;
static std::condition_variable cv;
static int progress[2];
static std::atomic<int> destroyed{0};
static long destroyed_with[2] = {-1, -1};

struct Tally {
  int who = -1;
  long count = 0;
  ~Tally() {
    destroyed.fetch_add(1);
    if (who < 2) {
      std::lock_guard<std::mutex> lock(mu);
      destroyed_with[who] = count;
      cv.notify_one();
    } else {
      std::printf("main: thread_local destroyed with %ld\n", count);
      std::fflush(stdout);
    }
  }
};
static thread_local Tally tally;

static void worker(int who, int rounds) {
  tally.who = who;
  double s = 0;
  for (int r = 1; r <= rounds; r++) {
    for (long i = 1; i < 300000; i++)
      s += double((i * (r + who)) % 13) / double(i);
    tally.count += long(s) % 7 + 1;
    std::lock_guard<std::mutex> lock(mu);
    progress[who] = r;
    cv.notify_one();
  }
}

int main(int argc, char **argv) {
  int rounds = argc > 1 ? std::atoi(argv[1]) : 12;
  struct sigaction sa;
  sigaction(SIGUSR1, nullptr, &sa);
  bool self_checkpoint = sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN;
  tally.who = 2;
  std::thread a(worker, 0, rounds), b(worker, 1, rounds);
  for (int r = 1; r <= rounds; r++) {
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [r] { return progress[0] >= r && progress[1] >= r; });
      // The last checkpoints hold two threads that have ended and are not joined yet.
      if (r == rounds - 3)
        cv.wait(lock, [] { return destroyed_with[0] >= 0 && destroyed_with[1] >= 0; });
    }
    tally.count += r;
    std::printf("round %d\n", r);
    std::fflush(stdout);
    if (self_checkpoint && r % 3 == 0)
      std::raise(SIGUSR1);
  }
  a.join();
  b.join();
  std::printf("workers' thread_locals destroyed: %d, with %ld and %ld\n", destroyed.load(),
              destroyed_with[0], destroyed_with[1]);
  std::fflush(stdout);
  return 0;  // main's own is destroyed at exit: its line comes last
}
