/* How much memory a job may take: the estimates are the callers' (i2i's in src/sd, each
 * reading's in src/readings), checked against this before any work. */
#ifndef A2I2A_MEMORY_H
#define A2I2A_MEMORY_H

/* Memory available to us (bytes): MemAvailable, or the cgroup's limit when that is lower; the
 * environment variable A2I2A_MEMORY_MB, when set, instead (the tests use it). 0 if unknown. */
double memory_available(void);

#endif
