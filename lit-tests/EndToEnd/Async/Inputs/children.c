/* A program with children of its own, checkpointed in the background while they run: it forks
 * KIDS children a round, asks for a checkpoint (SIGUSR1) while they live, reaps them with
 * wait(-1), and checks that wait() returned exactly its children and then nothing more (ECHILD):
 * the runtime's writer process must never be one of its children.  A SIGCHLD handler counts
 * signals; more signals than children would be the writer's.   Usage: children ROUNDS KIDS */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t sigchld;
static void on_chld(int s) { (void)s; sigchld++; }

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 6, kids = argc > 2 ? atoi(argv[2]) : 3;
  struct sigaction sa;
  sigaction(SIGUSR1, NULL, &sa);  /* built with autockpt, SIGUSR1 asks for a checkpoint */
  int self_checkpoint = sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN;
  signal(SIGCHLD, on_chld);
  long reaped = 0;
  for (int r = 0; r < rounds; r++) {
    pid_t pid[64];
    int fds[2];
    if (pipe(fds) != 0)
      return 2;
    for (int k = 0; k < kids; k++) {
      pid[k] = fork();
      if (pid[k] == 0) {
        char c;
        close(fds[1]);
        while (read(fds[0], &c, 1) < 0 && errno == EINTR) {
        }
        _exit(10 + k);
      }
    }
    close(fds[0]);
    if (self_checkpoint)
      kill(getpid(), SIGUSR1);  /* a checkpoint while the children live */
    double x = 1;
    for (int i = 0; i < 200000; i++)  /* a few polls: the checkpoint is taken here */
      x = x * 1.0000001 + 1e-9;
    close(fds[1]);  /* the children may end now */
    for (int k = 0; k < kids; k++) {
      int st;
      pid_t w;
      while ((w = wait(&st)) < 0 && errno == EINTR) {
      }
      int mine = -1;
      for (int j = 0; j < kids; j++)
        if (pid[j] == w)
          mine = j;
      if (mine < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 10 + mine) {
        printf("round %d: wait() returned %d (status %#x), not one of my children\n", r, (int)w,
               st);
        return 1;
      }
      pid[mine] = 0;
      reaped++;
    }
    pid_t more = waitpid(-1, NULL, WNOHANG);
    if (more != -1 || errno != ECHILD) {
      printf("round %d: waitpid(-1) found another child (%d)\n", r, (int)more);
      return 1;
    }
    printf("round %d: %d children reaped (%.3f)\n", r, kids, x > 0 ? 1.0 : 0.0);
    fflush(stdout);
  }
  printf("done: %ld children, %s\n", reaped, sigchld <= reaped ? "no stray SIGCHLD" : "stray SIGCHLD");
  return 0;
}
