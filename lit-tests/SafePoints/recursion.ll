; A function in a recursive call-graph cycle polls at its entry, so recursion without loops can
; be checkpointed; its recursive calls are call safe points.
; RUN: %opt -passes=print-autockpt-safepoints -disable-output %s | %FileCheck %s

; CHECK: autockpt: function fib: 3 safe point(s)
; CHECK-NEXT: #1 entry in autockpt.entry.poll; live:
; CHECK-NEXT: #2 call in autockpt.call to fib; live: %n1
; CHECK-NEXT: #3 call in autockpt.call{{[0-9]+}} to fib; live: %a %n2
define i64 @fib(i64 %n) {
entry:
  %small = icmp slt i64 %n, 2
  br i1 %small, label %base, label %rec
rec:
  %n1 = sub i64 %n, 1
  %a = call i64 @fib(i64 %n1)
  %n2 = sub i64 %n, 2
  %b = call i64 @fib(i64 %n2)
  %s = add i64 %a, %b
  ret i64 %s
base:
  ret i64 %n
}
