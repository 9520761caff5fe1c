/* Random number generators across checkpoints and restarts: running sums of rand(), random(),
 * drand48(), lrand48(), mrand48() and erand48(), printed every round.  A restarted run must print
 * what an uninterrupted one prints.  With "lcong", lcong48 first sets the drand48 family's own
 * multiplier and addend, which the checkpoint must keep too.
 *
 *     rng ROUNDS [DRAWS [lcong]]     (DRAWS per generator per round, default 200000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
  long rounds = argc > 1 ? atol(argv[1]) : 40;
  long draws = argc > 2 ? atol(argv[2]) : 200000;
  srand(12345);
  srandom(777); /* rand() is random() in glibc: both continue one sequence */
  srand48(4242);
  if (argc > 3 && strcmp(argv[3], "lcong") == 0) {
    unsigned short params[7] = {0x1234, 0xabcd, 0x0042, 0xe66d, 0xdeec, 0x0005, 0x000d};
    lcong48(params);
  }
  unsigned short xsubi[3] = {1, 2, 3};
  unsigned long long sum_rand = 0, sum_random = 0, sum_lrand = 0;
  long long sum_mrand = 0;
  double sum_drand = 0, sum_erand = 0;
  for (long r = 0; r < rounds; ++r) {
    for (long k = 0; k < draws; ++k) {
      sum_rand += (unsigned)rand();
      sum_random += (unsigned long)random();
      sum_drand += drand48();
      sum_lrand += (unsigned long)lrand48();
      sum_mrand += mrand48();
      sum_erand += erand48(xsubi);
    }
    printf("round %ld: rand %llu random %llu drand48 %.6f lrand48 %llu mrand48 %lld erand48 %.6f\n",
           r, sum_rand, sum_random, sum_drand, sum_lrand, sum_mrand, sum_erand);
    fflush(stdout);
  }
  return 0;
}
