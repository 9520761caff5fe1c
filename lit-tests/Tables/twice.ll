; Running the pass twice (e.g. once more at LTO link time) instruments only once.
; RUN: %opt -passes=autockpt,autockpt,verify -S %s | %FileCheck %s
; CHECK-COUNT-1: call i32 @__autockpt_poll_slow()
; CHECK-NOT: call i32 @__autockpt_poll_slow()
define void @spin(i64 %n) {
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
