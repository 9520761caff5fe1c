/* One step of the count, in its own file so that the examples link two objects. */
#include "counter.h"

long counter_add(long sum, int i) { return sum + i; }
