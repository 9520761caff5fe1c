; Every field of a saved frame record is described for `autockpt inspect`: the source variable
; it holds (from #dbg_value, #dbg_declare), a type and how to show its value.
; RUN: %opt -passes=autockpt,verify -S %s | %FileCheck %s

; The loop's poll saves five values.  cell: a pointer that a #dbg_declare describes, so the
; variable's address (flags 1) of pointer kind (4); limit: no variable, a temporary (null name)
; with its IR type; i: an int (kind 1); a fragment of pt, named after its member y, a double
; (kind 3); count: unsigned (kind 2) through a typedef.  Offsets are those of the packed record.
; CHECK: [[CELL:@autockpt.str[.0-9]*]] = {{.*}} c"cell\00"
; CHECK: [[DPTR:@autockpt.str[.0-9]*]] = {{.*}} c"double *\00"
; CHECK: [[I32:@autockpt.str[.0-9]*]] = {{.*}} c"i32\00"
; CHECK: [[I:@autockpt.str[.0-9]*]] = {{.*}} c"i\00"
; CHECK: [[INT:@autockpt.str[.0-9]*]] = {{.*}} c"int\00"
; CHECK: [[PTY:@autockpt.str[.0-9]*]] = {{.*}} c"pt.y\00"
; CHECK: [[DOUBLE:@autockpt.str[.0-9]*]] = {{.*}} c"double\00"
; CHECK: [[COUNT:@autockpt.str[.0-9]*]] = {{.*}} c"count\00"
; CHECK: [[SIZET:@autockpt.str[.0-9]*]] = {{.*}} c"size_t\00"
; CHECK: @autockpt.values = private constant [5 x { ptr, ptr, i64, i64, i32, i32 }]
; CHECK-SAME: { ptr [[CELL]], ptr [[DPTR]], i64 0, i64 8, i32 4, i32 1 }
; CHECK-SAME: { ptr null, ptr [[I32]], i64 8, i64 4, i32 1, i32 0 }
; CHECK-SAME: { ptr [[I]], ptr [[INT]], i64 12, i64 4, i32 1, i32 0 }
; CHECK-SAME: { ptr [[PTY]], ptr [[DOUBLE]], i64 16, i64 8, i32 3, i32 0 }
; CHECK-SAME: { ptr [[COUNT]], ptr [[SIZET]], i64 24, i64 8, i32 2, i32 0 }]

; The three calls save the same values (the next y and count, which no variable describes yet):
; one table serves them all.
; CHECK: [[I64:@autockpt.str[.0-9]*]] = {{.*}} c"i64\00"
; CHECK: [[CALLS:@autockpt.values[.0-9]+]] = private constant [5 x { ptr, ptr, i64, i64, i32, i32 }]
; CHECK-SAME: { ptr null, ptr [[DOUBLE]], i64 16, i64 8, i32 3, i32 0 }, { ptr, ptr, i64, i64, i32, i32 } { ptr null, ptr [[I64]], i64 24, i64 8, i32 1, i32 0 }]

; Each safe point: its line, its kind, its values, how many, and where the locals start (after 32 bytes).
; CHECK: @autockpt.safepoints = private constant [4 x { i32, i32, ptr, i32, i32 }]
; CHECK-SAME: { i32 6, i32 0, ptr @autockpt.values, i32 5, i32 32 }
; CHECK-SAME: { i32 9, i32 1, ptr [[CALLS]], i32 5, i32 32 }

; The locals, once per function: total (declared at its alloca: the bytes are the variable) and
; scratch, an alloca no variable lives in (bytes, kind 0).
; CHECK: [[TOTAL:@autockpt.str[.0-9]*]] = {{.*}} c"total\00"
; CHECK: [[BYTES:@autockpt.str[.0-9]*]] = {{.*}} c"[16 x i8]\00"
; CHECK: @autockpt.locals = private constant [2 x { ptr, ptr, i64, i64, i32, i32 }]
; CHECK-SAME: { ptr [[TOTAL]], ptr [[DOUBLE]], i64 0, i64 8, i32 3, i32 0 }
; CHECK-SAME: { ptr null, ptr [[BYTES]], i64 8, i64 16, i32 0, i32 0 }]
; CHECK: @autockpt.functions = {{.*}} ptr @autockpt.safepoints, i32 4, i32 2, ptr @autockpt.locals }]


declare ptr @malloc(i64)
declare void @use(ptr, double)

define void @walk(i32 %n) !dbg !5 {
entry:
  %total = alloca double, align 8
    #dbg_declare(ptr %total, !10, !DIExpression(), !20)
  %scratch = alloca [16 x i8], align 1
  %cell = call ptr @malloc(i64 8)
    #dbg_declare(ptr %cell, !11, !DIExpression(), !20)
  %limit = shl i32 %n, 1
  br label %loop

loop:
  %i = phi i32 [ 0, %entry ], [ %next, %loop ]
  %y = phi double [ 0.0, %entry ], [ %y.next, %loop ]
  %count = phi i64 [ 0, %entry ], [ %count.next, %loop ]
    #dbg_value(i32 %i, !12, !DIExpression(), !20)
    #dbg_value(double %y, !13, !DIExpression(DW_OP_LLVM_fragment, 64, 64), !20)
    #dbg_value(i64 %count, !14, !DIExpression(), !20)
  %y.next = fadd double %y, 1.0, !dbg !20
  %count.next = add i64 %count, 3
  call void @use(ptr %cell, double %y.next), !dbg !22
  call void @use(ptr %total, double 0.0), !dbg !22
  call void @use(ptr %scratch, double 0.0), !dbg !22
  %next = add i32 %i, 1
  %more = icmp slt i32 %next, %limit
  br i1 %more, label %loop, label %exit

exit:
  ret void
}

!llvm.dbg.cu = !{!0}
!llvm.module.flags = !{!3, !4}

!0 = distinct !DICompileUnit(language: DW_LANG_C11, file: !1, producer: "clang", isOptimized: true, runtimeVersion: 0, emissionKind: FullDebug)
!1 = !DIFile(filename: "walk.c", directory: "/src")
!3 = !{i32 7, !"Dwarf Version", i32 5}
!4 = !{i32 2, !"Debug Info Version", i32 3}
!5 = distinct !DISubprogram(name: "walk", scope: !1, file: !1, line: 3, type: !6, scopeLine: 3, spFlags: DISPFlagDefinition | DISPFlagOptimized, unit: !0)
!6 = !DISubroutineType(types: !7)
!7 = !{null, !8}
!8 = !DIBasicType(name: "int", size: 32, encoding: DW_ATE_signed)
!9 = !DIBasicType(name: "double", size: 64, encoding: DW_ATE_float)
!10 = !DILocalVariable(name: "total", scope: !5, file: !1, line: 4, type: !9)
!11 = !DILocalVariable(name: "cell", scope: !5, file: !1, line: 5, type: !9)
!12 = !DILocalVariable(name: "i", scope: !5, file: !1, line: 6, type: !8)
!13 = !DILocalVariable(name: "pt", scope: !5, file: !1, line: 7, type: !15)
!14 = !DILocalVariable(name: "count", scope: !5, file: !1, line: 8, type: !18)
!15 = distinct !DICompositeType(tag: DW_TAG_structure_type, name: "point", file: !1, line: 1, size: 128, elements: !16)
!16 = !{!21, !17}
!17 = !DIDerivedType(tag: DW_TAG_member, name: "y", scope: !15, file: !1, line: 1, baseType: !9, size: 64, offset: 64)
!18 = !DIDerivedType(tag: DW_TAG_typedef, name: "size_t", file: !1, line: 2, baseType: !19)
!19 = !DIBasicType(name: "unsigned long", size: 64, encoding: DW_ATE_unsigned)
!20 = !DILocation(line: 6, column: 3, scope: !5)
!21 = !DIDerivedType(tag: DW_TAG_member, name: "x", scope: !15, file: !1, line: 1, baseType: !9, size: 64)
!22 = !DILocation(line: 9, column: 5, scope: !5)
