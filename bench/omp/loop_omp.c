/* For the stop latency: the whole run one `parallel for schedule(dynamic)` of integer work (the
 * shape of a Monte Carlo lookup code), checkpointed by the timer.  Usage: loop_omp ITEMS STEPS */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 200000, steps = argc > 2 ? atol(argv[2]) : 400, sum = 0;
#pragma omp parallel for schedule(dynamic, 64) reduction(+ : sum)
  for (long i = 0; i < n; i++) {
    long v = i;
    for (long s = 0; s < steps; s++)
      v = (v * 1103515245 + 12345 + s) % 1000003;
    sum += v;
  }
  printf("sum %ld\n", sum);
  return 0;
}
