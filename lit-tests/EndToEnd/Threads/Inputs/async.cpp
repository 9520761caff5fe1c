// std::async tasks beside a std::jthread ticker (threads that libstdc++ starts): each round the
// main thread starts three tasks and waits for their results in std::future::get.  Built with
// autockpt (a SIGUSR1 handler is installed before main), the first task of every 3rd round asks
// for a checkpoint before its work, so the main thread is stopped inside future::get and the
// tasks at polls in their work.  Usage: async ROUNDS
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <thread>
#include <vector>

static bool self_checkpoint;

static double work(int task, int round) {
  if (self_checkpoint && task == 0 && round % 3 == 1)
    raise(SIGUSR1);
  double s = 0;
  for (int i = 1; i < 300000; i++)
    s += double((i * (task + 3) + round) % 97) / i;
  return s;
}

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 20;
  struct sigaction sa;
  sigaction(SIGUSR1, nullptr, &sa);
  self_checkpoint = sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN;
  std::atomic<long> ticks{0};
  {
    std::jthread ticker([&](std::stop_token stop) {
      while (!stop.stop_requested()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        ticks++;
      }
    });
    for (int r = 0; r < rounds; r++) {
      std::vector<std::future<double>> tasks;
      for (int t = 0; t < 3; t++)
        tasks.push_back(std::async(std::launch::async, work, t, r));
      double sum = 0;
      for (auto &f : tasks)
        sum += f.get();
      printf("round %d %.6f\n", r + 1, sum);
      fflush(stdout);
    }
  }
  printf("done, ticker %s\n", ticks > 0 ? "ticked" : "idle");
}
