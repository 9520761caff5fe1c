; Functions that cannot be re-entered are not instrumented, with a warning that says why; the
; runtime then defers checkpoints while they are on the stack.
; RUN: %opt -passes=autockpt,verify -S %s 2>&1 | %FileCheck %s

declare i32 @vfork() returns_twice
declare i32 @setjmp(ptr) returns_twice
declare void @work()

; vfork returns twice and cannot be run again on a restore.
; CHECK: warning: {{.*}}function 'forks' is not instrumented because it calls a function that returns twice
; CHECK: warning: {{.*}}function 'maybe' is not instrumented because a safe point follows a setjmp on some paths only, and the setjmp's buffer is not known on the others
; CHECK-LABEL: define void @forks(
; CHECK-NOT: autockpt.
; CHECK: ret void
define void @forks() {
  %r = call i32 @vfork()
  call void @work()
  ret void
}

; A setjmp that runs on some paths to a safe point only, on a buffer found on that path only: a
; restore could not run it again.  (With a buffer known on every path it is re-run if it ran:
; setjmp.ll.)
define void @maybe(ptr %bufs, i1 %c) {
  br i1 %c, label %set, label %join
set:
  %buf = load ptr, ptr %bufs
  %r = call i32 @setjmp(ptr %buf)
  br label %join
join:
  call void @work()
  ret void
}
