; Functions that cannot be re-entered are not instrumented, with a warning that says why; the
; runtime then defers checkpoints while they are on the stack.
; RUN: %opt -passes=autockpt,verify -S %s 2>&1 | %FileCheck %s

declare i32 @setjmp(ptr) returns_twice
declare void @work()

; CHECK: warning: {{.*}}function 'jumps' is not instrumented because it calls setjmp
; CHECK-LABEL: define void @jumps(
; CHECK-NOT: autockpt.
; CHECK: ret void
define void @jumps(ptr %buf) {
  %r = call i32 @setjmp(ptr %buf)
  call void @work()
  ret void
}
