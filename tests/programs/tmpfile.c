/* Keeps a tmpfile() open across checkpoints.  Its contents live in an anonymous file that a
 * checkpoint does not save, so a checkpoint warns and a restart stops with a message instead of
 * handing the program a stream that no longer exists.
 *
 *     tmpfile ROUNDS
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
  long rounds = argc > 1 ? atol(argv[1]) : 40;
  FILE *t = tmpfile();
  if (!t)
    return 1;
  unsigned long long h = 1;
  for (long r = 0; r < rounds; ++r) {
    h = h * 6364136223846793005ull + (unsigned long long)r;
    usleep(50000);
    fprintf(t, "%ld %llu\n", r, h);
    printf("round %ld\n", r);
    fflush(stdout);
  }
  rewind(t);
  long lines = 0;
  char buf[128];
  while (fgets(buf, sizeof buf, t))
    ++lines;
  fclose(t);
  printf("done: %ld lines\n", lines);
  return 0;
}
