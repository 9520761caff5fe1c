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

; A setjmp on some paths to a safe point only (here a branch; in a loop, an earlier iteration):
; the frame saves whether it ran (%autockpt.setjmp.ran) and the restore runs it again only then.
; %y, live where a longjmp lands but not defined on every path to the call in %join, is saved as
; its latest definition on the path, poison where none.
; CHECK-LABEL: define i32 @sometimes(
; CHECK: autockpt.setjmp.cont:
; CHECK: phi i32 [ %y.autockpt.latest.autockpt.reload, %autockpt.longjmp{{[0-9]+}} ], [ %y.autockpt.reload, %autockpt.longjmp ], [ %y, %set ]
; CHECK: join:
; CHECK: %y.autockpt.latest = phi i32 [ %y.autockpt.phi, %autockpt.cont ], [ poison, %0 ]
; CHECK: %autockpt.setjmp.ran = phi i1 [ true, %autockpt.cont ], [ false, %0 ]
; CHECK: store i1 %autockpt.setjmp.ran.autockpt.phi
; CHECK: %autockpt.setjmp.ran.autockpt.reload = load i1
; CHECK-NEXT: br i1 %autockpt.setjmp.ran.autockpt.reload, label %autockpt.setjmp.again, label %[[NEXT:autockpt.restore.next[0-9]+]]
; CHECK: autockpt.setjmp.again:
; CHECK-NEXT: %[[AGAIN:.*]] = call i32 @setjmp(ptr %buf)
; CHECK-NEXT: %[[NZ2:.*]] = icmp ne i32 %[[AGAIN]], 0
; CHECK-NEXT: br i1 %[[NZ2]], label %autockpt.longjmp{{[0-9]+}}, label %[[NEXT]]
define i32 @sometimes(ptr %buf, i32 %x, i1 %c) {
  br i1 %c, label %set, label %join
set:
  %y = add i32 %x, 1
  %r = call i32 @setjmp(ptr %buf)
  %z = add i32 %r, %y
  call void @work(i32 %z)
  br label %join
join:
  call void @work(i32 %x)
  ret i32 %x
}
