// C++: virtual calls, std::function, lambdas, STL containers on the heap, and exceptions thrown
// inside try blocks that a checkpoint interrupts; after a restart they are caught as before.
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

struct Shape {
  virtual ~Shape() = default;
  virtual double area() const = 0;
};
struct Square : Shape {
  double s;
  explicit Square(double s) : s(s) {}
  double area() const override { return s * s; }
};
struct Disc : Shape {
  double r;
  explicit Disc(double r) : r(r) {}
  double area() const override { return 3.0 * r * r; }
};

static double risky(int i) {
  if (i % 97 == 0)
    throw std::runtime_error("bad " + std::to_string(i));
  return i * 0.5;
}

int main(int argc, char **argv) {
  int rounds = argc > 1 ? std::atoi(argv[1]) : 12;
  std::map<int, std::string> names;
  std::function<double(double)> scale = [](double x) { return x * 1.5; };
  double total = 0;
  int caught = 0;
  for (int round = 1; round <= rounds; round++) {
    std::vector<std::unique_ptr<Shape>> shapes;
    for (int i = 0; i < 60000; i++) {
      if (i % 2)
        shapes.emplace_back(new Square(i % 13));
      else
        shapes.emplace_back(new Disc(i % 7));
      names[i % 500] = std::to_string(i * round);
      try {
        total += risky(i + round);
      } catch (const std::exception &e) {
        caught += e.what()[0] == 'b';
      }
    }
    for (auto &s : shapes)
      total += scale(s->area());
    std::printf("round %d total %.1f caught %d\n", round, total, caught);
    std::fflush(stdout);
  }
  std::string firsts;
  for (auto &kv : names)
    firsts += kv.second.substr(0, 1);
  std::printf("done %.1f %d %zu %s\n", total, caught, names.size(), firsts.substr(0, 24).c_str());
  return 0;
}
