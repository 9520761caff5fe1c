// R26: after a background checkpoint, the writer puts the program's heap back into 2 MiB pages.
// A 64 MiB heap (the runtime asks for huge pages for it), written whole; a child shares it
// copy-on-write while the program writes it again, which splits the huge pages (a fault copies
// 4 KiB); then a checkpoint (SIGUSR1 to itself, AUTOCKPT_ON_SIGNAL=continue).  Once its
// MANIFEST is there (the writer has committed), the program gives the writer 3 s to have put
// most of the heap back into huge pages (AnonHugePages of /proc/self/smaps_rollup): khugepaged
// alone takes about 10 s for 16 MiB.
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
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

static void nap_ms(long ms) {
  struct timespec t = {ms / 1000, (ms % 1000) * 1000000};
  nanosleep(&t, NULL);
}

int main(void) {
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
  char manifest[4096];
  snprintf(manifest, sizeof manifest, "%s/gen-000001/MANIFEST", getenv("AUTOCKPT_DIR"));
  struct stat st;
  for (int i = 0; i < 30000 && stat(manifest, &st) != 0; ++i)  // the commit: up to 5 minutes
    nap_ms(10);
  long kib = anon_huge_kib();
  for (int i = 0; i < 300 && kib < enough; ++i) {
    nap_ms(10);
    kib = anon_huge_kib();
  }
  printf("committed; heap in huge pages again: %s\n", kib >= enough ? "yes" : "no");
  double sum = 0;
  for (long i = 0; i < n; i += 4096)
    sum += a[i];
  printf("sum %.0f\n", sum);
  return 0;
}
