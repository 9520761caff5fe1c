/* autockpt/marks.h: say what autockpt may skip, in a way that compiles with and without it.
 *
 *   AUTOCKPT_NOSAVE       on a variable (global, static or local): its bytes are not written to
 *                         checkpoints; after a restart it holds zeros (a local) or its initial
 *                         value (a global).  For scratch data the program rebuilds before it
 *                         reads it again: reading it first after a restart is the program's bug.
 *   AUTOCKPT_NOPOLL       on a function: its loops get no poll (calls it makes to functions that
 *                         poll are still safe points).  The latency of a checkpoint request then
 *                         comes from the loops around the calls to it.
 *   AUTOCKPT_PRAGMA_NOPOLL     before a loop: no poll in that loop nest.
 *   AUTOCKPT_PRAGMA_SAFEPOINT  in a loop body: a poll exactly there and no other in that loop.
 *
 * With the clang plugin (the compiler wrappers and the CMake package load it) the same is
 * spelled [[autockpt::nosave]], [[autockpt::nopoll]], #pragma autockpt nopoll | safepoint |
 * nosave(var, ...).  Without the plugin, the attributes still work (they are clang's
 * annotate attributes, which the pass reads) and the pragmas are ignored.  Under other compilers
 * everything here expands to nothing.  docs/design.md C1 describes the IR form. */
#ifndef AUTOCKPT_MARKS_H
#define AUTOCKPT_MARKS_H

#if defined(__clang__)
#define AUTOCKPT_NOSAVE __attribute__((annotate("autockpt.nosave")))
#define AUTOCKPT_NOPOLL __attribute__((annotate("autockpt.nopoll")))
#define AUTOCKPT_PRAGMA_NOPOLL _Pragma("autockpt nopoll")
#define AUTOCKPT_PRAGMA_SAFEPOINT _Pragma("autockpt safepoint")
#else
#define AUTOCKPT_NOSAVE
#define AUTOCKPT_NOPOLL
#define AUTOCKPT_PRAGMA_NOPOLL
#define AUTOCKPT_PRAGMA_SAFEPOINT
#endif

#endif /* AUTOCKPT_MARKS_H */
