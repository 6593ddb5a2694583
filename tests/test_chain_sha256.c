/* SHA-256 against the FIPS 180-4 examples and against the fixture manifest's own hashes. */
#include <cjson/cJSON.h>

#include "check.h"
#include "common/sha256.h"

static void hex_of(const void *p, size_t n, char hex[65]) {
  sha256_ctx c;
  uint8_t d[32];
  sha256_init(&c);
  sha256_update(&c, p, n);
  sha256_final(&c, d);
  sha256_hex(d, hex);
}

int main(void) {
  char hex[65];
  hex_of("", 0, hex);
  CHECK(!strcmp(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"), "empty: %s", hex);
  hex_of("abc", 3, hex);
  CHECK(!strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"), "abc: %s", hex);
  const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  hex_of(m448, strlen(m448), hex);
  CHECK(!strcmp(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"), "448 bits: %s", hex);
  /* one million 'a', fed in uneven pieces to exercise the buffering */
  static char a[1000000];
  memset(a, 'a', sizeof a);
  sha256_ctx c;
  uint8_t d[32];
  sha256_init(&c);
  for (size_t off = 0, step = 1; off < sizeof a; off += step, step = step * 3 % 997 + 1)
    sha256_update(&c, a + off, off + step > sizeof a ? sizeof a - off : step);
  sha256_final(&c, d);
  sha256_hex(d, hex);
  CHECK(!strcmp(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"), "million a: %s", hex);

  /* files: every hash the seed fixtures' manifest lists for a few of its files */
  FILE *f = fopen(fixture("seed/manifest.json"), "rb");
  CHECK(f != NULL, "cannot open the seed manifest");
  if (f) {
    static char js[1 << 22];
    size_t n = fread(js, 1, sizeof js - 1, f);
    fclose(f);
    js[n] = 0;
    cJSON *m = cJSON_Parse(js);
    cJSON *files = cJSON_GetObjectItem(m, "files");
    int checked = 0;
    for (cJSON *e = files ? files->child : NULL; e && checked < 6; e = e->next) {
      const char *path = cJSON_GetStringValue(cJSON_GetObjectItem(e, "path"));
      const char *want = cJSON_GetStringValue(cJSON_GetObjectItem(e, "sha256"));
      if (!path || !want) continue;
      char rel[4096];
      snprintf(rel, sizeof rel, "seed/%s", path);
      if (!fixture_here(rel)) continue; /* the compact set: the first six files it holds */
      CHECK(sha256_file(fixture(rel), hex) == A2I2A_OK, "%s: %s", rel, a2i2a_last_error());
      CHECK(!strcmp(hex, want), "%s: %s, manifest says %s", rel, hex, want);
      checked++;
    }
    CHECK(checked == 6, "only %d manifest files checked", checked);
    cJSON_Delete(m);
  }
  CHECK(sha256_file("/nonexistent/file", hex) == A2I2A_ERR_IO, "missing file must fail with ERR_IO");
  CHECK(strstr(a2i2a_last_error(), "/nonexistent/file") != NULL, "error names the file");
  return check_done();
}
