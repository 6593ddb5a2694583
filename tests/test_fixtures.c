/* The compact fixture set against its index (tests/fixtures/INDEX): every file there is listed,
 * named in its README, and has the listed size and SHA-256; so has the file of the same path in
 * the full set where that is present, so each copy is its origin. The files it adds to the
 * repository (links into examples/ add none) stay within 12 MB. */
#include <ftw.h>
#include <limits.h>

#include "check.h"
#include "common/sha256.h"

typedef struct {
  char sha[65], path[512];
  long long size;
} entry;

static entry idx[256];
static int n_idx;
static char *readme;
static char compact_real[PATH_MAX];
static long long added_bytes;

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  static char buf[1 << 16];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  return buf;
}

static int read_index(void) {
  FILE *f = fopen(FIXTURES_COMPACT "/INDEX", "r");
  if (!f) return -1;
  char line[700];
  while (fgets(line, sizeof line, f) && n_idx < 256) {
    if (line[0] == '#') continue;
    entry *e = &idx[n_idx];
    CHECK(sscanf(line, "%64s %lld %511s", e->sha, &e->size, e->path) == 3, "INDEX line: %s", line);
    n_idx++;
  }
  fclose(f);
  return 0;
}

static int listed(const char *rel) {
  for (int i = 0; i < n_idx; i++)
    if (!strcmp(idx[i].path, rel)) return 1;
  return 0;
}

/* Every file of the compact set, links followed: listed, and counted if it lives here. */
static int visit(const char *path, const struct stat *sb, int type, struct FTW *ftw) {
  if (type != FTW_F) return 0;
  const char *rel = path + strlen(FIXTURES_COMPACT) + 1;
  if (!strcmp(path + ftw->base, "README.md") || !strcmp(rel, "INDEX")) return 0;
  CHECK(listed(rel), "%s/%s is not in the INDEX", FIXTURES_COMPACT, rel);
  char real[PATH_MAX];
  size_t nc = strlen(compact_real);
  if (realpath(path, real) && !strncmp(real, compact_real, nc) && real[nc] == '/') added_bytes += sb->st_size;
  return 0;
}

/* path has the entry's size and SHA-256 */
static void check_file(const char *path, const entry *e) {
  struct stat sb;
  long long size = stat(path, &sb) == 0 ? (long long)sb.st_size : -1;
  char hex[65];
  CHECK(size == e->size, "%s: %lld bytes, INDEX says %lld", path, size, e->size);
  CHECK(sha256_file(path, hex) == A2I2A_OK && !strcmp(hex, e->sha), "%s: SHA-256 differs from the INDEX's", path);
}

int main(void) {
  CHECK(read_index() == 0 && n_idx > 0, "cannot read %s/INDEX", FIXTURES_COMPACT);
  readme = slurp(FIXTURES_COMPACT "/README.md");
  CHECK(readme != NULL, "cannot read %s/README.md", FIXTURES_COMPACT);
  char path[1024];
  for (int i = 0; i < n_idx; i++) {
    snprintf(path, sizeof path, "%s/%s", FIXTURES_COMPACT, idx[i].path);
    check_file(path, &idx[i]);
    CHECK(readme && strstr(readme, idx[i].path), "the README does not say where %s comes from", idx[i].path);
  }
  CHECK(realpath(FIXTURES_COMPACT, compact_real) != NULL, "%s", FIXTURES_COMPACT);
  CHECK(nftw(FIXTURES_COMPACT, visit, 16, 0) == 0, "walking %s", FIXTURES_COMPACT);
  CHECK(added_bytes > 0 && added_bytes <= 12000000, "the compact set adds %lld bytes", added_bytes);
  printf("%d files, %lld bytes in %s (the rest are links into examples/)\n", n_idx, added_bytes, FIXTURES_COMPACT);

  /* the origins */
  if (fixtures_full()) {
    for (int i = 0; i < n_idx; i++) check_file(fixture(idx[i].path), &idx[i]);
    printf("each the same as in %s\n", fixtures_full_dir());
  } else {
    fixtures_left_out++;
  }
  return check_done();
}
