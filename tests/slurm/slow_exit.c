/* For signal-edge.sh: counts 1..N (one every 0.1 s), prints the sum, then spends 0.3 s exiting in
 * an atexit handler, so that a signal sent "right as the program finishes" arrives while it exits.
 * With "exit" as the second argument, main ends with exit(0) instead of returning.
 * Usage: slow_exit [N] [exit] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void slow_exit(void) {
  for (int i = 0; i < 10; i++) usleep(30000);
  printf("exited\n");
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 5;
  atexit(slow_exit);
  long sum = 0;
  for (int i = 1; i <= n; i++) {
    sum += i;
    printf("%d\n", i);
    fflush(stdout);
    usleep(100000);
  }
  printf("sum %ld\n", sum);
  if (argc > 2 && strcmp(argv[2], "exit") == 0)
    exit(0);
  return 0;
}
