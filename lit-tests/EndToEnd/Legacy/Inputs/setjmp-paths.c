/* setjmp on some paths only (P15), the way pigz's try/catch macros use it: a work loop where
 * every few items run inside a "try" (a setjmp in a branch, later in the loop than the loop's
 * poll), and a callee longjmps out of some of them; a second buffer is set once, in a branch
 * before the loop, and a longjmp to it ends the run.  After a restart each buffer that had been
 * set before the checkpoint must be set again in the re-entered frame, and one that had not must
 * be left alone.  Usage: setjmp-paths ITEMS [STRICT] */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>

static jmp_buf item_env, end_env;
static long sum;

static void check(long i, long v) {
  if (v % 97 == 13)
    longjmp(item_env, (int)(i % 7) + 1); /* "throw" out of this item */
}

static long work(long i) {
  long v = 0;
  for (long k = 1; k < 20000; k++)
    v = (v * 31 + k * (i + 3)) % 1000003;
  return v;
}

int main(int argc, char **argv) {
  long items = argc > 1 ? atol(argv[1]) : 300;
  int strict = argc > 2;
  volatile long caught = 0, tried = 0; /* changed after a setjmp: volatile, as C asks */
  volatile long last = 0;
  if (strict) {
    if (setjmp(end_env) != 0) {
      printf("ended early at item %ld\n", (long)last);
      return 0;
    }
  }
  for (long i = 0; i < items; i++) {
    long v = work(i);
    if (i % 3 == 0) {
      int why = setjmp(item_env);
      if (why == 0) {
        tried++;
        check(i, v + work(i + 1));
      } else {
        caught += why;
      }
    }
    sum = (sum + v) % 1000000007;
    last = i;
    if (i % 50 == 49)
      printf("item %ld sum %ld tried %ld caught %ld\n", i, sum, (long)tried, (long)caught);
    if (strict && i == items - 2)
      longjmp(end_env, 1);
  }
  printf("done sum %ld tried %ld caught %ld\n", sum, (long)tried, (long)caught);
  return 0;
}
