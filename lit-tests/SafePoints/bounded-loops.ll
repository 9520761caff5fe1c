; P12: a loop needs no poll when one execution of it is bounded by a small constant amount of
; work (SCEV bounds its trip count and it calls nothing), including a blocked loop bounded by
; min(start + 64, n), or when every iteration calls a function that polls at its entry.  A loop
; of 10^8 iterations, one of n iterations and one that calls an unknown function keep theirs.
; RUN: %opt -passes=autockpt,verify -S %s | %FileCheck %s

declare void @unknown()

; Sixteen iterations and no call: not instrumented at all (no safe point, no table entry).
; CHECK-LABEL: define void @sixteen(
; CHECK-NOT: autockpt.flag
; CHECK: ret void
define void @sixteen(ptr %p) {
entry:
  br label %loop
loop:
  %i = phi i64 [ 0, %entry ], [ %i.next, %loop ]
  %a = getelementptr float, ptr %p, i64 %i
  store float 0.0, ptr %a
  %i.next = add i64 %i, 1
  %c = icmp ult i64 %i.next, 16
  br i1 %c, label %loop, label %exit
exit:
  ret void
}

; for (j = jj; j < min(jj + 64, n); j++): at most 64 trips, whatever jj and n.
; CHECK-LABEL: define void @blocked(
; CHECK-NOT: autockpt.flag
; CHECK: ret void
define void @blocked(ptr %p, i64 %jj, i64 %n) {
entry:
  %end0 = add nsw i64 %jj, 64
  %end = call i64 @llvm.smin.i64(i64 %end0, i64 %n)
  %go = icmp slt i64 %jj, %end
  br i1 %go, label %loop, label %exit
loop:
  %j = phi i64 [ %jj, %entry ], [ %j.next, %loop ]
  %a = getelementptr float, ptr %p, i64 %j
  store float 0.0, ptr %a
  %j.next = add nsw i64 %j, 1
  %c = icmp slt i64 %j.next, %end
  br i1 %c, label %loop, label %exit
exit:
  ret void
}

; CHECK-LABEL: define void @long(
; CHECK: %autockpt.flag = load volatile i32, ptr %autockpt.tls
define void @long(ptr %p) {
entry:
  br label %loop
loop:
  %i = phi i64 [ 0, %entry ], [ %i.next, %loop ]
  %a = getelementptr float, ptr %p, i64 %i
  store float 0.0, ptr %a
  %i.next = add i64 %i, 1
  %c = icmp ult i64 %i.next, 100000000
  br i1 %c, label %loop, label %exit
exit:
  ret void
}

; Sixteen iterations, but a call in each: the callee may run for any time.
; CHECK-LABEL: define void @sixteen_calls(
; CHECK: loop:
; CHECK: %autockpt.flag = load volatile i32, ptr %autockpt.tls
define void @sixteen_calls() {
entry:
  br label %loop
loop:
  %i = phi i64 [ 0, %entry ], [ %i.next, %loop ]
  call void @unknown()
  %i.next = add i64 %i, 1
  %c = icmp ult i64 %i.next, 16
  br i1 %c, label %loop, label %exit
exit:
  ret void
}

; Every iteration calls @walk, which is recursive and so polls at its entry: the loop needs no
; poll of its own.  @walk's own entry poll is the only poll in either function.
; CHECK-LABEL: define void @driver(
; CHECK-NOT: %autockpt.flag = load volatile i32
; CHECK: ret void
define void @driver(ptr %t, i64 %n) {
entry:
  br label %loop
loop:
  %i = phi i64 [ 0, %entry ], [ %i.next, %loop ]
  call void @walk(ptr %t)
  %i.next = add i64 %i, 1
  %c = icmp slt i64 %i.next, %n
  br i1 %c, label %loop, label %exit
exit:
  ret void
}

; CHECK-LABEL: define void @walk(
; CHECK: autockpt.entry.poll:
; CHECK-NEXT: %autockpt.tls{{[0-9]*}} = call align 8 ptr @llvm.threadlocal.address.p0(ptr align 8 @__autockpt_state)
; CHECK-NEXT: load volatile i32, ptr %autockpt.tls
define void @walk(ptr %t) {
entry:
  %l = load ptr, ptr %t
  %leaf = icmp eq ptr %l, null
  br i1 %leaf, label %done, label %recurse
recurse:
  call void @walk(ptr %l)
  br label %done
done:
  ret void
}

declare i64 @llvm.smin.i64(i64, i64)
