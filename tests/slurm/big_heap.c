/* For signal-edge.sh: a program whose checkpoint takes a while to write (its heap is MB mebibytes),
 * so that a second signal can arrive while the first one's checkpoint is being written.
 * Prints 1..STEPS, one every 20 ms, then a checksum of the heap.  Usage: big_heap [MB] [STEPS] */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
  size_t mb = argc > 1 ? (size_t)atol(argv[1]) : 256;
  int steps = argc > 2 ? atoi(argv[2]) : 40;
  size_t n = mb << 20;
  unsigned char *a = malloc(n);
  if (!a) return 1;
  for (size_t i = 0; i < n; i++) a[i] = (unsigned char)((i * 2654435761u) >> 13);
  unsigned long sum = 0;
  for (int s = 1; s <= steps; s++) {
    for (size_t i = 0; i < n; i += 4096) { a[i] += (unsigned char)s; sum += a[i]; }
    printf("%d\n", s);
    fflush(stdout);
    usleep(20000);
  }
  printf("sum %lu\n", sum);
  free(a);
  return 0;
}
