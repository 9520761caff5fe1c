; The device side of a CUDA compilation is never instrumented.
; RUN: %opt -passes=autockpt,verify -S %s | %FileCheck %s
target triple = "nvptx64-nvidia-cuda"

; CHECK-NOT: autockpt
define void @kernel(ptr %p, i64 %n) {
entry:
  br label %loop
loop:
  %i = phi i64 [ 0, %entry ], [ %i.next, %loop ]
  %i.next = add i64 %i, 1
  %c = icmp slt i64 %i.next, %n
  br i1 %c, label %loop, label %exit
exit:
  ret void
}
