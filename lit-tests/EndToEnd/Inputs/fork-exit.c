// A child the program forks (without exec) has the runtime too.  It must not checkpoint into the
// run's directory when the checkpoint signal reaches it (a process group's signal), and ending
// with exit() it must not mark the run completed (COMPLETED in AUTOCKPT_DIR) while the program
// runs on, or running the same command again after a kill started over instead of resuming.
// The program takes a checkpoint (SIGUSR1 to itself, at the loop's poll); its child asks for one
// the same way and ends with exit(0); the program waits for it and says what the directory holds.
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void compute(void) {
  volatile long sum = 0;
  for (long i = 0; i < 1000000; ++i)
    sum += i;
}

int main(void) {
  raise(SIGUSR1);
  compute();
  pid_t child = fork();
  if (child == 0) {
    raise(SIGUSR1);
    compute();
    exit(0);
  }
  waitpid(child, NULL, 0);
  printf("after the child's exit:");
  DIR *d = opendir(getenv("AUTOCKPT_DIR"));
  struct dirent *e;
  while (d && (e = readdir(d)))
    if (e->d_name[0] != '.')
      printf(" %s", e->d_name);
  printf("\n");
  if (d)
    closedir(d);
  return 0;
}
