; The emitted frame machinery: the entry tests the restoring mode and dispatches on the saved
; safe-point id; a save block pushes a record of the live values and returns; a restore block
; reloads them and re-issues the call; SSA is repaired with phis at the re-entry points.
; RUN: %opt -passes=autockpt,verify -S %s | %FileCheck %s

declare i32 @work(i32)

; CHECK-LABEL: define i32 @twice(i32 %x)
; CHECK: autockpt.entry:
; CHECK-NEXT: %autockpt.tls{{[0-9]*}} = call align 8 ptr @llvm.threadlocal.address.p0(ptr align 8 @__autockpt_state)
; CHECK-NEXT: %autockpt.modep{{[0-9]*}} = getelementptr inbounds i8, ptr %autockpt.tls{{[0-9]*}}, i64 4
; CHECK-NEXT: %autockpt.mode = load i32, ptr %autockpt.modep, align 4
; CHECK-NEXT: %autockpt.restoring = icmp eq i32 %autockpt.mode, 2
; CHECK-NEXT: br i1 %autockpt.restoring, label %autockpt.dispatch, label %{{.*}}, !prof
;
; The first call's result is live across the second call.
; CHECK: autockpt.call{{[0-9]+}}:
; CHECK-NEXT: %a.autockpt.phi = phi i32 [ %a.autockpt.reload, %autockpt.restore{{[0-9]*}} ], [ %a, %autockpt.cont ]
; CHECK-NEXT: %b = call i32 @work(i32 %a.autockpt.phi)
; CHECK-NEXT: %autockpt.tls{{[0-9]*}} = call align 8 ptr @llvm.threadlocal.address.p0(ptr align 8 @__autockpt_state)
; CHECK-NEXT: %autockpt.modep{{[0-9]*}} = getelementptr inbounds i8, ptr %autockpt.tls{{[0-9]*}}, i64 4
; CHECK-NEXT: %autockpt.mode{{[0-9]+}} = load i32, ptr %autockpt.modep{{[0-9]+}}
; CHECK-NEXT: %autockpt.unwinding{{[0-9]*}} = icmp eq i32 %autockpt.mode{{[0-9]+}}, 1
;
; CHECK: autockpt.dispatch:
; CHECK-NEXT: %autockpt.rec = call ptr @__autockpt_pop_frame(i64 [[FID:-?[0-9]+]], i64 [[LAYOUT:-?[0-9]+]])
; CHECK-NEXT: %autockpt.spid = load i32, ptr %autockpt.rec
; CHECK-NEXT: %autockpt.payload = getelementptr inbounds i8, ptr %autockpt.rec, i32 8
; CHECK-NEXT: switch i32 %autockpt.spid, label %autockpt.bad [
; CHECK-NEXT: i32 1, label %autockpt.restore
; CHECK-NEXT: i32 2, label %autockpt.restore{{[0-9]+}}
;
; CHECK: autockpt.bad:
; CHECK-NEXT: call void @__autockpt_bad_frame(i64 [[FID]], i32 %autockpt.spid)
; CHECK-NEXT: unreachable
;
; The save block of the second call stores %a in a packed record and returns poison.
; CHECK: autockpt.save{{[0-9]+}}:
; CHECK-NEXT: %autockpt.buf{{[0-9]*}} = call ptr @__autockpt_push_frame(i64 [[FID]], i32 2, i64 [[LAYOUT]], i64 4)
; CHECK-NEXT: getelementptr inbounds <{ i32 }>, ptr %autockpt.buf{{[0-9]*}}, i32 0, i32 0
; CHECK-NEXT: store i32 %a{{.*}}, ptr {{.*}}, align 1
; CHECK-NEXT: ret i32 poison
;
; CHECK: autockpt.restore{{[0-9]+}}:
; CHECK: %a.autockpt.reload = load i32, ptr {{.*}}, align 1
; CHECK-NEXT: br label %autockpt.call
define i32 @twice(i32 %x) {
  %a = call i32 @work(i32 %x)
  %b = call i32 @work(i32 %a)
  %s = add i32 %a, %b
  ret i32 %s
}
