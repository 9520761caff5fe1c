; A loop gets one poll, on its split back edge (not before the latch's conditional branch, so
; the exit condition is not live across it): a relaxed atomic load of the flag and an unlikely
; branch to a cold block that asks the runtime whether to unwind.
; RUN: %opt -passes=autockpt,verify -S %s | %FileCheck %s

; CHECK-LABEL: define void @fill(
; CHECK: autockpt.poll:
; CHECK-NEXT: %autockpt.flag = load atomic i32, ptr @__autockpt_flag monotonic, align 4
; CHECK-NEXT: %autockpt.requested = icmp ne i32 %autockpt.flag, 0
; CHECK-NEXT: br i1 %autockpt.requested, label %autockpt.poll.cold, label %loop, !prof ![[UNLIKELY:[0-9]+]]
; CHECK: autockpt.poll.cold:
; CHECK-NEXT: %autockpt.go = call i32 @__autockpt_poll_slow()
; CHECK: declare i32 @__autockpt_poll_slow() #[[COLD:[0-9]+]]
; CHECK: attributes #[[COLD]] = { cold noinline }
; CHECK: ![[UNLIKELY]] = !{!"branch_weights", i32 1, i32 {{[0-9]+}}}
define void @fill(ptr %p, i64 %n) {
entry:
  br label %loop
loop:
  %i = phi i64 [ 0, %entry ], [ %i.next, %loop ]
  %a = getelementptr float, ptr %p, i64 %i
  store float 0.0, ptr %a
  %i.next = add i64 %i, 1
  %c = icmp slt i64 %i.next, %n
  br i1 %c, label %loop, label %exit
exit:
  ret void
}
