/* The floor of an eager, one-pass restore: read FILE in 8 MiB preads into fresh anonymous memory
 * (every page faulted in on first write, as the runtime's arena is at restart), with no checksum.
 * Prints the time from open to the last byte.   Usage: readref FILE */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  if (argc != 2)
    return 2;
  double t0 = now();
  int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0)
    return 1;
  size_t size = (size_t)st.st_size;
  char *mem = mmap(NULL, size + 4096, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (mem == MAP_FAILED)
    return 1;
  const size_t chunk = 8u << 20;
  for (size_t off = 0; off < size;) {
    size_t n = size - off < chunk ? size - off : chunk;
    ssize_t got = pread(fd, mem + off, n, (off_t)off);
    if (got <= 0)
      return 1;
    off += (size_t)got;
  }
  printf("seconds=%.6f bytes=%zu\n", now() - t0, size);
  return 0;
}
