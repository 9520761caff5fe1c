/* A checkpoint asked for (the program raises SIGUSR1 itself when the runtime's handler is there)
 * while code built without autockpt is on the stack: qsort (libc) calls back into the program,
 * and the comparator works long.  Modes (argv[1]):
 *   late   the comparator returns; the checkpoint is taken in main afterwards;
 *   exit   the comparator calls exit(0) before qsort returns: a pending checkpoint-and-exit
 *          request must not end in a silent 0;
 *   block  no callback: main blocks in read() on a pipe that never gets data (no safe point). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int self_checkpoint, asked;
static long work = 200000; /* iterations of each comparator call: polled, not bounded */
static double sink;
static const char *mode = "late";

static void ask(void) {
  if (self_checkpoint && !asked) {
    asked = 1;
    raise(SIGUSR1);
  }
}

static int compare(const void *a, const void *b) {
  ask();
  for (long i = 1; i <= work; i++)
    sink += 1.0 / (double)i;
  if (strcmp(mode, "exit") == 0) {
    printf("exit inside the comparator\n");
    exit(0);
  }
  return *(const int *)a - *(const int *)b;
}

int main(int argc, char **argv) {
  struct sigaction sa;
  sigaction(SIGUSR1, NULL, &sa);
  self_checkpoint = sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN;
  if (argc > 1)
    mode = argv[1];
  if (argc > 2)
    work = atol(argv[2]);
  if (strcmp(mode, "block") == 0) {
    int fds[2];
    char c;
    if (pipe(fds) != 0)
      return 1;
    ask();
    printf("blocked: %zd\n", read(fds[0], &c, 1));
    return 0;
  }
  int v[8] = {5, 3, 7, 1, 8, 2, 6, 4};
  qsort(v, 8, sizeof v[0], compare);
  printf("sorted %d %d %d %.6f\n", v[0], v[4], v[7], sink);
  fflush(stdout);
  double s = 0;
  for (long i = 1; i <= work; i++)
    s += 1.0 / (double)(i * i);
  printf("done %.6f\n", s);
  return 0;
}
