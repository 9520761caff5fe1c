; P20: a loop whose trip count the conditions leading to it bound (`if (hi - lo <= 8)` around a
; leaf's loop, bench/kernels/recursion.c) needs neither a poll nor a chunk (P19's set-up would
; cost more than the few polls it saves): maxTrips bounds the taken count by those conditions.
; The same loops without the guard, or with a guard too wide for P12's budget, are still chunked.
; RUN: %opt -passes=autockpt,verify -S %s | %FileCheck %s

; for (i = lo; i != hi; i++) s += a[i] under `if (hi - lo < 9 && lo < hi)`.
; CHECK-LABEL: define double @guarded(
; CHECK-NOT: autockpt.chunk
; CHECK-NOT: autockpt.flag
; CHECK: ret double
define double @guarded(ptr %a, i64 %lo, i64 %hi) {
entry:
  %d = sub nsw i64 %hi, %lo
  %small = icmp slt i64 %d, 9
  br i1 %small, label %check, label %exit
check:
  %go = icmp slt i64 %lo, %hi
  br i1 %go, label %loop, label %exit
loop:
  %i = phi i64 [ %lo, %check ], [ %i.next, %loop ]
  %s = phi double [ 0.0, %check ], [ %s.next, %loop ]
  %p = getelementptr inbounds double, ptr %a, i64 %i
  %x = load double, ptr %p
  %s.next = fadd double %s, %x
  %i.next = add nsw i64 %i, 1
  %c = icmp eq i64 %i.next, %hi
  br i1 %c, label %exit, label %loop
exit:
  %r = phi double [ 0.0, %entry ], [ 0.0, %check ], [ %s.next, %loop ]
  ret double %r
}

; tree_sum's leaf at -O2: a prologue of (hi - lo) & 3 iterations, then the loop unrolled by 4,
; which starts where the prologue ended (a phi SCEV does not describe) and runs at most twice.
; CHECK-LABEL: define double @unrolled(
; CHECK-NOT: autockpt.chunk
; CHECK-NOT: autockpt.flag
; CHECK: ret double
define double @unrolled(ptr %a, i64 %lo, i64 %hi) {
entry:
  %d = sub nsw i64 %hi, %lo
  %small = icmp slt i64 %d, 9
  br i1 %small, label %check, label %exit
check:
  %go = icmp slt i64 %lo, %hi
  br i1 %go, label %pre, label %exit
pre:
  %rem = and i64 %d, 3
  %norem = icmp eq i64 %rem, 0
  br i1 %norem, label %mid, label %prol
prol:
  %j = phi i64 [ %j.next, %prol ], [ %lo, %pre ]
  %t = phi double [ %t.next, %prol ], [ 0.0, %pre ]
  %k = phi i64 [ %k.next, %prol ], [ 0, %pre ]
  %pj = getelementptr inbounds double, ptr %a, i64 %j
  %xj = load double, ptr %pj
  %t.next = fadd double %t, %xj
  %j.next = add nsw i64 %j, 1
  %k.next = add i64 %k, 1
  %kc = icmp eq i64 %k.next, %rem
  br i1 %kc, label %mid, label %prol
mid:
  %t.out = phi double [ 0.0, %pre ], [ %t.next, %prol ]
  %start = phi i64 [ %lo, %pre ], [ %j.next, %prol ]
  %neg = sub i64 %lo, %hi
  %few = icmp ugt i64 %neg, -4
  br i1 %few, label %exit, label %body
body:
  %i = phi i64 [ %start, %mid ], [ %i.next, %body ]
  %s = phi double [ %t.out, %mid ], [ %s4, %body ]
  %p0 = getelementptr inbounds double, ptr %a, i64 %i
  %x0 = load double, ptr %p0
  %s1 = fadd double %s, %x0
  %i1 = add nsw i64 %i, 1
  %p1 = getelementptr inbounds double, ptr %a, i64 %i1
  %x1 = load double, ptr %p1
  %s2 = fadd double %s1, %x1
  %i2 = add nsw i64 %i, 2
  %p2 = getelementptr inbounds double, ptr %a, i64 %i2
  %x2 = load double, ptr %p2
  %s3 = fadd double %s2, %x2
  %i3 = add nsw i64 %i, 3
  %p3 = getelementptr inbounds double, ptr %a, i64 %i3
  %x3 = load double, ptr %p3
  %s4 = fadd double %s3, %x3
  %i.next = add nsw i64 %i, 4
  %c = icmp eq i64 %i.next, %hi
  br i1 %c, label %exit, label %body
exit:
  %r = phi double [ 0.0, %entry ], [ 0.0, %check ], [ %t.out, %mid ], [ %s4, %body ]
  ret double %r
}

; The same loop without the size guard: n iterations, chunked (P19).
; CHECK-LABEL: define double @unguarded(
; CHECK: loop.autockpt.chunk:
; CHECK: %autockpt.flag = load volatile i32
; CHECK: br i1 %autockpt.chunk.done, label %loop.autockpt.chunk.end, label %loop, !autockpt.chunk
define double @unguarded(ptr %a, i64 %lo, i64 %hi) {
entry:
  %go = icmp slt i64 %lo, %hi
  br i1 %go, label %loop, label %exit
loop:
  %i = phi i64 [ %lo, %entry ], [ %i.next, %loop ]
  %s = phi double [ 0.0, %entry ], [ %s.next, %loop ]
  %p = getelementptr inbounds double, ptr %a, i64 %i
  %x = load double, ptr %p
  %s.next = fadd double %s, %x
  %i.next = add nsw i64 %i, 1
  %c = icmp eq i64 %i.next, %hi
  br i1 %c, label %exit, label %loop
exit:
  %r = phi double [ 0.0, %entry ], [ %s.next, %loop ]
  ret double %r
}

; A guard that bounds the loop above P12's budget (2^14 instructions): chunked still.
; CHECK-LABEL: define double @wide(
; CHECK: loop.autockpt.chunk:
; CHECK: %autockpt.flag = load volatile i32
; CHECK: br i1 %autockpt.chunk.done, label %loop.autockpt.chunk.end, label %loop, !autockpt.chunk
define double @wide(ptr %a, i64 %lo, i64 %hi) {
entry:
  %d = sub nsw i64 %hi, %lo
  %small = icmp slt i64 %d, 100000
  br i1 %small, label %check, label %exit
check:
  %go = icmp slt i64 %lo, %hi
  br i1 %go, label %loop, label %exit
loop:
  %i = phi i64 [ %lo, %check ], [ %i.next, %loop ]
  %s = phi double [ 0.0, %check ], [ %s.next, %loop ]
  %p = getelementptr inbounds double, ptr %a, i64 %i
  %x = load double, ptr %p
  %s.next = fadd double %s, %x
  %i.next = add nsw i64 %i, 1
  %c = icmp eq i64 %i.next, %hi
  br i1 %c, label %exit, label %loop
exit:
  %r = phi double [ 0.0, %entry ], [ 0.0, %check ], [ %s.next, %loop ]
  ret double %r
}
