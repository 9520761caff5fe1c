; Each module registers one table with the runtime from a constructor: its writable globals
; (not constants) and its instrumented functions with their safe points.  A thread-local
; variable's address is the main thread's instance, filled in by the constructor.
; The user's main is renamed: the runtime owns main.
; RUN: %opt -passes=autockpt,verify -S %s | %FileCheck %s

@counter = global i64 0
@table = internal global [4 x double] zeroinitializer
@message = constant [3 x i8] c"hi\00"
@per_thread = thread_local global i32 0

; CHECK: @autockpt.globals = private global [3 x { ptr, i64, ptr }] [{ ptr, i64, ptr } { ptr @counter, i64 8, ptr @autockpt.str{{[.0-9]*}} }, { ptr, i64, ptr } { ptr @table, i64 32, ptr @autockpt.str{{[.0-9]*}} }, { ptr, i64, ptr } { ptr null, i64 4, ptr @autockpt.str{{[.0-9]*}} }]
; CHECK: @autockpt.module = private constant {{.*}} { i32 4, i32 0, ptr @{{.*}}, ptr @autockpt.globals, i64 3, ptr @autockpt.functions, i64 1, ptr null, i64 0 }
; CHECK: @llvm.global_ctors = appending global {{.*}} @autockpt.module_ctor
; CHECK: define i32 @__autockpt_user_main(
; CHECK: define internal void @autockpt.module_ctor()
; CHECK-NEXT: %[[TLS:[0-9]+]] = call ptr @llvm.threadlocal.address.p0(ptr @per_thread)
; CHECK-NEXT: store ptr %[[TLS]], ptr getelementptr inbounds ([3 x { ptr, i64, ptr }], ptr @autockpt.globals, i32 0, i32 2, i32 0)
; CHECK-NEXT: call void @__autockpt_register_module(ptr @autockpt.module)
; CHECK: !autockpt.instrumented = !{}
define i32 @main() {
entry:
  br label %loop
loop:
  %i = phi i64 [ 0, %entry ], [ %n, %loop ]
  %n = add i64 %i, 1
  store i64 %n, ptr @counter
  %c = icmp ult i64 %n, 100000000
  br i1 %c, label %loop, label %exit
exit:
  ret i32 0
}
