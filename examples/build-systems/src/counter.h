/* The counter of the build-system examples: main.c drives it, counter.c keeps the running sum. */
#ifndef COUNTER_H
#define COUNTER_H
long counter_add(long sum, int i);
#endif
