; C++: a call that may throw is an invoke; its safe point keeps the unwind edge, and the
; unwinding check goes on the (split) normal edge.  Re-entry re-issues the same invoke.
; RUN: %opt -passes=autockpt,verify -S %s | %FileCheck %s

declare void @may_throw(i32)
declare i32 @__gxx_personality_v0(...)

; CHECK-LABEL: define i32 @guarded(
; CHECK: autockpt.call:
; CHECK-NEXT: invoke void @may_throw(i32 %x)
; CHECK-NEXT: to label %autockpt.call.ret unwind label %lpad
; CHECK: autockpt.call.ret:
; CHECK-NEXT: %autockpt.tls{{[0-9]*}} = call align 8 ptr @llvm.threadlocal.address.p0(ptr align 8 @__autockpt_state)
; CHECK-NEXT: %autockpt.modep{{[0-9]*}} = getelementptr inbounds i8, ptr %autockpt.tls{{[0-9]*}}, i64 4
; CHECK-NEXT: %autockpt.mode{{[0-9]+}} = load i32, ptr %autockpt.modep{{[0-9]+}}
; CHECK: autockpt.restore:
; CHECK-NEXT: br label %autockpt.call
define i32 @guarded(i32 %x) personality ptr @__gxx_personality_v0 {
entry:
  invoke void @may_throw(i32 %x)
          to label %ok unwind label %lpad
ok:
  ret i32 0
lpad:
  %e = landingpad { ptr, i32 } catch ptr null
  ret i32 1
}
