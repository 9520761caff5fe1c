/* The textbook demo: prints 1, 2, 3, ... one number every 0.2 s, then the sum.
 * Built with autockpt, a run that is checkpointed and killed continues, when started again,
 * from the number it had reached.  Usage: count [N [MS]]   (default 30 numbers, 200 ms apart) */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 30;
  int ms = argc > 2 ? atoi(argv[2]) : 200;
  long sum = 0;
  for (int i = 1; i <= n; i++) {
    sum += i;
    printf("%d\n", i);
    fflush(stdout);
    usleep(ms * 1000);
  }
  printf("sum %ld\n", sum);
  return 0;
}
