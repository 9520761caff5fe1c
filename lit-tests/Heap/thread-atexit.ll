; A thread_local object's destructor registration (__cxa_thread_atexit, from a TLS init function)
; goes to the runtime, which keeps each thread's list in the arena (docs/design.md H10); the
; process-wide __cxa_atexit goes to its own list.
; RUN: %opt -passes=autockpt,verify -S %s | %FileCheck %s

@obj = thread_local global i64 0
@__dso_handle = external hidden global i8
declare i32 @__cxa_thread_atexit(ptr, ptr, ptr)
declare i32 @__cxa_atexit(ptr, ptr, ptr)
declare void @dtor(ptr)

; CHECK-LABEL: define void @__tls_init(
; CHECK: call i32 @__autockpt___cxa_thread_atexit(ptr @dtor, ptr @obj, ptr @__dso_handle)
; CHECK: call i32 @__autockpt___cxa_atexit(ptr @dtor, ptr null, ptr @__dso_handle)
define void @__tls_init() {
  %1 = call i32 @__cxa_thread_atexit(ptr @dtor, ptr @obj, ptr @__dso_handle)
  %2 = call i32 @__cxa_atexit(ptr @dtor, ptr null, ptr @__dso_handle)
  ret void
}
