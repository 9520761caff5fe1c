/* argv and the environment: pointers kept into them stay valid after a restart whose
 * environment differs (DESIGN D3: both are copied into the heap). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
  const char *label = argc > 1 ? argv[1] : "none";
  const char *home = getenv("ARGENV_VALUE");
  if (!home)
    home = "unset";
  unsigned long h = 0;
  for (int round = 1; round <= 12 / (argc > 2 ? atoi(argv[2]) : 1); round++) {
    for (int i = 0; i < 2000000; i++)
      h = h * 31 + (unsigned char)label[i % strlen(label)] + (unsigned char)home[i % strlen(home)];
    printf("round %d %s %s %lu\n", round, label, home, h);
    fflush(stdout);
  }
  printf("done %s %s %lu\n", label, home, h);
  return 0;
}
