// (f) STL- and virtual-call-heavy C++: a std::vector of polymorphic shapes (virtual area()),
// std::map and std::unordered_map look-ups and updates, and std::function callbacks.
// The containers are built before the clock starts; the kernel mostly calls and looks up.
#include "bench.h"

#include <functional>
#include <map>
#include <memory>
#include <unordered_map>
#include <vector>

namespace {

struct Shape {
  virtual ~Shape() = default;
  virtual double area() const = 0;
  virtual void grow(double f) = 0;
};
struct Circle final : Shape {
  double r;
  explicit Circle(double r) : r(r) {}
  double area() const override { return 3.141592653589793 * r * r; }
  void grow(double f) override { r *= f; }
};
struct Rect final : Shape {
  double w, h;
  Rect(double w, double h) : w(w), h(h) {}
  double area() const override { return w * h; }
  void grow(double f) override { w *= f; }
};
struct Tri final : Shape {
  double b, h;
  Tri(double b, double h) : b(b), h(h) {}
  double area() const override { return 0.5 * b * h; }
  void grow(double f) override { h *= f; }
};

struct Data {
  std::vector<std::unique_ptr<Shape>> shapes;
  std::map<int, int> ordered;
  std::unordered_map<int, double> hashed;
  std::vector<std::function<double(double)>> fns;
  std::vector<int> keys;
};

}  // namespace

BENCH_KERNEL double bench_kernel_stl(Data &d, long reps) {
  double acc = 0;
  for (long r = 0; r < reps; r++) {
    for (auto &s : d.shapes)
      acc += s->area();
    for (size_t i = r & 7; i < d.shapes.size(); i += 8)
      d.shapes[i]->grow(r & 1 ? 1.0001 : 0.9999);
    for (int k : d.keys) {
      auto it = d.ordered.find(k);
      if (it != d.ordered.end())
        acc += it->second;
      d.hashed[k ^ int(r & 3)] += 0.5;
    }
    double x = 0.001 * double(r);
    for (auto &f : d.fns)
      x = f(x);
    acc += x;
  }
  for (auto &[k, v] : d.hashed)
    acc += v * double(k & 15);
  return acc;
}

int main(int argc, char **argv) {
  double rs = bench_arg(argc, argv, 1), ss = bench_arg(argc, argv, 2);
  long nshapes = bench_scaled(200000, ss, 64);
  long nkeys = bench_scaled(100000, ss, 64);
  long reps = bench_scaled(12, rs, 1);
  Data d;
  uint64_t rng = 12345;
  for (long i = 0; i < nshapes; i++) {
    double a = double(bench_rand(&rng) % 1000) * 0.01, b = double(bench_rand(&rng) % 1000) * 0.01;
    switch (bench_rand(&rng) % 3) {
      case 0: d.shapes.push_back(std::make_unique<Circle>(a)); break;
      case 1: d.shapes.push_back(std::make_unique<Rect>(a, b)); break;
      default: d.shapes.push_back(std::make_unique<Tri>(a, b)); break;
    }
  }
  for (long i = 0; i < nkeys; i++) {
    int k = int(bench_rand(&rng) % uint64_t(4 * nkeys));
    d.ordered[k] = int(i & 255);
    d.keys.push_back(int(bench_rand(&rng) % uint64_t(4 * nkeys)));
    d.hashed[k] = 0;
  }
  for (int i = 0; i < 20000; i++) {
    double c = 1e-6 * double(i % 7);
    switch (i % 4) {
      case 0: d.fns.emplace_back([c](double x) { return x * 0.999 + c; }); break;
      case 1: d.fns.emplace_back([c](double x) { return x + c * x; }); break;
      case 2: d.fns.emplace_back([](double x) { return x > 1 ? x - 1 : x; }); break;
      default: d.fns.emplace_back([c, i](double x) { return x + c * double(i & 3); }); break;
    }
  }
  bench_time t0 = bench_now();
  double r = bench_kernel_stl(d, reps);
  bench_time t = bench_since(t0);
  bench_report_f("stl_virtual", t, r);
  return 0;
}
