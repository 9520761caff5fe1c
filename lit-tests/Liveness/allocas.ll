; At -O0 locals live in allocas: they are saved by contents, not as SSA values, and move into
; the new entry block that holds the restoring test.
; RUN: %opt -passes=print-autockpt-safepoints -disable-output %s | %FileCheck %s

; CHECK: autockpt: function count: 1 safe point(s), 2 saved alloca(s)
; CHECK-NEXT: #1 poll in cond; live:{{$}}
define void @count(i32 %n) {
entry:
  %i = alloca i32
  %buf = alloca [16 x i8]
  store i32 0, ptr %i
  br label %cond
cond:
  %iv = load i32, ptr %i
  %c = icmp slt i32 %iv, %n
  br i1 %c, label %body, label %exit
body:
  %inc = add i32 %iv, 1
  store i32 %inc, ptr %i
  br label %cond
exit:
  ret void
}
