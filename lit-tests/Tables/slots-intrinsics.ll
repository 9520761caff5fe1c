; slots.ll with the debug info held in memory as intrinsics (llvm.dbg.declare, llvm.dbg.value),
; as LLVM 19 may still hold it, instead of records: the same tables.
; REQUIRES: llvm-19
; RUN: %opt --experimental-debuginfo-iterators=false -passes=autockpt,verify -S %S/slots.ll | %FileCheck %S/slots.ll
