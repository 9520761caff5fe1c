; P19: an innermost counted loop that would poll every iteration (its exit test compares an
; induction variable with a loop-invariant bound for equality) runs in chunks instead.  A new
; outer loop, `<header>.autockpt.chunk`, computes the chunk's limit (the variable's value in the
; chunk's last iteration, or the bound when fewer iterations are left) and polls; the loop itself
; compares with the limit and polls no more; `<header>.autockpt.chunk.end` tests the real exit.
; RUN: %opt -passes=autockpt,verify -S %s | %FileCheck %s
; RUN: %opt -passes=print-autockpt-safepoints -disable-output %s | %FileCheck %s --check-prefix=SP

declare void @unknown()

; for (i = 0; i != n; i++) p[i] = 0: 2048 iterations a chunk (2^14 / 6 instructions, rounded down
; to a power of two).  The next chunk starts where the limit says (i in the last iteration is
; the limit minus 1, so i.next is the limit).
; SP: function fill: 1 safe point(s)
; SP-NEXT: #1 poll in loop.autockpt.chunk;
; CHECK-LABEL: define i64 @fill(
; CHECK: loop.autockpt.chunk:
; CHECK-NEXT: %i.chunk = phi i64 [ %autockpt.lim, %loop.autockpt.chunk.end ], [ %i.chunk.join, %loop.autockpt.chunk.autockpt.join ]
; CHECK: %autockpt.flag = load volatile i32
; CHECK: autockpt.loop:
; CHECK-NEXT: %autockpt.first = add i64 %i.chunk, 1
; CHECK-NEXT: %autockpt.left = sub i64 %n, %autockpt.first
; CHECK-NEXT: %autockpt.big = icmp uge i64 %autockpt.left, 2048
; CHECK-NEXT: %autockpt.last = add i64 %i.chunk, 2048
; CHECK-NEXT: %autockpt.lim = select i1 %autockpt.big, i64 %autockpt.last, i64 %n
; CHECK-NEXT: br label %loop
; The loop: no poll, its exit test against the limit.
; CHECK: loop:
; CHECK-NEXT: %i = phi i64 [ %i.next, %loop ], [ %i.chunk, %autockpt.loop ]
; CHECK-NOT: autockpt.flag
; CHECK: %autockpt.chunk.done = icmp eq i64 %i.next, %autockpt.lim
; CHECK-NEXT: br i1 %autockpt.chunk.done, label %loop.autockpt.chunk.end, label %loop, !autockpt.chunk ![[T2048:[0-9]+]]
; The loop is over when the limit was the bound; else the next chunk starts after the limit.
; CHECK: loop.autockpt.chunk.end:
; CHECK-NEXT: %autockpt.over = icmp eq i64 %autockpt.lim, %n
; CHECK-NEXT: br i1 %autockpt.over, label %exit, label %loop.autockpt.chunk
; CHECK: exit:
; CHECK-NEXT: %last = phi i64 [ %i.next, %loop.autockpt.chunk.end ]
define i64 @fill(ptr %p, i64 %n) {
entry:
  br label %loop
loop:
  %i = phi i64 [ 0, %entry ], [ %i.next, %loop ]
  %a = getelementptr float, ptr %p, i64 %i
  store float 0.0, ptr %a
  %i.next = add i64 %i, 1
  %c = icmp eq i64 %i.next, %n
  br i1 %c, label %exit, label %loop
exit:
  %last = phi i64 [ %i.next, %loop ]
  ret i64 %last
}

; Counting down to zero (a step of -1): the distance left is the variable minus the bound.
; CHECK-LABEL: define void @down(
; CHECK: %autockpt.first = add i64 %i.chunk, -1
; CHECK-NEXT: %autockpt.left = sub i64 %autockpt.first, 0
; CHECK-NEXT: %autockpt.big = icmp uge i64 %autockpt.left, 2048
; CHECK-NEXT: %autockpt.last = add i64 %i.chunk, -2048
; CHECK: %autockpt.chunk.done = icmp ne i64 %i.next, %autockpt.lim
; CHECK-NEXT: br i1 %autockpt.chunk.done, label %loop, label %loop.autockpt.chunk.end, !autockpt.chunk
; CHECK: loop.autockpt.chunk.end:
; CHECK-NEXT: %autockpt.over = icmp ne i64 %autockpt.lim, 0
; CHECK-NEXT: br i1 %autockpt.over, label %loop.autockpt.chunk, label %exit
define void @down(ptr %p, i64 %n) {
entry:
  br label %loop
loop:
  %i = phi i64 [ %n, %entry ], [ %i.next, %loop ]
  %a = getelementptr float, ptr %p, i64 %i
  store float 0.0, ptr %a
  %i.next = add i64 %i, -1
  %c = icmp ne i64 %i.next, 0
  br i1 %c, label %loop, label %exit
exit:
  ret void
}

; A pointer that walks to an end pointer, 8 bytes a step: the limit is a pointer too.
; CHECK-LABEL: define i64 @span(
; CHECK: %autockpt.first = getelementptr i8, ptr %q.chunk, i64 8
; CHECK: %autockpt.big = icmp uge i64 %autockpt.left, 16384
; CHECK: %autockpt.last = getelementptr i8, ptr %q.chunk, i64 16384
; CHECK: %autockpt.lim = select i1 %autockpt.big, ptr %autockpt.last, ptr %end
; CHECK: icmp eq ptr %q.next, %autockpt.lim
define i64 @span(ptr %p, ptr %end) {
entry:
  br label %loop
loop:
  %q = phi ptr [ %p, %entry ], [ %q.next, %loop ]
  %h = phi i64 [ 7, %entry ], [ %h.next, %loop ]
  %v = load i64, ptr %q
  %h.next = add i64 %h, %v
  %q.next = getelementptr i8, ptr %q, i64 8
  %c = icmp eq ptr %q.next, %end
  br i1 %c, label %exit, label %loop
exit:
  ret i64 %h.next
}

; A counter that serves only the exit test (the steps of a pointer chase): the chunk's loop counts
; its iterations up to zero instead (minus 2048, or minus the iterations left), so that the counter
; goes, and the next chunk starts from the limit.  %rest: the iteration at which the counter meets
; the bound.
; CHECK-LABEL: define ptr @chase(
; CHECK: loop.autockpt.chunk:
; CHECK-NEXT: %s.chunk = phi i64 [ %autockpt.lim, %loop.autockpt.chunk.end ], [ %s.chunk.join, %loop.autockpt.chunk.autockpt.join ]
; CHECK: %[[REST:[0-9]+]] = xor i64 %autockpt.left, -1
; CHECK-NEXT: %autockpt.count = select i1 %autockpt.big, i64 -2048, i64 %[[REST]]
; CHECK-NEXT: %[[RESTY:[0-9]+]] = add i64 %autockpt.first, %autockpt.left
; CHECK-NEXT: %autockpt.lim = select i1 %autockpt.big, i64 %autockpt.last, i64 %[[RESTY]]
; CHECK: loop:
; CHECK: %autockpt.togo = phi i64 [ %autockpt.count, %autockpt.loop ], [ %autockpt.togo.next, %loop ]
; CHECK: %autockpt.togo.next = add i64 %autockpt.togo, 1
; CHECK-NEXT: %autockpt.chunk.done = icmp eq i64 %autockpt.togo.next, 0
; CHECK-NEXT: br i1 %autockpt.chunk.done, label %loop.autockpt.chunk.end, label %loop, !autockpt.chunk
; CHECK: loop.autockpt.chunk.end:
; CHECK-NEXT: %autockpt.over = icmp eq i64 %autockpt.lim, %steps
define ptr @chase(ptr %p, i64 %steps) {
entry:
  br label %loop
loop:
  %s = phi i64 [ 0, %entry ], [ %s.next, %loop ]
  %q = phi ptr [ %p, %entry ], [ %q.next, %loop ]
  %q.next = load ptr, ptr %q
  %s.next = add i64 %s, 1
  %c = icmp eq i64 %s.next, %steps
  br i1 %c, label %exit, label %loop
exit:
  ret ptr %q.next
}

; A loop that calls an unknown function (its time is not bounded) and one that exits on `<`
; keep a poll every iteration.
; SP: function calls: 2 safe point(s)
; SP-NEXT: #1 poll in loop;
; SP: function less: 1 safe point(s)
; SP-NEXT: #1 poll in loop;
; CHECK-LABEL: define void @calls(
; CHECK-NOT: autockpt.chunk
; CHECK: ret void
define void @calls(i64 %n) {
entry:
  br label %loop
loop:
  %i = phi i64 [ 0, %entry ], [ %i.next, %loop ]
  call void @unknown()
  %i.next = add i64 %i, 1
  %c = icmp eq i64 %i.next, %n
  br i1 %c, label %exit, label %loop
exit:
  ret void
}

; CHECK-LABEL: define void @less(
; CHECK-NOT: autockpt.chunk
; CHECK: ret void
define void @less(ptr %p, i64 %n) {
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

; CHECK: ![[T2048]] = !{i64 2048}
