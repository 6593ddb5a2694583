/* Pieces shared by the libFuzzer targets: the input as text, split into parts, a private
 * temporary folder per process, files written into it. */
#ifndef A2I2A_FUZZ_H
#define A2I2A_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A NUL-terminated copy of the input (free it). */
static inline char *fuzz_text(const uint8_t *data, size_t size) {
  char *t = malloc(size + 1);
  if (!t) abort();
  memcpy(t, data, size);
  t[size] = 0;
  return t;
}

/* The input cut at its NUL bytes into at most max parts (the last keeps the rest, NULs and
 * all): part[i] points into buf (a copy, free it), len[i] its length. Returns the count. */
static inline int fuzz_split(const uint8_t *data, size_t size, char **buf, const char **part, size_t *len, int max) {
  *buf = fuzz_text(data, size);
  int n = 0;
  size_t start = 0;
  for (size_t i = 0; i <= size && n < max; i++)
    if (i == size || (data[i] == 0 && n < max - 1)) {
      part[n] = *buf + start, len[n] = i - start, n++;
      start = i + 1;
    }
  for (int i = n; i < max; i++) part[i] = "", len[i] = 0;
  return n;
}

/* This process's temporary folder (made on first use, under $TMPDIR or /tmp). */
static inline const char *fuzz_tmpdir(void) {
  static char dir[256];
  if (!dir[0]) {
    const char *t = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/a2i2a_fuzz_XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(dir)) abort();
  }
  return dir;
}

/* Writes len bytes to dir/name (folders included in name must exist). */
static inline void fuzz_write(const char *dir, const char *name, const void *b, size_t len) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  if (!f) abort();
  if (len && fwrite(b, 1, len, f) != len) abort();
  fclose(f);
}

#endif
