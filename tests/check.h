/* A tiny test harness: CHECK counts, check_done() prints "N passed, N failed". */
#ifndef A2I2A_CHECK_H
#define A2I2A_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_pass_count, check_fail_count;

#define CHECK(cond, ...)                                            \
  do {                                                              \
    if (cond) {                                                     \
      check_pass_count++;                                           \
    } else {                                                        \
      check_fail_count++;                                           \
      fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);          \
      fprintf(stderr, __VA_ARGS__);                                 \
      fputc('\n', stderr);                                          \
    }                                                               \
  } while (0)

/* A path inside the shared fixtures ($A2I2A_SHARED, default ../shared). */
static inline const char *shared_path(const char *rel) {
  static char buf[8][4096];
  static int k;
  const char *root = getenv("A2I2A_SHARED");
  char *b = buf[k++ & 7];
  const char *r = root && *root ? root : "../shared";
  size_t nr = strlen(r), nl = strlen(rel);
  if (nr + nl + 2 > 4096) nr = nl = 0; /* absurd paths: an empty path fails loudly in the test */
  memcpy(b, r, nr);
  b[nr] = '/';
  memcpy(b + nr + 1, rel, nl);
  b[nr + 1 + nl] = 0;
  return b;
}

static inline int check_done(void) {
  printf("%d passed, %d failed\n", check_pass_count, check_fail_count);
  return check_fail_count ? 1 : 0;
}

#endif
