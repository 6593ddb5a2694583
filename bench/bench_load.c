/* Loading a full-size checkpoint (bench/make_sd_checkpoint): a PyTorch .ckpt against the same
 * weights as .safetensors.
 *   bench_load [runs=5] FILE...
 * For each file, three measurements, each run `runs` times in its own child process (so that
 * its peak RSS is its own, the mapped weights it touches included); the minimum is printed:
 *   open   sd_model_open: map the file and read its index (safetensors' JSON header; the
 *          .ckpt's zip directory, pickle and records)
 *   touch  open, then read every byte of every weight once (page cache warm after the first run)
 *   model  a2i2a_model_open: the whole pipeline loaded on views of the weights
 * and once, for a PyTorch file, a2i2a_models_convert to FILE.converted.safetensors (removed).
 * CPU s: the child's user + system time (less disturbed by a busy machine than the wall time). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "a2i2a.h"
#include "sd/model.h"
#include "sd/torch_file.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

enum { OPEN, TOUCH, MODEL, CONVERT };
static const char *op_name[] = {"open", "touch", "model", "convert"};

/* The operation in this process: its seconds, or a negative number on failure. */
static double run(const char *path, int op) {
  double t0 = now();
  if (op == MODEL) {
    a2i2a_model *m;
    if (a2i2a_model_open(path, &m)) return -1;
    double t = now() - t0;
    a2i2a_model_close(m);
    return t;
  }
  if (op == CONVERT) {
    char out[4200];
    snprintf(out, sizeof out, "%s.converted.safetensors", path);
    a2i2a_status st = a2i2a_models_convert(path, out, 1, NULL, 0, NULL);
    double t = now() - t0;
    unlink(out);
    return st ? -1 : t;
  }
  sd_model m;
  if (sd_model_open(path, &m)) return -1;
  volatile uint64_t sum = 0;
  for (int i = 0; op == TOUCH && i < m.file[0].n; i++) {
    const st_tensor *t = &m.file[0].tensors[i];
    const uint8_t *p = t->data;
    uint64_t s = 0;
    for (size_t k = 0; k < t->nbytes; k += 64) s += p[k]; /* one read per cache line */
    sum += s;
  }
  (void)sum; /* volatile: the reads happen */
  double t = now() - t0;
  sd_model_close(&m);
  return t;
}

int main(int argc, char **argv) {
  int runs = 5, first = 1;
  if (argc > 1 && atoi(argv[1]) > 0) runs = atoi(argv[1]), first = 2;
  if (first >= argc) {
    fprintf(stderr, "usage: %s [runs=5] FILE...\n", argv[0]);
    return 2;
  }
  printf("%-40s %-8s %10s %10s %12s %14s\n", "file", "what", "min s", "max s", "min CPU s", "min peak MiB");
  for (int a = first; a < argc; a++)
    for (int op = OPEN; op <= CONVERT; op++) {
      if (op == CONVERT && !pt_is_pickle_name(argv[a])) continue;
      double tmin = 1e30, tmax = 0, cpu_min = 1e30;
      long rss_min = -1;
      for (int r = 0; r < (op == CONVERT ? 1 : runs); r++) {
        int fds[2];
        if (pipe(fds)) return 1;
        pid_t pid = fork();
        if (pid == 0) {
          double t = run(argv[a], op);
          if (t < 0) fprintf(stderr, "%s\n", a2i2a_last_error());
          if (write(fds[1], &t, sizeof t) != sizeof t) _exit(1);
          _exit(0);
        }
        close(fds[1]);
        double t = -1;
        if (read(fds[0], &t, sizeof t) != sizeof t) t = -1;
        close(fds[0]);
        struct rusage ru;
        int status;
        wait4(pid, &status, 0, &ru);
        if (t < 0) return 1;
        if (t < tmin) tmin = t;
        if (t > tmax) tmax = t;
        if (rss_min < 0 || ru.ru_maxrss < rss_min) rss_min = ru.ru_maxrss;
        double cpu = ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + 1e-6 * (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
        if (cpu < cpu_min) cpu_min = cpu;
      }
      printf("%-40s %-8s %10.3f %10.3f %12.3f %14.1f\n", argv[a], op_name[op], tmin, tmax, cpu_min, rss_min / 1024.0);
      fflush(stdout);
    }
  return 0;
}
