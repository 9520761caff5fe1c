; Default deny for MPI (docs/design.md M18): an MPI call that the layer neither wraps nor knows to
; take no handle goes to a stub that stops the program at the call naming it (its PMPI_ name,
; and Fortran's binding, too), with a warning at compile time; a wrapped call is redirected, an
; allowed one (MPI_Wtime, PMPI_Wtime) goes to the library, and a function the module defines
; itself (an MPI of the program's own) is left alone.
; RUN: %opt -passes=autockpt,verify -S %s 2>%t.err > %t.ll
; RUN: %FileCheck %s < %t.ll
; RUN: %FileCheck %s --check-prefix=STUB < %t.ll
; RUN: %FileCheck %s --check-prefix=DECL < %t.ll
; RUN: %FileCheck %s --check-prefix=WARN < %t.err

declare i32 @MPI_Comm_set_info(ptr, ptr)
declare i32 @PMPI_Send(ptr, i32, ptr, i32, i32, ptr)
declare i32 @MPI_Comm_rank(ptr, ptr)
declare double @MPI_Wtime()
declare double @PMPI_Wtime()
declare void @mpi_comm_rank_(ptr, ptr, ptr)
declare void @mpi_exchange(ptr)
declare i32 @MPI_Unused(ptr)

define i32 @MPI_Mine(i32 %x) {
  ret i32 %x
}

; WARN-DAG: warning: {{.*}}autockpt: MPI_Comm_set_info is not supported by autockpt yet: the program stops with an error if it calls it (docs/design.md M18)
; WARN-DAG: warning: {{.*}}autockpt: PMPI_Send is not supported by autockpt yet
; WARN-DAG: warning: {{.*}}autockpt: mpi_comm_rank_ is a Fortran MPI binding; autockpt wraps the C bindings only
; WARN-NOT: MPI_Comm_rank
; WARN-NOT: Wtime
; WARN-NOT: mpi_exchange
; WARN-NOT: MPI_Unused

; An address taken is refused too (a table of handlers the program calls later).
; CHECK: @table = global [1 x ptr] [ptr @__autockpt_refused.MPI_Comm_call_errhandler]
@table = global [1 x ptr] [ptr @MPI_Comm_call_errhandler]
declare i32 @MPI_Comm_call_errhandler(ptr, i32)

; CHECK-LABEL: define double @uses(
; CHECK: call i32 @__autockpt_refused.MPI_Comm_set_info(ptr %c, ptr %n)
; CHECK: call i32 @__autockpt_refused.PMPI_Send(ptr %n, i32 1, ptr %c, i32 0, i32 0, ptr %c)
; CHECK: call i32 @__autockpt_MPI_Comm_rank(ptr %c, ptr %r)
; CHECK: call void @__autockpt_refused.mpi_comm_rank_(ptr %c, ptr %r, ptr %r)
; CHECK: call void @mpi_exchange(ptr %c)
; CHECK: call i32 @MPI_Mine(i32 1)
; CHECK: call double @MPI_Wtime()
; CHECK: call double @PMPI_Wtime()
define double @uses(ptr %c, ptr %n, ptr %r) {
  %1 = call i32 @MPI_Comm_set_info(ptr %c, ptr %n)
  %2 = call i32 @PMPI_Send(ptr %n, i32 1, ptr %c, i32 0, i32 0, ptr %c)
  %3 = call i32 @MPI_Comm_rank(ptr %c, ptr %r)
  call void @mpi_comm_rank_(ptr %c, ptr %r, ptr %r)
  call void @mpi_exchange(ptr %c)
  %4 = call i32 @MPI_Mine(i32 1)
  %t = call double @MPI_Wtime()
  %u = call double @PMPI_Wtime()
  %s = fadd double %t, %u
  ret double %s
}

; The stub: the runtime's refusal, naming the call; never returns.
; STUB: define internal i32 @__autockpt_refused.MPI_Comm_set_info(ptr %0, ptr %1)
; STUB-NEXT: call void @__autockpt_mpi_refused(ptr @autockpt.mpi.name{{[.0-9]*}})
; STUB-NEXT: unreachable
; DECL: declare void @__autockpt_mpi_refused(ptr) #[[NR:[0-9]+]]
; DECL: attributes #[[NR]] = { {{.*}}noreturn
