#include <stdlib.h>
#include <sys/mman.h>

void *map_input(int fd, size_t size) {
  return mmap(0, size, PROT_READ, MAP_PRIVATE, fd, 0);
}

int archive(void) { return system("tar cf out.tar out"); }
