/* Issue 15's reproduction: main calls sigsetjmp for error recovery and the work loop is in
 * another function.  The program asks for its own checkpoint-and-exit (SIGUSR1) half-way. */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
static sigjmp_buf recover;
static double work(long n, int ask) {
  double s = 0;
  for (long i = 1; i <= n; i++) {
    s += 1.0 / (double)i;
    if (ask && i == n / 2)
      raise(SIGUSR1);
  }
  return s;
}
int main(void) {
  struct sigaction sa;
  sigaction(SIGUSR1, NULL, &sa);
  int ask = sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN;
  if (sigsetjmp(recover, 1))
    return 1;
  printf("sum %.9f\n", work(20000000, ask));
  return 0;
}
