; Blocking calls are safe points: each call to one of them in instrumented code goes to the
; runtime's wrapper (__autockpt_<name>, include/autockpt/redirects.def) and is followed by the
; unwinding check, so a thread blocked in it when a checkpoint is requested saves its frame there
; and makes the call again after the restore.  One function per wrapper.
; RUN: %opt -passes=autockpt,verify -S %s | %FileCheck %s

%struct.timespec = type { i64, i64 }

declare i32 @pthread_cond_wait(ptr, ptr)
declare i32 @pthread_cond_timedwait(ptr, ptr, ptr)
declare i32 @pthread_mutex_lock(ptr)
declare i32 @pthread_mutex_unlock(ptr)
declare i32 @pthread_mutex_trylock(ptr)
declare i32 @pthread_join(i64, ptr)
declare i32 @sem_wait(ptr)
declare i32 @sleep(i32)
declare i32 @usleep(i32)
declare i32 @nanosleep(ptr, ptr)
declare void @_ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE(ptr, ptr)

; A condition wait: redirected, then the check; the call is re-issued from its restore block.
; CHECK-LABEL: define i32 @cond_wait(
; CHECK: autockpt.call:
; CHECK-NEXT: %r = call i32 @__autockpt_pthread_cond_wait(ptr %c, ptr %m)
; CHECK: %autockpt.unwinding = icmp eq i32 %autockpt.mode{{[0-9]*}}, 1
; CHECK: autockpt.restore:
; CHECK-NEXT: br label %autockpt.call
define i32 @cond_wait(ptr %c, ptr %m) {
  %r = call i32 @pthread_cond_wait(ptr %c, ptr %m)
  ret i32 %r
}

; CHECK-LABEL: define i32 @cond_timedwait(
; CHECK: autockpt.call:
; CHECK-NEXT: %r = call i32 @__autockpt_pthread_cond_timedwait(ptr %c, ptr %m, ptr %t)
; CHECK: %autockpt.unwinding = icmp eq
define i32 @cond_timedwait(ptr %c, ptr %m, ptr %t) {
  %r = call i32 @pthread_cond_timedwait(ptr %c, ptr %m, ptr %t)
  ret i32 %r
}

; Locking is a safe point.  Unlocking is redirected too (the runtime renames the owner of a
; recursive or error-checking mutex after a restart) but is not a safe point: no check follows.
; CHECK-LABEL: define i32 @lock(
; CHECK: autockpt.call:
; CHECK-NEXT: %r = call i32 @__autockpt_pthread_mutex_lock(ptr %m)
; CHECK: %autockpt.unwinding = icmp eq
; CHECK: autockpt.cont:
; CHECK-NEXT: call i32 @__autockpt_pthread_mutex_unlock(ptr %m)
; CHECK-NEXT: ret i32 %r
define i32 @lock(ptr %m) {
  %r = call i32 @pthread_mutex_lock(ptr %m)
  call i32 @pthread_mutex_unlock(ptr %m)
  ret i32 %r
}

; CHECK-LABEL: define i32 @join(
; CHECK: autockpt.call:
; CHECK-NEXT: %r = call i32 @__autockpt_pthread_join(i64 %t, ptr null)
; CHECK: %autockpt.unwinding = icmp eq
define i32 @join(i64 %t) {
  %r = call i32 @pthread_join(i64 %t, ptr null)
  ret i32 %r
}

; CHECK-LABEL: define i32 @sem(
; CHECK: autockpt.call:
; CHECK-NEXT: %r = call i32 @__autockpt_sem_wait(ptr %s)
; CHECK: %autockpt.unwinding = icmp eq
define i32 @sem(ptr %s) {
  %r = call i32 @sem_wait(ptr %s)
  ret i32 %r
}

; The three sleeps.
; CHECK-LABEL: define void @sleeps(
; CHECK: call i32 @__autockpt_sleep(i32 1)
; CHECK: %autockpt.unwinding = icmp eq
; CHECK: call i32 @__autockpt_usleep(i32 10)
; CHECK: %autockpt.unwinding{{[0-9]+}} = icmp eq
; CHECK: call i32 @__autockpt_nanosleep(ptr %ts, ptr null)
; CHECK: %autockpt.unwinding{{[0-9]+}} = icmp eq
define void @sleeps(ptr %ts) {
  call i32 @sleep(i32 1)
  call i32 @usleep(i32 10)
  call i32 @nanosleep(ptr %ts, ptr null)
  ret void
}

; std::condition_variable::wait(std::unique_lock<std::mutex>&), out of line in libstdc++.
; CHECK-LABEL: define void @cxx_wait(
; CHECK: autockpt.call:
; CHECK-NEXT: call void @__autockpt__ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE(ptr %cv, ptr %lk)
; CHECK: %autockpt.unwinding = icmp eq
define void @cxx_wait(ptr %cv, ptr %lk) {
  call void @_ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE(ptr %cv, ptr %lk)
  ret void
}

; trylock: redirected, not a safe point.
; CHECK-LABEL: define i32 @try(
; CHECK-NEXT: %r = call i32 @__autockpt_pthread_mutex_trylock(ptr %m)
; CHECK-NEXT: ret i32 %r
define i32 @try(ptr %m) {
  %r = call i32 @pthread_mutex_trylock(ptr %m)
  ret i32 %r
}
