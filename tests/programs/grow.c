/* A heap that outgrows a small disk: prints 1..N, one number every 50 ms, with a running sum kept
 * in the heap.  After printing 5 it asks for a checkpoint (the checkpoint signal, to itself) while
 * its heap is small; at 10 it allocates and fills BIG MiB; after printing 12 it asks for another
 * checkpoint, which holds those BIG MiB too.  On a disk with room for the first image only, the
 * second fails.  Ends with "sum S".     Usage: grow [N [BIG]]   (default 30 and 4) */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 30;
  size_t big = (size_t)(argc > 2 ? atoi(argv[2]) : 4) << 20;
  long *sum = malloc(sizeof *sum);
  unsigned char *block = NULL;
  *sum = 0;
  for (int i = 1; i <= n; i++) {
    if (i == 10) {
      block = malloc(big);
      memset(block, 7, big);
    }
    *sum += i + (block ? block[(size_t)i * 4099 % big] : 0);
    printf("%d\n", i);
    fflush(stdout);
    if (i == 5 || i == 12) kill(getpid(), SIGUSR1);
    usleep(50000);
  }
  printf("sum %ld\n", *sum);
  free(block);
  free(sum);
  return 0;
}
