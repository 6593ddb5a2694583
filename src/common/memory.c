#include "common/memory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

double memory_available(void) {
  const char *e = getenv("A2I2A_MEMORY_MB");
  if (e && *e) return atof(e) * 1048576.0;
  double avail = 0;
  FILE *f = fopen("/proc/meminfo", "r");
  if (f) {
    char line[256];
    while (fgets(line, sizeof line, f)) {
      double kb;
      if (sscanf(line, "MemAvailable: %lf kB", &kb) == 1) avail = kb * 1024.0;
    }
    fclose(f);
  }
  /* a container's limit, when there is one */
  f = fopen("/sys/fs/cgroup/memory.max", "r");
  if (f) {
    char buf[64];
    if (fgets(buf, sizeof buf, f) && strncmp(buf, "max", 3)) {
      double lim = atof(buf);
      FILE *u = fopen("/sys/fs/cgroup/memory.current", "r");
      double cur = 0;
      if (u) {
        if (fgets(buf, sizeof buf, u)) cur = atof(buf);
        fclose(u);
      }
      if (lim > cur && (avail == 0 || lim - cur < avail)) avail = lim - cur;
    }
    fclose(f);
  }
  return avail;
}

void *pages_alloc(size_t bytes) {
  if (!bytes) return NULL;
  void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? NULL : p;
}

void pages_free(void *p, size_t bytes) {
  if (p) munmap(p, bytes);
}
