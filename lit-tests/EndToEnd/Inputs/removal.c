// M21: a program that writes its checkpoints in place (AUTOCKPT_ASYNC=no) leaves the removal of
// the generations it no longer keeps to a thread of the runtime's, and its exit waits for that
// thread.  A 48 MiB heap (removing one image takes milliseconds), rewritten every step; the
// program asks for a checkpoint (SIGUSR1 to itself) at steps 2 and 4 and exits right after the
// second (AUTOCKPT_ON_SIGNAL=exit) or runs to its end (continue).
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

int main(void) {
  const long n = (48L << 20) / sizeof(double);
  double *a = malloc(n * sizeof *a);
  if (!a)
    return 1;
  for (long i = 0; i < n; ++i)
    a[i] = (double)(i % 1000);
  for (int step = 0; step < 6; ++step) {
    for (long i = 0; i < n; ++i)
      a[i] = a[i] * 0.5 + step;
    printf("step %d\n", step);
    fflush(stdout);
    if (step == 2 || step == 4)
      raise(SIGUSR1);
  }
  double sum = 0;
  for (long i = 0; i < n; ++i)
    sum += a[i];
  printf("sum %.1f\n", sum);
  return 0;
}
