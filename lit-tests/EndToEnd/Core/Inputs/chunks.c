// Counted loops that poll once per chunk of iterations instead of every iteration (design P19):
// a vectorised triad, a pointer chase, a loop that counts down, one over pointers, one with an
// i32 counter and a step of 3, and one whose trip count is not a whole number of chunks.  Each
// runs many chunks a step, so checkpoints land between chunks; every step prints a checksum of
// the whole state.
#include <stdio.h>
#include <stdlib.h>

enum { N = 300007, STEPS = 12 };

struct node {
  struct node *next;
  long value;
};

static double a[N], b[N], c[N];
static struct node nodes[N];

__attribute__((noinline)) static void triad(double *restrict x, const double *restrict y,
                                            const double *restrict z, double s, long n) {
  for (long i = 0; i < n; i++)
    x[i] = y[i] + s * z[i];
}

__attribute__((noinline)) static long chase(const struct node *p, long steps) {
  long sum = 0;
  for (long s = 0; s < steps; s++) {
    sum += p->value;
    p = p->next;
  }
  return sum;
}

__attribute__((noinline)) static double down(const double *x, long n) {
  double s = 0;
  for (long i = n - 1; i >= 0; i--)
    s = s * 0.999 + x[i];
  return s;
}

__attribute__((noinline)) static long span(const long *p, const long *end) {
  long h = 7;
  for (; p != end; p++)
    h = h * 31 + *p;
  return h;
}

__attribute__((noinline)) static unsigned stride3(const double *x, unsigned n) {
  unsigned h = 1;
  for (unsigned i = 0; i != n; i += 3)
    h = h * 33u + (unsigned)(x[i] * 8.0);
  return h;
}

int main(int argc, char **argv) {
  int steps = argc > 1 ? atoi(argv[1]) : STEPS;
  for (long i = 0; i < N; i++) {
    b[i] = (double)(i % 100) * 0.5;
    c[i] = (double)(i % 77) * 0.25;
    nodes[i].next = &nodes[(i * 7919 + 1) % N];
    nodes[i].value = i % 1000;
  }
  long *keys = malloc(N * sizeof *keys);
  if (!keys)
    return 1;
  for (long i = 0; i < N; i++)
    keys[i] = i * 2654435761L;
  const struct node *p = &nodes[0];
  for (int step = 0; step < steps; step++) {
    triad(a, b, c, 1.0 + step * 1e-3, N - step);
    long sum = chase(p, N + step);
    p = &nodes[sum % N];
    double d = down(a, N - 2 * step);
    long h = span(keys + step, keys + N);
    unsigned t = stride3(a, 3 * (N / 3 - step));
    keys[step] ^= h;
    printf("step %d a %.6e chase %ld down %.6e span %ld stride %u\n", step, a[N / 2 + step], sum,
           d, h, t);
  }
  printf("done\n");
  free(keys);
  return 0;
}
