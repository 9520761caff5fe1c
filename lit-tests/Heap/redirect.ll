; Allocation functions are redirected to the runtime's arena (DESIGN D4), at call sites and
; where their address is taken; a module that defines its own allocator keeps it.
; RUN: %opt -passes=autockpt,verify -S %s | %FileCheck %s

declare ptr @malloc(i64)
declare void @free(ptr)
declare ptr @_Znwm(i64)
declare void @_ZdlPvm(ptr, i64)

@release = global ptr @free

; CHECK: @release = global ptr @__autockpt_free
; CHECK-LABEL: define void @churn(
; CHECK: call ptr @__autockpt_malloc(i64 16)
; CHECK: call ptr @__autockpt__Znwm(i64 8)
; CHECK: call void @__autockpt__ZdlPvm(ptr %o, i64 8)
; CHECK: call void @__autockpt_free(ptr %p)
define void @churn() {
  %p = call ptr @malloc(i64 16)
  %o = call ptr @_Znwm(i64 8)
  call void @_ZdlPvm(ptr %o, i64 8)
  call void @free(ptr %p)
  ret void
}
