/* How much memory a job may take: the estimates are the callers' (i2i's in src/sd, each
 * reading's in src/readings), checked against this before any work. */
#ifndef A2I2A_MEMORY_H
#define A2I2A_MEMORY_H

#include <stddef.h>

/* Memory available to us (bytes): MemAvailable, or the cgroup's limit when that is lower; the
 * environment variable A2I2A_MEMORY_MB, when set, instead (the tests use it). 0 if unknown. */
double memory_available(void);

/* Large buffers straight from the system (mmap, page-aligned): freeing one gives its pages back
 * at once and, unlike free() of a malloc'ed block that size, leaves glibc's mmap threshold where
 * it was, so the heap of a long-lived caller does not start taking, and fragmenting under,
 * allocations of that size. pages_free takes the size pages_alloc was given. */
void *pages_alloc(size_t bytes);
void pages_free(void *p, size_t bytes);

#endif
