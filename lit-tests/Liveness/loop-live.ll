; What is saved at a loop's poll (at the top of its header, after the phis): the header's phis
; (the induction variable and the running sum), but not the arguments (the caller re-issues the
; call with them) and not the loop-exit condition.
; RUN: %opt -passes=print-autockpt-safepoints -disable-output %s | %FileCheck %s

; CHECK: autockpt: function sum: 1 safe point(s), 0 saved alloca(s)
; CHECK-NEXT: #1 poll in loop; live: %i %s
define i64 @sum(ptr %p, i64 %n) {
entry:
  br label %loop
loop:
  %i = phi i64 [ 0, %entry ], [ %i.next, %loop ]
  %s = phi i64 [ 0, %entry ], [ %s.next, %loop ]
  %a = getelementptr i64, ptr %p, i64 %i
  %v = load i64, ptr %a
  %s.next = add i64 %s, %v
  %i.next = add i64 %i, 1
  %c = icmp slt i64 %i.next, %n
  br i1 %c, label %loop, label %exit
exit:
  ret i64 %s.next
}
