/* examples/count.c split in two files: prints 1, 2, 3, ... one number every 0.1 s, then the sum.
 * Nothing here knows about autockpt; the build system's compiler makes it restartable.
 * Usage: count [N]   (default 30) */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "counter.h"

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 30;
  long sum = 0;
  for (int i = 1; i <= n; i++) {
    sum = counter_add(sum, i);
    printf("%d\n", i);
    fflush(stdout);
    usleep(100000);
  }
  printf("sum %ld\n", sum);
  return 0;
}
