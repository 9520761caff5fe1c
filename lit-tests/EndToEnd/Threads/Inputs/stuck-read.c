/* A thread blocked in read() on a pipe cannot reach a safe point: a checkpoint asked for then
 * (the program raises SIGUSR1 itself when a handler is installed) is given up after
 * AUTOCKPT_STOP_TIMEOUT with a message naming the thread and where it is, and the program goes
 * on; with AUTOCKPT_ON_SIGNAL=exit it stops with a message and its own status instead. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static int fds[2];
static volatile int reader_running;

static void *reader(void *arg) {
  char c = '?';
  (void)arg;
  reader_running = 1; /* from here on it runs no safe point */
  if (read(fds[0], &c, 1) != 1)
    c = '!';
  return (void *)(long)c;
}

static double spin(long n) {
  double s = 0;
  for (long i = 1; i <= n; i++)
    s += 1.0 / (double)i;
  return s;
}

int main(void) {
  struct sigaction sa;
  sigaction(SIGUSR1, NULL, &sa);
  int self_checkpoint = sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN;
  if (pipe(fds) != 0)
    return 1;
  pthread_t t;
  pthread_create(&t, NULL, reader, NULL);
  while (!reader_running)
    ;
  printf("before %.6f\n", spin(1000000));
  fflush(stdout);
  if (self_checkpoint)
    raise(SIGUSR1);
  printf("after %.6f\n", spin(2000000));
  fflush(stdout);
  if (write(fds[1], "x", 1) != 1)
    return 1;
  void *got;
  pthread_join(t, &got);
  printf("done %c\n", (char)(long)got);
  return 0;
}
