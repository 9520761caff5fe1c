// R26: after a background checkpoint, the writer puts the program's heap back into 2 MiB pages.
// A 64 MiB heap (the runtime asks for huge pages for it), written whole; a child shares it
// copy-on-write while the program writes it again, which splits the huge pages (a fault copies
// 4 KiB); then a checkpoint (SIGUSR1 to itself, AUTOCKPT_ON_SIGNAL=continue).  The program is a
// subreaper, so the writer, an orphan once its first parent exits, becomes its child: it waits
// for the writer to exit (it commits, then collapses the heap, then exits) and then asks the
// kernel how much of its heap is in huge pages (AnonHugePages of /proc/self/smaps_rollup).
// khugepaged alone puts back about 16 MiB in 10 s, so without R26 most of it is still split.
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static long anon_huge_kib(void) {
  FILE *f = fopen("/proc/self/smaps_rollup", "r");
  char line[256];
  long kib = -1;
  while (f && fgets(line, sizeof line, f))
    if (sscanf(line, "AnonHugePages: %ld kB", &kib) == 1)
      break;
  if (f)
    fclose(f);
  return kib;
}

static void fill(double *a, long n, double v) {
  for (long i = 0; i < n; ++i)
    a[i] = v + (double)i;
}

int main(void) {
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  const long n = (64L << 20) / sizeof(double), enough = 48 << 10;
  double *a = malloc(n * sizeof *a);
  if (!a)
    return 1;
  fill(a, n, 1);
  printf("written: %s\n", anon_huge_kib() >= enough ? "in huge pages" : "in small pages");
  pid_t child = fork();
  if (child == 0) {
    pause();
    _exit(0);
  }
  fill(a, n, 2);  // copy-on-write while the child shares the heap
  kill(child, SIGKILL);
  waitpid(child, NULL, 0);
  printf("written again beside a child: %s\n",
         anon_huge_kib() >= enough ? "in huge pages" : "split");
  raise(SIGUSR1);
  for (;;) {  // the writer, until it has exited (then there is no child left: ECHILD)
    if (waitpid(-1, NULL, 0) < 0 && errno != EINTR)
      break;
  }
  printf("writer gone; heap in huge pages again: %s\n",
         anon_huge_kib() >= enough ? "yes" : "no");
  double sum = 0;
  for (long i = 0; i < n; i += 4096)
    sum += a[i];
  printf("sum %.0f\n", sum);
  return 0;
}
