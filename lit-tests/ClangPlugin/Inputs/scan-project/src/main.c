#include <setjmp.h>
#include <signal.h>
#include <stdio.h>

static jmp_buf recover;
double grid[1024];

static void on_int(int sig) { (void)sig; }

static void step(int n) {
#pragma autockpt nopoll
  for (int i = 0; i < n; i++)
    grid[i] = 0.5 * grid[i] + 1.0;
}

int main(void) {
  signal(SIGINT, on_int);
  if (setjmp(recover))
    return 1;
  for (int t = 0; t < 100; t++) {
    step(1024);
#pragma autockpt safepoint
    grid[0] += t;
  }
  printf("%f\n", grid[0]);
  return 0;
}
