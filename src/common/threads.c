#include "a2i2a.h"

#include <omp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void openblas_set_num_threads(int num_threads);

/* OpenBLAS's name for the kernels it chose at load (OPENBLAS_CORETYPE overrides it); weak, so
 * that another BLAS links too. */
extern char *openblas_get_corename(void) __attribute__((weak));

const char *a2i2a_blas_kernels(void) {
  static _Thread_local char desc[64];
  const char *core = openblas_get_corename ? openblas_get_corename() : NULL;
  if (!core) return "BLAS kernels unknown";
  snprintf(desc, sizeof desc, "OpenBLAS %s kernels", core);
  return desc;
}

static int physical_cores(void) {
  FILE *f = fopen("/proc/cpuinfo", "r");
  int n = 0;
  if (f) {
    char line[256];
    int phys = 0, seen[1024][2], nseen = 0;
    while (fgets(line, sizeof line, f)) {
      int v;
      if (sscanf(line, "physical id : %d", &v) == 1) phys = v;
      else if (sscanf(line, "core id : %d", &v) == 1) {
        int dup = 0;
        for (int i = 0; i < nseen; i++) dup |= seen[i][0] == phys && seen[i][1] == v;
        if (!dup && nseen < 1024) { seen[nseen][0] = phys; seen[nseen][1] = v; nseen++; }
      }
    }
    fclose(f);
    n = nseen;
  }
  long online = sysconf(_SC_NPROCESSORS_ONLN);
  if (n <= 0 || n > online) n = (int)online;
  return n > 0 ? n : 1;
}

static int current_threads;

void a2i2a_set_threads(int n) {
  if (n <= 0) n = physical_cores();
  current_threads = n;
  omp_set_num_threads(n);
  openblas_set_num_threads(n);
}

int a2i2a_get_threads(void) {
  if (!current_threads) a2i2a_set_threads(0);
  return current_threads;
}
