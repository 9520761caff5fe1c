// -Rpass=autockpt / -Rpass-missed=autockpt: the pass says, the clang way, which functions got
// safe points and which loops got none and why (a nopoll loop names the pragma and where the
// latency bound then comes from); -fsave-optimization-record writes the same into the YAML.
// RUN: rm -rf %t && mkdir -p %t
// RUN: %clang -O2 -c -fplugin=%clang-plugin -Rpass=autockpt -Rpass-missed=autockpt %s \
// RUN:   -o %t/remarks.o 2>&1 | %FileCheck %s
// RUN: %clang -O2 -c -fplugin=%clang-plugin -fsave-optimization-record \
// RUN:   -foptimization-record-file=%t/remarks.yaml %s -o %t/remarks.o
// RUN: %FileCheck --check-prefix=YAML %s < %t/remarks.yaml
// CHECK-DAG: remarks.c:[[@LINE+11]]:3: remark: no poll in this loop: #pragma autockpt nopoll; a checkpoint request waits for the next safe point after the loop nest [-Rpass-missed=autockpt]
// CHECK-DAG: remark: 'plain' is checkpointable: 1 poll(s), 0 call(s) checked after return [-Rpass=autockpt]
// CHECK-DAG: remarks.c:[[@LINE+19]]:3: remark: no poll in this loop: its work is bounded (at most 16384 instructions) [-Rpass-missed=autockpt]
// YAML: --- !Missed
// YAML: Pass: autockpt
// YAML: Name: LoopNotPolled

double a[4096];

void hot(int n) {
#pragma autockpt nopoll
  for (int i = 0; i < n; i++)
    a[i & 4095] = a[i & 4095] * 2.0 + 1.0;
}

void plain(int n) {
  for (int i = 0; i < n; i++)
    a[i & 4095] += 1.0;
}

void small(int n) {
  for (int i = 0; i < (n & 1023); i++)
    a[i] += 2.0;
}
