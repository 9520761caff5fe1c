// A child the program forks and ends with exit() runs the program's exit handlers, the runtime's
// among them: it must not mark the run completed (COMPLETED in AUTOCKPT_DIR) while the program
// runs on, or running the same command again after a kill started over instead of resuming.
// The program takes a checkpoint (SIGUSR1 to itself, at the loop's poll), forks a child that
// ends with exit(0), waits for it and looks for the marker.
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
  raise(SIGUSR1);
  volatile long sum = 0;
  for (long i = 0; i < 1000000; ++i)
    sum += i;
  pid_t child = fork();
  if (child == 0)
    exit(0);
  waitpid(child, NULL, 0);
  char marker[4096];
  snprintf(marker, sizeof marker, "%s/COMPLETED", getenv("AUTOCKPT_DIR"));
  printf("after the child's exit: %s\n", access(marker, F_OK) == 0 ? "marked completed" : "not marked");
  return 0;
}
