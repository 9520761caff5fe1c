/* The heap: every C allocation function, pointers between heap, stack and globals, memory that
 * libc allocated (freed by the program, or moved into the heap by realloc). */
#define _GNU_SOURCE
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct node {
  struct node *next;
  long *payload;
  char *name;
};

static struct node *g_list;
static long g_counter;

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 12;
  long on_stack = 5;
  long *grow = NULL;
  size_t grow_n = 0;
  unsigned long check = 0;
  for (int round = 1; round <= rounds; round++) {
    for (int i = 0; i < 150000; i++) {
      struct node *n = calloc(1, sizeof *n);
      void *aligned = NULL;
      if (posix_memalign(&aligned, 64, 128) != 0)
        return 1;
      n->payload = aligned;
      n->payload[0] = i + round;
      n->payload[1] = (long)(uintptr_t)&g_counter; /* heap -> global */
      n->payload[2] = (long)(uintptr_t)&on_stack;  /* heap -> stack */
      char buf[32];
      snprintf(buf, sizeof buf, "n%d", i);
      n->name = (i % 3) ? strdup(buf) : strndup(buf, 2);
      n->next = g_list;
      g_list = n;
      if (i % 32 != 0) { /* churn: drop the head */
        struct node *d = g_list;
        g_list = d->next;
        check += (unsigned long)d->payload[0] + strlen(d->name);
        free(d->name);
        free(d->payload);
        free(d);
      }
    }
    grow = realloc(grow, (grow_n + 1000) * sizeof *grow);
    for (size_t k = 0; k < 1000; k++)
      grow[grow_n + k] = (long)(grow_n + k);
    grow_n += 1000;
    void *a = aligned_alloc(256, 1024), *m = memalign(128, 300);
    check += ((uintptr_t)a % 256) + ((uintptr_t)m % 128) + malloc_usable_size(a) / 1024;
    free(a);
    free(m);
    char *cwd = get_current_dir_name(); /* allocated by libc, freed by us */
    check += cwd != NULL;
    free(cwd);
    char *libc_line = NULL; /* libc's block, moved into our heap by realloc */
    size_t cap = 0;
    FILE *mem = fmemopen("alpha\n", 6, "r");
    if (mem && getline(&libc_line, &cap, mem) > 0)
      check += strlen(libc_line);
    if (mem)
      fclose(mem);
    libc_line = realloc(libc_line, 4096);
    free(libc_line);
    g_counter++;
    printf("round %d check %lu\n", round, check);
    fflush(stdout);
  }
  long walk = 0;
  for (struct node *n = g_list; n; n = n->next)
    walk += n->payload[0] + (n->payload[1] == (long)(uintptr_t)&g_counter) +
            (n->payload[2] == (long)(uintptr_t)&on_stack) + n->name[0];
  printf("done %lu %ld %ld %ld\n", check, walk, grow[grow_n - 1], g_counter);
  return 0;
}
