; Restores never enter a loop of the body in the middle (P16).  The poll of the inner loop is
; restored into the resume copy of the body (`.autockpt.resume`), which finishes the outer
; iteration and goes back to the body through the outer loop's join block; the poll of the
; outer loop is restored into that join block.  So the body's loops keep one way in each, the
; header phis their two incoming values, and %row, an invariant of the inner loop, no phi.
; RUN: %opt -passes=autockpt,verify -S %s | %FileCheck %s

; CHECK-LABEL: define void @nest(
; The join: from before the loop, from the copy's back edge, and from the outer poll's restore.
; CHECK: outer.autockpt.join:
; (The order of the last two differs between LLVM versions.)
; CHECK-NEXT: %i.join = phi i64 [ 0, %entry ], {{(\[ %i.next.autockpt.resume, %outer.latch.autockpt.resume \], \[ %i.autockpt.reload, %autockpt.restore \])|(\[ %i.autockpt.reload, %autockpt.restore \], \[ %i.next.autockpt.resume, %outer.latch.autockpt.resume \])}}{{$}}
; CHECK-NEXT: br label %outer
; CHECK: outer:
; CHECK-NEXT: %i = phi i64 [ %i.next, %outer.latch ], [ %i.join, %outer.autockpt.join ]
; CHECK: %row = mul i64 %i, %m
; The inner header in the body: no edge from a restore.
; CHECK: inner:
; CHECK-NEXT: %j = phi i64 [ 0, %autockpt.loop ], [ %j.next, %autockpt.loop{{[0-9]+}} ]
; CHECK-NEXT: call align 8 ptr @llvm.threadlocal.address
; CHECK: %idx = add i64 %row, %j
; The copy's inner header takes the reloaded values; its latch goes back to the body's join.
; CHECK: inner.autockpt.resume:
; CHECK-NEXT: %j.autockpt.resume = phi i64 {{(\[ %j.next.autockpt.resume, %autockpt.loop[0-9]+.autockpt.resume \], \[ %j.autockpt.reload, %autockpt.restore[0-9]+ \])|(\[ %j.autockpt.reload, %autockpt.restore[0-9]+ \], \[ %j.next.autockpt.resume, %autockpt.loop[0-9]+.autockpt.resume \])}}{{$}}
; CHECK: outer.latch.autockpt.resume:
; CHECK: br i1 %ci.autockpt.resume, label %outer.autockpt.join, label %exit
; CHECK: autockpt.restore{{[0-9]+}}:
; CHECK: %row.autockpt.reload = load i64
; CHECK: br label %inner.autockpt.resume
define void @nest(ptr %p, i64 %n, i64 %m) {
entry:
  br label %outer
outer:
  %i = phi i64 [ 0, %entry ], [ %i.next, %outer.latch ]
  %row = mul i64 %i, %m
  br label %inner
inner:
  %j = phi i64 [ 0, %outer ], [ %j.next, %inner ]
  %idx = add i64 %row, %j
  %a = getelementptr float, ptr %p, i64 %idx
  store float 0.0, ptr %a
  %j.next = add i64 %j, 1
  %c = icmp slt i64 %j.next, %m
  br i1 %c, label %inner, label %outer.latch
outer.latch:
  %i.next = add i64 %i, 1
  %ci = icmp slt i64 %i.next, %n
  br i1 %ci, label %outer, label %exit
exit:
  ret void
}
