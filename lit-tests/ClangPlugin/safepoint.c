// #pragma autockpt safepoint: the poll of that loop goes exactly there (a block of its own,
// autockpt.safepoint, between the two statements) and the loop header gets none; a loop
// nested in it keeps its own poll.
// RUN: %clang -O0 -Xclang -disable-O0-optnone -S -emit-llvm -Xclang -disable-llvm-passes \
// RUN:   -fplugin=%clang-plugin %s -o %t.ll
// RUN: %opt -passes=print-autockpt-safepoints -disable-output %t.ll | %FileCheck %s
// CHECK: autockpt: function body: 1 safe point(s)
// CHECK-NEXT: #1 poll in autockpt.safepoint;
// CHECK: autockpt: function nested: 2 safe point(s)
// CHECK-NEXT: #1 poll in {{.*}}
// CHECK-NEXT: #2 poll in autockpt.safepoint;

void body(int n, double *a) {
  for (int i = 0; i < n; i++) {
    a[i] += 1;
#pragma autockpt safepoint
    a[i] *= 2;
  }
}

void nested(int n, double *a) {
  for (int i = 0; i < n; i++) {
    for (int j = 0; j < n; j++)
      a[j] += i;
#pragma autockpt safepoint
    a[i] *= 2;
  }
}
