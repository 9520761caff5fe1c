; A function that calls setjmp is instrumented (P15).  A safe point after the setjmp saves what is
; live after the setjmp too; its restore runs the setjmp again on the reloaded buffer, and a
; longjmp that lands there goes on after the original setjmp with the value it brought.
; RUN: %opt -passes=autockpt,verify -S %s 2>&1 | %FileCheck %s

declare i32 @setjmp(ptr) returns_twice
declare void @work(i32)

; CHECK-NOT: warning
; CHECK-LABEL: define i32 @jumps(
; The original setjmp ends its block; a longjmp after a restore joins it at autockpt.setjmp.cont.
; CHECK: %r = call i32 @setjmp(ptr %buf)
; CHECK-NEXT: br label %autockpt.setjmp.cont
; CHECK: autockpt.setjmp.cont:
; CHECK-NEXT: %[[R:.*]] = phi i32 [ %autockpt.setjmp, %autockpt.longjmp ], [ %r, %{{.*}} ]
; CHECK-NEXT: %[[Y:.*]] = phi i32 [ %y.autockpt.reload, %autockpt.longjmp ], [ %y, %{{.*}} ]
; CHECK-NEXT: %z = add i32 %[[R]], %[[Y]]
; %y is live after the setjmp, so it is saved at the call to @work although the call does not use it.
; CHECK: autockpt.save:
; CHECK: store i32 %y.autockpt.phi
; CHECK: autockpt.restore:
; CHECK: %y.autockpt.reload = load i32
; CHECK: %autockpt.setjmp = call i32 @setjmp(ptr %buf)
; CHECK-NEXT: %[[NZ:.*]] = icmp ne i32 %autockpt.setjmp, 0
; CHECK-NEXT: br i1 %[[NZ]], label %autockpt.longjmp, label %autockpt.restore.next
; CHECK: autockpt.longjmp:
; CHECK-NEXT: br label %autockpt.setjmp.cont
; CHECK: autockpt.restore.next:
; CHECK-NEXT: br label %autockpt.call
define i32 @jumps(ptr %buf, i32 %x) {
  %y = add i32 %x, 1
  %r = call i32 @setjmp(ptr %buf)
  %z = add i32 %r, %y
  call void @work(i32 %z)
  ret i32 %z
}
