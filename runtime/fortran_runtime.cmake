# Fortran (docs/design.md F6): the flang that matches this LLVM, and a copy of the objects of its
# runtime (libFortranRuntime.a, flang 22's libflang_rt.runtime.a) that allocate the program's data
# (allocatables, pointers, CFI descriptors, ragged arrays), with malloc/realloc/free renamed to the
# runtime's arena entry points.  Linked before flang's own runtime library (autockpt-config --fldflags), these objects
# are the ones used, so what flang's runtime allocates for the program is in the arena and saved;
# the runtime's own state (I/O units, buffers) stays in the system heap.  Without flang, nothing is
# built and autockpt-config --fc says so.
find_program(AUTOCKPT_FLANG NAMES flang-new-${LLVM_VERSION_MAJOR} flang-${LLVM_VERSION_MAJOR}
             PATHS ${LLVM_TOOLS_BINARY_DIR} NO_DEFAULT_PATH)
if(NOT AUTOCKPT_FLANG)
  find_program(AUTOCKPT_FLANG NAMES flang-new-${LLVM_VERSION_MAJOR} flang-${LLVM_VERSION_MAJOR})
endif()
# flang 19: libFortranRuntime.a beside LLVM's libraries; flang 22: flang-rt's, in clang's resource
# directory.
set(fortran_rt ${LLVM_LIBRARY_DIR}/libFortranRuntime.a)
if(NOT EXISTS ${fortran_rt})
  file(GLOB fortran_rt ${LLVM_LIBRARY_DIR}/clang/*/lib/*/libflang_rt.runtime.a)
  list(GET fortran_rt 0 fortran_rt)
endif()
set(AUTOCKPT_FORTRAN_HEAP "" CACHE INTERNAL "flang's runtime allocation objects, heap in the arena")
if(AUTOCKPT_FLANG AND fortran_rt AND EXISTS ${fortran_rt})
  execute_process(COMMAND ${CMAKE_AR} t ${fortran_rt} OUTPUT_VARIABLE members
                  OUTPUT_STRIP_TRAILING_WHITESPACE)
  string(REPLACE "\n" ";" members "${members}")
  # Objects that allocate the program's data: malloc, realloc and free go to the arena (flang 19
  # allocates in descriptor/pointer/ISO_Fortran_binding/ragged, flang 22 through the allocator
  # registry).  Objects that free it: free goes to the arena's entry point, which hands a block
  # of the system heap back to libc.
  set(data_objects descriptor.cpp.o pointer.cpp.o ISO_Fortran_binding.cpp.o ragged.cpp.o
                   allocator-registry.cpp.o)
  set(free_objects assign.cpp.o derived.cpp.o)
  set(dir ${CMAKE_CURRENT_BINARY_DIR}/fortran)
  set(objects "")
  set(rename_commands "")
  foreach(o IN LISTS data_objects free_objects)
    if(NOT o IN_LIST members)
      continue()
    endif()
    list(APPEND objects ${o})
    set(syms --redefine-sym free=__autockpt_free)
    if(o IN_LIST data_objects)
      list(APPEND syms --redefine-sym malloc=__autockpt_malloc
                       --redefine-sym realloc=__autockpt_realloc)
    endif()
    list(APPEND rename_commands COMMAND ${CMAKE_OBJCOPY} ${syms} ${dir}/${o})
  endforeach()
  if(NOT "descriptor.cpp.o" IN_LIST objects)
    message(WARNING "autockpt: ${fortran_rt} has no descriptor.cpp.o; Fortran allocatables would "
                    "not be saved, so Fortran support is off")
  else()
    set(AUTOCKPT_FORTRAN_HEAP ${CMAKE_BINARY_DIR}/lib/autockpt-fortran-heap.o CACHE INTERNAL "")
    add_custom_command(
      OUTPUT ${AUTOCKPT_FORTRAN_HEAP}
      COMMAND ${CMAKE_COMMAND} -E rm -rf ${dir}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${dir}
      COMMAND ${CMAKE_COMMAND} -E chdir ${dir} ${CMAKE_AR} x ${fortran_rt} ${objects}
      ${rename_commands}
      COMMAND ${CMAKE_COMMAND} -E chdir ${dir} ${CMAKE_LINKER} -r ${objects}
              -o ${AUTOCKPT_FORTRAN_HEAP}
      DEPENDS ${fortran_rt} ${CMAKE_CURRENT_LIST_FILE}
      COMMENT "Copying flang's runtime allocation objects with their heap in the arena"
      VERBATIM)
    add_custom_target(autockpt-fortran ALL DEPENDS ${AUTOCKPT_FORTRAN_HEAP})
    install(FILES ${AUTOCKPT_FORTRAN_HEAP} DESTINATION ${CMAKE_INSTALL_LIBDIR})
    message(STATUS "autockpt: Fortran with ${AUTOCKPT_FLANG} and ${fortran_rt}")
  endif()
else()
  message(STATUS "autockpt: no flang-new-${LLVM_VERSION_MAJOR} or no flang runtime library: no Fortran support")
endif()
