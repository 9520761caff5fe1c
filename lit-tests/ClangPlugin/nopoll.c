// #pragma autockpt nopoll: the plugin leaves an llvm.annotation marker before the loop (the
// IR form of docs/design.md C1); the pass turns it into the loop's !llvm.loop property and
// places no poll in that loop nest, while a loop without the pragma keeps its poll.  The clang
// plugin alone (-fplugin, no -fpass-plugin) runs the pass: it loads the pass plugin itself.
// RUN: %clang -O0 -S -emit-llvm -Xclang -disable-llvm-passes -fplugin=%clang-plugin %s -o - \
// RUN:   | %FileCheck --check-prefix=MARK %s
// RUN: %clang -O2 -S -emit-llvm -fplugin=%clang-plugin %s -o - | %FileCheck --check-prefix=PASS %s
// RUN: %clang -O0 -S -emit-llvm -fplugin=%clang-plugin %s -o - | %FileCheck --check-prefix=PASS %s

// MARK: @[[STR:[.a-z0-9]+]] = private unnamed_addr constant [16 x i8] c"autockpt.nopoll\00"
// MARK-LABEL: define {{.*}}void @hot(
// MARK: call i32 @llvm.annotation.i32.p0(i32 0, ptr @[[STR]],
// MARK-NEXT: store i32 0, ptr
// MARK-NEXT: br label

// The nopoll nest (both loops) has no poll; the plain loop has one.
// PASS-LABEL: define {{.*}}void @hot(
// PASS-NOT: __autockpt_state
// PASS: br {{.*}} !llvm.loop ![[LOOP:[0-9]+]]
// PASS-LABEL: define {{.*}}void @plain(
// PASS: load volatile i32
// PASS: ![[LOOP]] = distinct !{![[LOOP]],
// PASS: !{!"autockpt.nopoll"}

double a[64][64];

void hot(int n) {
#pragma autockpt nopoll
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++)
      a[i & 63][j & 63] = a[i & 63][j & 63] * 2.0 + 1.0;
}

void plain(int n) {
  for (int i = 0; i < n; i++)
    a[0][i & 63] += 1.0;
}
