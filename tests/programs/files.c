/* Files across checkpoints and restarts: reads INPUT line by line (getline and fgets, so a
 * checkpoint can land in the middle of the file), writes one summary line per round to OUTPUT
 * with fprintf, keeps a header at the start of OUTPUT up to date in place with fseek/ftell,
 * writes a raw log through open()/write() and a dup() of that descriptor, and prints its progress
 * on stdout.  Its output files and its stdout must be the same whether it runs once or is killed
 * and restarted.
 *
 *     files INPUT OUTPUT ROUNDS [WORK]     (WORK: inner iterations per input line, default 3000)
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static unsigned long long mix(unsigned long long h, const char *s, long work) {
  for (long k = 0; k < work; ++k)
    for (const char *p = s; *p; ++p)
      h = (h ^ (unsigned char)*p) * 1099511628211ull + (unsigned long long)k;
  return h;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: files INPUT OUTPUT ROUNDS [WORK]\n");
    return 2;
  }
  long rounds = atol(argv[3]);
  long work = argc > 4 ? atol(argv[4]) : 3000;
  FILE *in = fopen(argv[1], "r");
  if (!in) {
    perror(argv[1]);
    return 1;
  }
  FILE *out = fopen(argv[2], "w");
  if (!out) {
    perror(argv[2]);
    return 1;
  }
  setvbuf(out, NULL, _IOLBF, 0); /* every line reaches the file: a kill leaves lines after the
                                    checkpoint in it, which the restart must take back */
  char log_name[4096];
  snprintf(log_name, sizeof log_name, "%s.log", argv[2]);
  int log_fd = open(log_name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  int dup_fd = dup(log_fd); /* shares the offset: odd rounds write through it */
  if (log_fd < 0 || dup_fd < 0) {
    perror(log_name);
    return 1;
  }

  fprintf(out, "rounds done: %6ld of %6ld\n", 0L, rounds);
  long header_end = ftell(out);
  char *line = NULL;
  size_t cap = 0;
  char buf[256];
  unsigned long long h = 1469598103934665603ull;
  for (long r = 0; r < rounds; ++r) {
    if (fseek(in, 0, SEEK_SET) != 0)
      return 1;
    long lines = 0, bytes = 0;
    for (;;) {
      const char *got;
      if (lines % 2 == 0) {
        ssize_t n = getline(&line, &cap, in);
        got = n < 0 ? NULL : line;
      } else {
        got = fgets(buf, sizeof buf, in);
      }
      if (!got)
        break;
      h = mix(h, got, work);
      bytes += (long)strlen(got);
      ++lines;
    }
    if (!feof(in) || ferror(in))
      return 1;
    long pos = ftell(in);
    fprintf(out, "round %ld: %ld lines, %ld bytes, at %ld, hash %016llx\n", r, lines, bytes, pos,
            h);
    long end = ftell(out);
    fseek(out, 0, SEEK_SET);  /* the header, rewritten in place */
    fprintf(out, "rounds done: %6ld of %6ld\n", r + 1, rounds);
    if (ftell(out) != header_end)
      return 1;
    fseek(out, end, SEEK_SET);
    char note[128];
    int len = snprintf(note, sizeof note, "log %ld %016llx\n", r, h);
    if (write(r % 2 ? dup_fd : log_fd, note, (size_t)len) != len)
      return 1;
    printf("progress %ld of %ld: %016llx\n", r + 1, rounds, h);
    fflush(stdout);
  }
  free(line);
  fclose(in);
  if (fclose(out) != 0 || close(log_fd) != 0 || close(dup_fd) != 0)
    return 1;
  printf("done %016llx\n", h);
  return 0;
}
