/* Variables of several types in two frames, for `autockpt inspect`: in the first round, at step 3,
 * the program sends itself the checkpoint signal, so the checkpoint is taken at the next poll (the
 * top of step 4) with known values: step 4, energy 3.25, hits 15, delta -2, scale 0.25.  With
 * AUTOCKPT_ON_SIGNAL=exit (the default) it then exits 75; run again, it finishes and prints what
 * an uninterrupted run prints.   Usage: variables [STEPS]   (default 6) */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct particle {
  double x, v;
};

double field[4] = {1, 2, 3, 4};

__attribute__((noinline)) static double advance(struct particle *p, int steps, int signal_at) {
  double energy = 0.5;
  unsigned long hits = 7;
  int delta = -2;
  float scale = 0.25f;
  for (int step = 0; step < steps; step++) {
    if (step == signal_at) kill(getpid(), SIGUSR1);
    p->x += p->v;
    energy += p->x * scale;
    hits += 2;
    delta -= step == steps ? 1 : 0;
  }
  return energy + (double)hits + delta;
}

int main(int argc, char **argv) {
  int steps = argc > 1 ? atoi(argv[1]) : 6;
  double *buf = malloc(8 * sizeof *buf);
  struct particle part = {1.5, 0.5};
  long total = 0;
  for (int round = 0; round < 2; round++) {
    buf[round] = advance(&part, steps, round == 0 ? 3 : -1) + field[round];
    total += (long)buf[round];
  }
  printf("total %ld x %.2f\n", total, part.x);
  free(buf);
  return 0;
}
