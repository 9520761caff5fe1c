; A function that polls at its entry tests the flag and the mode with one load of the 8-byte
; state word, this thread's (local-exec TLS in an executable); the restoring test and the poll's own test are in the cold block behind it.  A
; function without an entry poll tests the mode alone.
; RUN: %opt -passes=autockpt,verify -S %s | %FileCheck %s

; CHECK: @__autockpt_state = external dso_local thread_local(localexec) global i64, align 8
; CHECK-LABEL: define i64 @fib(
; CHECK: autockpt.entry:
; CHECK-NEXT: %autockpt.tls{{[0-9]*}} = call align 8 ptr @llvm.threadlocal.address.p0(ptr align 8 @__autockpt_state)
; CHECK-NEXT: %autockpt.state = load volatile i64, ptr %autockpt.tls, align 8
; CHECK-NEXT: %autockpt.busy = icmp ne i64 %autockpt.state, 0
; CHECK-NEXT: br i1 %autockpt.busy, label %autockpt.entry.cold, label %entry, !prof
; CHECK: autockpt.entry.poll:
; CHECK-NEXT: %autockpt.tls{{[0-9]*}} = call align 8 ptr @llvm.threadlocal.address.p0(ptr align 8 @__autockpt_state)
; CHECK-NEXT: load volatile i32, ptr %autockpt.tls
; CHECK: autockpt.entry.cold:
; CHECK-NEXT: %autockpt.tls{{[0-9]*}} = call align 8 ptr @llvm.threadlocal.address.p0(ptr align 8 @__autockpt_state)
; CHECK-NEXT: %autockpt.modep{{[0-9]*}} = getelementptr inbounds i8, ptr %autockpt.tls{{[0-9]*}}, i64 4
; CHECK-NEXT: %autockpt.mode = load i32, ptr %autockpt.modep
; CHECK-NEXT: %autockpt.restoring = icmp eq i32 %autockpt.mode, 2
; CHECK-NEXT: br i1 %autockpt.restoring, label %autockpt.dispatch, label %autockpt.entry.poll
; CHECK-LABEL: define void @loop(
; CHECK: autockpt.entry:
; CHECK-NEXT: %autockpt.tls{{[0-9]*}} = call align 8 ptr @llvm.threadlocal.address.p0(ptr align 8 @__autockpt_state)
; CHECK-NEXT: %autockpt.modep{{[0-9]*}} = getelementptr inbounds i8, ptr %autockpt.tls{{[0-9]*}}, i64 4
; CHECK-NEXT: %autockpt.mode = load i32, ptr %autockpt.modep
define i64 @fib(i64 %n) {
entry:
  %small = icmp slt i64 %n, 2
  br i1 %small, label %base, label %rec
rec:
  %n1 = sub i64 %n, 1
  %a = call i64 @fib(i64 %n1)
  %n2 = sub i64 %n, 2
  %b = call i64 @fib(i64 %n2)
  %s = add i64 %a, %b
  ret i64 %s
base:
  ret i64 %n
}

define void @loop(ptr %p, i64 %n) {
entry:
  br label %body
body:
  %i = phi i64 [ 0, %entry ], [ %i.next, %body ]
  %a = getelementptr float, ptr %p, i64 %i
  store float 0.0, ptr %a
  %i.next = add i64 %i, 1
  %c = icmp slt i64 %i.next, %n
  br i1 %c, label %body, label %exit
exit:
  ret void
}
