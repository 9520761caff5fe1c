; A loop gets one poll, at the top of its header after the phis (the latch keeps its compare and
; branch, and the exit condition is not live across the poll): a volatile load of the flag
; and an unlikely branch to a cold block that asks the runtime whether to unwind.  A restore
; re-enters the loop through a join block in front of its header (P16), outside the loop: the
; header's phis get one more incoming edge from there, and the loop keeps its one way in.
; RUN: %opt -passes=autockpt,verify -S %s | %FileCheck %s

; CHECK-LABEL: define void @fill(
; CHECK: loop.autockpt.join:
; CHECK-NEXT: %i.join = phi i64 [ 0, %entry ], [ %i.autockpt.reload, %autockpt.restore ]
; CHECK-NEXT: br label %loop
; CHECK: loop:
; CHECK-NEXT: %i = phi i64 [ %i.next, %autockpt.loop ], [ %i.join, %loop.autockpt.join ]
; The flag is the low half of this thread's state word, reached through its TLS address.
; CHECK-NEXT: %[[TLS:autockpt.tls[0-9]*]] = call align 8 ptr @llvm.threadlocal.address.p0(ptr align 8 @__autockpt_state)
; CHECK-NEXT: %autockpt.flag = load volatile i32, ptr %[[TLS]], align 8
; CHECK-NEXT: %autockpt.requested = icmp ne i32 %autockpt.flag, 0
; CHECK-NEXT: br i1 %autockpt.requested, label %autockpt.poll.cold, label %autockpt.loop, !prof ![[UNLIKELY:[0-9]+]]
; CHECK: autockpt.loop:
; CHECK: br i1 %c, label %loop, label %exit
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
