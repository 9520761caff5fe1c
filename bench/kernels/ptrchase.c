/* (d) Pointer chasing over a randomly shuffled singly linked list of 4M nodes (64 MB): every
 * step is a cache miss, the loop body is a load and an add. */
#include "bench.h"

struct node {
  struct node *next;
  long value;
};

BENCH_KERNEL long bench_kernel_chase(const struct node *p, long steps) {
  long sum = 0;
  for (long s = 0; s < steps; s++) {
    sum += p->value;
    p = p->next;
  }
  return sum + (long)(p->value & 1);
}

int main(int argc, char **argv) {
  long n = bench_scaled(4000000, bench_arg(argc, argv, 2), 64);
  long steps = bench_scaled(n, bench_arg(argc, argv, 1), 1000);
  struct node *nodes = malloc(n * sizeof *nodes);
  long *perm = malloc(n * sizeof *perm);
  if (!nodes || !perm)
    return 1;
  uint64_t rng = 88172645463325252ull;
  for (long i = 0; i < n; i++)
    perm[i] = i;
  for (long i = n - 1; i > 0; i--) {  // Sattolo: one cycle through every node
    long j = (long)(bench_rand(&rng) % (uint64_t)i);
    long t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  for (long i = 0; i < n; i++) {
    nodes[perm[i]].next = &nodes[perm[(i + 1) % n]];
    nodes[perm[i]].value = (long)(bench_rand(&rng) % 1000);
  }
  bench_time t0 = bench_now();
  long sum = bench_kernel_chase(&nodes[perm[0]], steps);
  bench_time t = bench_since(t0);
  bench_report_u("ptrchase", t, (uint64_t)sum);
  free(perm);
  free(nodes);
  return 0;
}
