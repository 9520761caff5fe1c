// nosave on C++ objects (C7): an object made by a constructor holds zeros after a restart, not
// what the constructor made, so the plugin warns; a plain array of zeros does not.  LLVM 19
// and 22 (the plugin's attribute spelling [[autockpt::nosave]]).
// RUN: %clangxx -std=c++17 -fsyntax-only -fplugin=%clang-plugin -Xclang -verify %s
#include <vector>

[[autockpt::nosave]] std::vector<double> samples(1000); // expected-warning {{'samples' is nosave and has a constructor: after a restart its bytes are zeros, not what the constructor made (a std::vector is then empty and its elements lost) [-Wautockpt-nosave]}} expected-note {{keep it saved, or make it again (assign, resize) in the code that uses it}}
[[autockpt::nosave]] double scratch[1 << 16];
struct Plain {
  double a[8];
  int n;
};
[[autockpt::nosave]] Plain plain;

double use(int i) { return samples[i] + scratch[i] + plain.a[i & 7]; }
