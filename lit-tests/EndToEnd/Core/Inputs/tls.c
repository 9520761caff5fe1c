/* thread_local and function-static variables keep their values across a restart. */
#include <stdio.h>
#include <stdlib.h>

static __thread long t_count;
_Thread_local double t_sum = 1.0;

static long next_id(void) {
  static long id = 100;
  return id++;
}

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 12;
  long ids = 0;
  for (int round = 1; round <= rounds; round++) {
    for (int i = 0; i < 3000000; i++) {
      t_count += i % 7;
      t_sum = t_sum * 0.9999999 + 1e-7 * (i % 3);
      if (i % 1000 == 0)
        ids += next_id();
    }
    printf("round %d %ld %.9f %ld\n", round, t_count, t_sum, ids);
    fflush(stdout);
  }
  printf("done %ld %.9f %ld\n", t_count, t_sum, ids);
  return 0;
}
