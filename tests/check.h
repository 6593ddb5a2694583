/* A tiny test harness: CHECK counts, check_done() prints "N passed, N failed". */
#ifndef A2I2A_CHECK_H
#define A2I2A_CHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* The largest |a[i] - b[i]| of n values (infinite when one is NaN). */
static inline double check_max_abs_diff(const float *a, const float *b, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; i++) {
    double d = fabs((double)a[i] - b[i]);
    if (!(d <= m)) m = isnan(d) ? INFINITY : d;
  }
  return m;
}

/* The reference fixtures (tests/fixtures/README.md): the full set, at $A2I2A_FIXTURES or where
 * CMake's A2I2A_FIXTURES points (default ../shared/fixtures), or, where it is absent, the compact
 * copy of some of its files in tests/fixtures, at the same paths. Tests run from the repository
 * root. With the compact set a test runs the cases it holds (fixture_case) and leaves out the
 * others; a test that can run nothing without the full set is skipped (exit 77). */
#define FIXTURES_COMPACT "tests/fixtures"
static int fixtures_left_out;

static inline const char *fixtures_full_dir(void) {
  const char *d = getenv("A2I2A_FIXTURES");
  if (!d || !*d) d = getenv("A2I2A_FIXTURES_CONFIGURED");
  return d && *d ? d : "../shared/fixtures";
}

static inline int fixtures_full(void) {
  struct stat sb;
  return stat(fixtures_full_dir(), &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* The path of a fixture file, rel as in the full set ("seed/lut_u8.safetensors"). */
static inline const char *fixture(const char *rel) {
  static char buf[8][4096];
  static int k;
  char *b = buf[k++ & 7];
  const char *root = fixtures_full() ? fixtures_full_dir() : FIXTURES_COMPACT;
  size_t nr = strlen(root), nl = strlen(rel);
  if (nr + nl + 2 > sizeof buf[0]) nr = nl = 0; /* absurd paths: an empty path fails loudly in the test */
  memcpy(b, root, nr);
  b[nr] = '/';
  memcpy(b + nr + 1, rel, nl);
  b[nr + 1 + nl] = 0;
  return b;
}

/* Whether the set in use holds rel: always yes for the full set (a file missing there fails). */
static inline int fixture_here(const char *rel) { return fixtures_full() || access(fixture(rel), F_OK) == 0; }

/* Whether to run a case that reads rel; one the compact set cannot run is counted as left out. */
static inline int fixture_case(const char *rel) {
  if (fixture_here(rel)) return 1;
  fixtures_left_out++;
  return 0;
}

/* How many cases a search of the fixtures must find: the full set's number, or the compact set's
 * (counting the others as left out). */
static inline int fixtures_expect(int full, int compact) {
  if (fixtures_full()) return full;
  fixtures_left_out += full - compact;
  return compact;
}

/* One line: who needs the full set, where it was looked for, how to point to it. */
static inline void fixtures_say_missing(const char *who) {
  printf("%s the full fixture set, not found at %s (point A2I2A_FIXTURES to it: in the environment, or "
         "cmake -DA2I2A_FIXTURES=DIR)\n",
         who, fixtures_full_dir());
}

/* For a test that can run nothing without the full set. */
static inline void fixtures_need_full(void) {
  if (fixtures_full()) return;
  fixtures_say_missing("SKIPPED: this test needs");
  exit(77);
}

/* 0 if nothing failed; 77 (skipped) if the compact fixture set left out every case there was. */
static inline int check_done(void) {
  printf("%d passed, %d failed\n", check_pass_count, check_fail_count);
  if (fixtures_left_out) {
    char who[64];
    const char *cases = fixtures_left_out == 1 ? "case needs" : "cases need";
    snprintf(who, sizeof who, "LEFT OUT: %d %s", fixtures_left_out, cases);
    fixtures_say_missing(who);
  }
  if (check_fail_count) return 1;
  return check_pass_count == 0 && fixtures_left_out ? 77 : 0;
}

#endif
