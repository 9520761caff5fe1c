// [[autockpt::nopoll]] on a function and [[autockpt::nosave]] / #pragma autockpt nosave on
// variables become clang annotate attributes (docs/design.md C1); the pass reads them: the
// function's loops get no poll, a nosave global is left out of the module's globals table, and
// a nosave local is left out of the frame record and zeroed when a frame is restored.
// RUN: %clangxx -O0 -S -emit-llvm -Xclang -disable-llvm-passes -fplugin=%clang-plugin %s -o - \
// RUN:   | %FileCheck --check-prefix=MARK %s
// RUN: %clangxx -O1 -S -emit-llvm -fplugin=%clang-plugin %s -o - | %FileCheck --check-prefix=PASS %s
// MARK: @llvm.global.annotations = {{.*}} ptr @scratch, ptr @[[NOSAVE:[.a-z0-9]+]]{{.*}} ptr @later, ptr @[[NOSAVE]]{{.*}} ptr @_Z3hoti, ptr @[[NOPOLL:[.a-z0-9]+]]
// MARK: call void @llvm.var.annotation.p0.p0(ptr %{{[0-9]+}}, ptr @[[NOSAVE]],

// Only `keep` is saved; `scratch` and `later` are not.
// PASS: @autockpt.globals = private constant [1 x { ptr, i64, ptr }] [{ ptr, i64, ptr } { ptr @keep,
// PASS-LABEL: define {{.*}}void @_Z3hoti(
// PASS-NOT: __autockpt_state
// PASS: ret void
// PASS-LABEL: define {{.*}}void @_Z5locali(
// The restore block zeroes the 4 KiB buffer instead of copying it from the record.
// PASS: call void @llvm.memset.p0.i64(ptr align 16 %{{[0-9]+}}, i8 0, i64 4096, i1 false)
// PASS: attributes #{{[0-9]+}} = { {{.*}}"autockpt-nopoll"

[[autockpt::nosave]] double scratch[4096];
double keep[16];
int later;
#pragma autockpt nosave(later)

[[autockpt::nopoll]] void hot(int n) {
  for (int i = 0; i < n; i++)
    keep[i % 16] += scratch[i % 4096];
}

void local(int n) {
  double buf[512];
#pragma autockpt nosave(buf)
  for (int i = 0; i < n; i++) {
    buf[i % 512] = i;
    keep[i % 16] += buf[(i * 7) % 512] + later;
  }
}
