/* setjmp in instrumented functions (P15): main calls sigsetjmp and a signal handler siglongjmps to
 * it once a round; a Lua-like protected call (setjmp in a frame that recurses through others)
 * catches errors raised by longjmp from deep callees, thousands of times a run.  Checkpoints land
 * in the work loops, under all of these frames; after a restart each longjmp must land in the
 * re-entered frame. */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

static sigjmp_buf top;
static jmp_buf *handler; /* the innermost protected call's buffer */
static long work = 3000, errors, sum, depth_max;
static int depth;
static volatile int round_no, interrupted;

static void fail(int code) { longjmp(*handler, code); }

static long compute(long i) {
  long s = 0;
  for (long k = 0; k < work; k++)
    s += (k ^ i) & 7;
  if (i % 7 == 3)
    fail(1 + (int)(i % 5));
  return s;
}

static int protected_call(long i, long *out);

static long nested(long i) {
  if (i % 3 == 0 && depth < 3) {
    long inner = 0;
    depth++;
    if (depth > depth_max)
      depth_max = depth;
    int status = protected_call(i + 3, &inner);
    depth--;
    if (status)
      inner = -status;
    return inner + compute(i + 2);
  }
  return compute(i);
}

static int protected_call(long i, long *out) {
  jmp_buf buf;
  jmp_buf *prev = handler;
  handler = &buf;
  int status = setjmp(buf);
  if (status == 0)
    *out = nested(i);
  handler = prev;
  return status;
}

static void on_usr2(int sig) {
  (void)sig;
  siglongjmp(top, 1);
}

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 6;
  int per_round = argc > 2 ? atoi(argv[2]) : 400;
  signal(SIGUSR2, on_usr2);
  if (sigsetjmp(top, 1)) {
    printf("round %d interrupted: errors %ld sum %ld\n", round_no, errors, sum);
    fflush(stdout);
    round_no++;
  }
  for (; round_no < rounds; round_no++) {
    for (long i = 0; i < per_round; i++) {
      long out = 0;
      int status = protected_call(i + round_no, &out);
      if (status)
        errors += status;
      else
        sum += out;
      if (round_no % 3 == 1 && i == per_round / 2)
        raise(SIGUSR2); /* siglongjmp to main from a signal handler */
    }
    printf("round %d errors %ld sum %ld\n", round_no, errors, sum);
    fflush(stdout);
  }
  printf("done errors %ld sum %ld depth %ld\n", errors, sum, depth_max);
  return 0;
}
