; A variable-length array: the dynamic stack area between the stack pointer at entry and the
; one at the safe point is saved after the record, and re-allocated (same size, so the same
; addresses) and refilled when the frame is re-entered.
; RUN: %opt -passes=autockpt,verify -S %s | %FileCheck %s

declare void @use(ptr)

; CHECK-LABEL: define void @vla(i64 %n)
; CHECK: autockpt.entry:
; CHECK: %autockpt.sp0 = call ptr @llvm.stacksave.p0()
; CHECK: autockpt.save:
; CHECK-NEXT: %autockpt.sp = call ptr @llvm.stacksave.p0()
; CHECK: %autockpt.dyn = sub i64
; CHECK: call ptr @__autockpt_push_frame(i64 {{-?[0-9]+}}, i32 1, i64 {{-?[0-9]+}}, i64 %{{.*}})
; CHECK: call void @llvm.memcpy{{.*}}(ptr align 1 %{{.*}}, ptr align 16 %autockpt.sp, i64 %autockpt.dyn, i1 false)
; CHECK: autockpt.restore:
; CHECK: %autockpt.dynstack = alloca i8, i64 %autockpt.dyn{{[0-9]*}}, align 16
define void @vla(i64 %n) {
  %a = alloca i8, i64 %n
  call void @use(ptr %a)
  ret void
}
