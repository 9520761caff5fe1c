; Calls to functions that may reach a safe point (defined elsewhere and unknown, or indirect) are
; followed by a check of the unwinding state; calls to library functions that never call back
; (TargetLibraryInfo's, an allowlist, intrinsics) and to local loop-free leaves are not.
; RUN: %opt -passes=print-autockpt-safepoints -disable-output %s | %FileCheck %s

declare void @external(i32)
declare double @sqrt(double)
declare i32 @usleep(i32)

define internal i32 @leaf(i32 %x) {
  %y = mul i32 %x, 3
  ret i32 %y
}

; CHECK: autockpt: function caller: 2 safe point(s)
; CHECK-NEXT: #1 call in autockpt.call to external; live: %l
; CHECK-NEXT: #2 call in autockpt.call{{[0-9]+}}; live: %l
; CHECK-NOT: #3
define i32 @caller(ptr %fp, double %d) {
  %l = call i32 @leaf(i32 7)
  %s = call double @sqrt(double %d)
  %u = call i32 @usleep(i32 1)
  call void @external(i32 %l)
  call void %fp()
  ret i32 %l
}

; A function that neither loops nor calls anything checkpointable is left alone.
; CHECK-NOT: function leaf
