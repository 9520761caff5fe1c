/* THREADS threads (the main thread and THREADS-1 started with pthread_create) each update their
 * share of 2 MiB of arrays in loop code for STEPS steps: the program that bench/threads/run.py
 * checkpoints on a timer to see how long a request takes to stop every thread and what each
 * thread adds to a checkpoint (the heap, and the work, are the same whatever THREADS is).
 * Usage: spin THREADS STEPS */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

enum { TOTAL = 262144 };

static long steps, n;
static double sums[64];

static void *spin(void *arg) {
  long t = (long)arg;
  double *a = malloc(n * sizeof *a);
  for (long i = 0; i < n; i++)
    a[i] = (double)((i * 7 + t) % 13);
  for (long s = 0; s < steps; s++)
    for (long i = 1; i < n; i++)
      a[i] = 0.5 * (a[i] + a[i - 1]) + 1e-3 * (double)(s % 7);
  double sum = 0;
  for (long i = 0; i < n; i++)
    sum += a[i];
  sums[t] = sum;
  free(a);
  return NULL;
}

int main(int argc, char **argv) {
  int nthreads = argc > 1 ? atoi(argv[1]) : 4;
  steps = argc > 2 ? atol(argv[2]) : 4000;
  if (nthreads < 1 || nthreads > 64)
    return 2;
  n = TOTAL / nthreads;
  pthread_t tid[64];
  for (long t = 1; t < nthreads; t++)
    pthread_create(&tid[t], NULL, spin, (void *)t);
  spin((void *)0);
  double total = 0;
  for (long t = 1; t < nthreads; t++)
    pthread_join(tid[t], NULL);
  for (int t = 0; t < nthreads; t++)
    total += sums[t];
  printf("%d threads, %ld steps: %.6f\n", nthreads, steps, total);
  return 0;
}
