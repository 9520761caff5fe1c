// Every -Wautockpt-* diagnostic, at the construct's file:line:column, with a note that says what
// to do (clang -verify matches each expected diagnostic written in a comment below, and fails on
// diagnostic not listed).  -Wno-autockpt-NAME turns one off; -Wno-autockpt all of them.
// RUN: %clang -fsyntax-only -fplugin=%clang-plugin -Xclang -verify %s
// RUN: %clang -fsyntax-only -fplugin=%clang-plugin -fplugin-arg-autockpt-Wno-autockpt %s 2>&1 \
// RUN:   | %FileCheck --allow-empty --check-prefix=NONE %s
// RUN: not %clang -fsyntax-only -fplugin=%clang-plugin -Wno-unknown-warning-option \
// RUN:   -Wno-autockpt-fork -Werror=autockpt-mmap %s 2>&1 | %FileCheck --check-prefix=SOME %s
// NONE-NOT: [-Wautockpt
// SOME-NOT: [-Wautockpt-fork]
// SOME: error: memory mapped with 'mmap' is outside autockpt's heap{{.*}} [-Wautockpt-mmap]
// SOME-NOT: [-Wautockpt-fork]
#include <setjmp.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

jmp_buf env;

int guarded(void) {
  if (setjmp(env)) // expected-warning {{a restore of 'guarded' calls '_setjmp' again to set its buffer for this process (if it had run); a longjmp after a restart lands in the resumed frame, but a copy of a jmp_buf made before the checkpoint is not valid after it [-Wautockpt-setjmp]}} expected-note {{longjmp only to buffers set by a _setjmp still on the stack, and do not copy jmp_bufs}}
    return 1;
  return 0;
}

int spawn(void) {
  pid_t p = fork(); // expected-warning {{'fork' starts another process, which a checkpoint does not include: after a restart it is not running, and what it did is not undone [-Wautockpt-fork]}} expected-note {{let it finish before the program goes on}}
  return system("true") + p; // expected-warning {{'system' starts another process}} expected-note {{let it finish}}
}

void *map(int fd) {
  return mmap(0, 4096, PROT_READ, MAP_PRIVATE, fd, 0); // expected-warning {{memory mapped with 'mmap' is outside autockpt's heap: a checkpoint does not save it, and after a restart the mapping is gone [-Wautockpt-mmap]}} expected-note {{allocate with malloc/new instead, or map it again after a restart}}
}

int net(void) {
  return socket(AF_INET, SOCK_STREAM, 0); // expected-warning {{a socket cannot be saved: a checkpoint warns about it and a restart does not re-create the connection [-Wautockpt-sockets]}} expected-note {{connect again after a restart}}
}

void stack(void) {
  __asm__ volatile("push %%rax; pop %%rax" ::: "memory"); // expected-warning {{inline asm that moves the stack pointer: autockpt saves and restores a frame by its layout at safe points, so a stack pointer the asm leaves changed breaks a restart [-Wautockpt-asm]}} expected-note {{keep pushes and pops balanced inside one asm statement}}
  __asm__ volatile("nop"); // an asm that leaves the stack alone: no warning
}

// A declaration the program makes itself (no MPI headers needed).
int MPI_Win_fence(int assert, int win);
int fence(void) {
  return MPI_Win_fence(0, 0); // expected-warning {{autockpt does not checkpoint MPI one-sided communication, MPI-IO or process spawning: a restart after 'MPI_Win_fence' does not re-create its state [-Wautockpt-unsupported-mpi]}} expected-note {{keep these calls out of the checkpointed run}}
}
// A call the MPI layer neither wraps nor lets through (M18; the pass refuses it too); a wrapped
// call and one that takes no handle are not warned about.
int MPI_Comm_set_info(int comm, int info);
int MPI_Type_commit(int *type);
double MPI_Wtime(void);
int info(int type) {
  MPI_Type_commit(&type);
  (void)MPI_Wtime();
  return MPI_Comm_set_info(type, 0); // expected-warning {{autockpt's MPI layer does not wrap 'MPI_Comm_set_info': the program stops with status 70 when it calls it [-Wautockpt-unsupported-mpi]}} expected-note {{use the calls the layer wraps (include/autockpt/redirects_mpi.def), or build this program without autockpt}}
}

void pragmas(int n, double *a) {
#pragma autockpt nopoll
  a[0] = 1; // expected-warning@-1 {{'#pragma autockpt nopoll' must come right before a loop (for, while, do); it is ignored}}
#pragma autockpt sometimes // expected-warning {{unknown '#pragma autockpt' (expected nopoll, safepoint or nosave(...)); it is ignored}}
#pragma autockpt nosave(nothing) // expected-warning {{'#pragma autockpt nosave': no variable named 'nothing' here; it is ignored}}
  for (int i = 0; i < n; i++)
    a[i] = i;
}

// nosave on a local whose value the program does not write again: after a restart it holds
// zeros.  A zeroed buffer is what nosave is for, and a global keeps its initial value (it is
// the executable's): no warning for those.
static double global_scale = 2.5;
#pragma autockpt nosave(global_scale)
double use(int i) {
  const double weights[4] = {1, 2, 3, 4}; // expected-warning {{'weights' is a nosave local and const: after a restart it holds zeros, and the program never writes it again [-Wautockpt-nosave]}} expected-note {{drop nosave: const data is not written by the program}}
  double scale = 2.5; // expected-warning {{'scale' is a nosave local with an initial value: after a restart it holds zeros, not that value [-Wautockpt-nosave]}} expected-note {{set its value in the code that uses it}}
  double scratch[64] = {0};
  double zeros[8];
#pragma autockpt nosave(weights, scale, scratch, zeros)
  zeros[i & 7] = i;
  return weights[i & 3] * scale * global_scale + scratch[i & 63] + zeros[i & 7];
}
