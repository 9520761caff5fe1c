; Library calls whose state the runtime keeps in the arena: pthread keys and their values (H11)
; and zlib's stream initialisation, which gives a stream without an allocator the arena's (R20).
; RUN: %opt -passes=autockpt,verify -S %s | %FileCheck %s

declare i32 @pthread_key_create(ptr, ptr)
declare i32 @pthread_key_delete(i32)
declare i32 @pthread_setspecific(i32, ptr)
declare ptr @pthread_getspecific(i32)
declare i32 @deflateInit2_(ptr, i32, i32, i32, i32, i32, ptr, i32)
declare i32 @inflateInit_(ptr, ptr, i32)

; CHECK-LABEL: define ptr @uses(
; CHECK: call i32 @__autockpt_pthread_key_create(ptr %k, ptr null)
; CHECK: call i32 @__autockpt_pthread_setspecific(i32 %key, ptr %k)
; CHECK: call ptr @__autockpt_pthread_getspecific(i32 %key)
; CHECK: call i32 @__autockpt_pthread_key_delete(i32 %key)
; CHECK: call i32 @__autockpt_deflateInit2_(ptr %z, i32 9, i32 8, i32 15, i32 8, i32 0, ptr null, i32 112)
; CHECK: call i32 @__autockpt_inflateInit_(ptr %z, ptr null, i32 112)
define ptr @uses(ptr %k, i32 %key, ptr %z) {
  %1 = call i32 @pthread_key_create(ptr %k, ptr null)
  %2 = call i32 @pthread_setspecific(i32 %key, ptr %k)
  %v = call ptr @pthread_getspecific(i32 %key)
  %3 = call i32 @pthread_key_delete(i32 %key)
  %4 = call i32 @deflateInit2_(ptr %z, i32 9, i32 8, i32 15, i32 8, i32 0, ptr null, i32 112)
  %5 = call i32 @inflateInit_(ptr %z, ptr null, i32 112)
  ret ptr %v
}
