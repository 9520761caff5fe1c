/* The contract between the autockpt pass (passes/) and its runtime (runtime/).
 *
 * Instrumented code calls only the entry points declared here; the pass spells each name once
 * (passes/RuntimeABI.cpp) and the runtime defines each once (runtime/interface.cpp).  Bump
 * AUTOCKPT_ABI_VERSION whenever a signature or a table layout below changes: every module
 * registers the version it was compiled for and the runtime refuses a mismatch at start.
 *
 * This header includes nothing and is valid C and C++. */
#ifndef AUTOCKPT_ABI_H
#define AUTOCKPT_ABI_H

#define AUTOCKPT_ABI_VERSION 4

#ifdef __cplusplus
extern "C" {
#endif

typedef unsigned char autockpt_u8;
typedef unsigned int autockpt_u32;
typedef unsigned long long autockpt_u64;

/* ---- State read by the inline fast paths --------------------------------------------------
 * __autockpt_state is one 8-byte word per thread (thread-local, in the executable's static TLS
 * block; the runtime defines it).  Its low half is the flag: non-zero when a checkpoint has been
 * requested of this thread.  Polls read it with a volatile load (folded into one compare on
 * x86) and branch, unlikely, to __autockpt_poll_slow.  Signal handlers and timers only ever
 * store to it (to every thread's).  Its high half is the mode, what this thread's frames are
 * doing: after a call to a checkpointable function, AUTOCKPT_MODE_UNWINDING means "save your
 * frame and return"; at the entry of an instrumented function, AUTOCKPT_MODE_RESTORING means
 * "reload your frame and jump to its safe point".  A function that polls at its entry tests both
 * there with one load of the word (x86-64 is little-endian), non-zero when a checkpoint is
 * requested or the frames are being restored (or unwound).  The mode is per thread because
 * threads unwind and return normally at the same time: a global mode would make a thread that
 * returns normally from a call save a frame whose callee saved none. */
enum {
  AUTOCKPT_MODE_RUNNING = 0,
  AUTOCKPT_MODE_UNWINDING = 1,
  AUTOCKPT_MODE_RESTORING = 2
};
extern __thread unsigned long long __autockpt_state;

/* ---- Safe points ---------------------------------------------------------------------------
 * Called from a poll when the flag is set.  Returns non-zero when the calling frame must save
 * itself and return (the runtime has switched to AUTOCKPT_MODE_UNWINDING), zero when the
 * checkpoint cannot start here (a foreign frame is on the stack, ...) and the
 * code must simply go on; the request stays pending for a later safe point. */
int __autockpt_poll_slow(void);

/* Unwinding: reserves `size` bytes for the frame record of function `fid` stopped at safe
 * point `spid` and returns where to store them.  `layout` is a hash of the record's layout. */
void *__autockpt_push_frame(autockpt_u64 fid, autockpt_u32 spid, autockpt_u64 layout,
                            autockpt_u64 size);

/* Restoring: returns the next (outermost remaining) frame record, which must belong to `fid`
 * with layout `layout`.  The record starts with a struct autockpt_frame_head; the payload
 * follows at offset sizeof(struct autockpt_frame_head).  After the innermost record has been
 * popped the runtime is back in AUTOCKPT_MODE_RUNNING. */
struct autockpt_frame_head {
  autockpt_u32 spid;
  autockpt_u32 reserved;
};
void *__autockpt_pop_frame(autockpt_u64 fid, autockpt_u64 layout);

/* A restored record named a safe point the function does not have: never returns. */
void __autockpt_bad_frame(autockpt_u64 fid, autockpt_u32 spid);

/* An MPI call the MPI layer does not wrap (docs/design.md M18): the pass calls this, naming it,
 * instead of the library.  Never returns: the program stops with status 70. */
void __autockpt_mpi_refused(const char *call);

/* ---- The application's heap (DESIGN D4) -----------------------------------------------------
 * The pass rewrites allocation calls in instrumented code to these.  Pointers that did not come
 * from the arena are handed to the system allocator by free/realloc. */
void *__autockpt_malloc(autockpt_u64 size);
void *__autockpt_calloc(autockpt_u64 n, autockpt_u64 size);
void *__autockpt_realloc(void *p, autockpt_u64 size);
void __autockpt_free(void *p);
void *__autockpt_aligned_alloc(autockpt_u64 align, autockpt_u64 size);
int __autockpt_posix_memalign(void **out, autockpt_u64 align, autockpt_u64 size);
autockpt_u64 __autockpt_malloc_usable_size(void *p);
char *__autockpt_strdup(const char *s);
/* The other replacements of include/autockpt/redirects.def have their library's signature. */

/* ---- Per-module tables ----------------------------------------------------------------------
 * Each instrumented module has one constructor that registers one autockpt_module. */
struct autockpt_global {
  void *addr;
  autockpt_u64 size;
  const char *name;
};
/* What one field of a frame record holds, for `autockpt inspect`: the runtime copies these into
 * the image and never reads them otherwise.  A record is the safe point's live values, then the
 * bytes of every saved local (static alloca) of the function, then, with a dynamic stack, its
 * size and bytes (not described). */
struct autockpt_slot {
  const char *name;    /* the source variable(s) it holds, from debug info; null: a temporary */
  const char *type;    /* the source type when known, else the IR type */
  autockpt_u64 offset; /* values: from the record's payload; locals: from locals_offset */
  autockpt_u64 size;   /* bytes */
  autockpt_u32 kind;   /* AUTOCKPT_SLOT_*: how to show its value */
  autockpt_u32 flags;  /* AUTOCKPT_SLOT_ADDRESS_OF */
};
enum {
  AUTOCKPT_SLOT_BYTES = 0, /* no preview */
  AUTOCKPT_SLOT_INT = 1,   /* signed integer of `size` bytes */
  AUTOCKPT_SLOT_UINT = 2,
  AUTOCKPT_SLOT_FLOAT = 3, /* float (4 bytes) or double (8) */
  AUTOCKPT_SLOT_POINTER = 4
};
enum { AUTOCKPT_SLOT_ADDRESS_OF = 1 }; /* the value is the address of the named variable */
struct autockpt_safepoint {
  autockpt_u32 line;   /* source line, 0 when unknown */
  autockpt_u32 kind;   /* AUTOCKPT_SP_* */
  const struct autockpt_slot *values; /* the live values saved at this safe point */
  autockpt_u32 nvalues;
  autockpt_u32 locals_offset; /* where the function's locals start in this safe point's record */
};
enum { AUTOCKPT_SP_POLL = 0, AUTOCKPT_SP_CALL = 1, AUTOCKPT_SP_ENTRY = 2 };
struct autockpt_function {
  void *addr;
  autockpt_u64 fid;
  autockpt_u64 layout;
  const char *name;
  const char *file;
  const struct autockpt_safepoint *safepoints; /* indexed by spid - 1 */
  autockpt_u32 nsafepoints;
  autockpt_u32 nlocals;
  const struct autockpt_slot *locals; /* the saved locals, the same at every safe point */
};
struct autockpt_module {
  autockpt_u32 abi_version;
  autockpt_u32 reserved;
  const char *name;
  const struct autockpt_global *globals;
  autockpt_u64 nglobals;
  const struct autockpt_function *functions;
  autockpt_u64 nfunctions;
  /* nosave pointer globals (docs/design.md C3): the pointer is saved, the heap block it points
   * to at a checkpoint is not. */
  void *const *nosave_pointers;
  autockpt_u64 nnosave_pointers;
};
void __autockpt_register_module(const struct autockpt_module *m);

/* Every static constructor of an instrumented module (llvm.global_ctors) is called through this:
 * it runs the constructor in a fresh start and skips it in a restarted process. */
void __autockpt_run_ctor(void (*ctor)(void));

/* The user's main, renamed by the pass; the runtime owns main(). */
int __autockpt_user_main(int argc, char **argv, char **envp);

#ifdef __cplusplus
}
#endif
#endif /* AUTOCKPT_ABI_H */
