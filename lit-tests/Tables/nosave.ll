; nosave globals (docs/design.md C3): an array is left out of the globals table; a pointer is
; kept in it (its value is saved) and listed in the module's nosave_pointers, so the runtime
; leaves the heap block it points to out of the image instead.
; RUN: %opt -passes=autockpt,verify -S %s | %FileCheck %s

@scratch = internal global [1024 x double] zeroinitializer, !autockpt.nosave !0
@buffer = internal global ptr null, !autockpt.nosave !0
@kept = global i64 0

define i32 @main() {
  store i64 1, ptr @kept
  ret i32 0
}

!0 = !{}

; CHECK: @autockpt.globals = private {{global|constant}} [2 x { ptr, i64, ptr }] [{ ptr, i64, ptr } { ptr @buffer, i64 8, {{.*}} }, { ptr, i64, ptr } { ptr @kept, i64 8, {{.*}} }]
; CHECK-DAG: @autockpt.nosave_pointers = private constant [1 x ptr] [ptr @buffer]
; CHECK-DAG: @autockpt.module = private constant {{.*}} ptr @autockpt.globals, i64 2, {{.*}} ptr @autockpt.nosave_pointers, i64 1 }
