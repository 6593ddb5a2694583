/* The safetensors parser on crafted files, one per validation rule: each bad header gets
 * A2I2A_ERR_FORMAT/UNSUPPORTED with a message naming the file (and the tensor where there is
 * one), never a crash; good files parse, with names sorted and data where the offsets say. */
#include "check.h"
#include "common/err.h"
#include "sd/safetensors.h"

#include <stdint.h>

/* 8-byte length + header + data_len bytes of data (0, 1, 2, ...) */
static uint8_t *make(const char *header, size_t data_len, size_t *len) {
  size_t h = strlen(header);
  *len = 8 + h + data_len;
  uint8_t *b = malloc(*len);
  for (int i = 0; i < 8; i++) b[i] = (uint8_t)((uint64_t)h >> (8 * i));
  memcpy(b + 8, header, h);
  for (size_t i = 0; i < data_len; i++) b[8 + h + i] = (uint8_t)i;
  return b;
}

static void bad(const char *what, const char *header, size_t data_len, const char *must_name) {
  size_t len;
  uint8_t *b = make(header, data_len, &len);
  st_file f;
  a2i2a_status st = st_parse(b, len, "crafted.safetensors", &f);
  const char *e = a2i2a_last_error();
  CHECK(st != A2I2A_OK, "%s: accepted", what);
  CHECK(strstr(e, "crafted.safetensors") != NULL, "%s: error does not name the file: %s", what, e);
  if (must_name) CHECK(strstr(e, must_name) != NULL, "%s: error does not name %s: %s", what, must_name, e);
  CHECK(f.n == 0 && f.tensors == NULL, "%s: partial result left", what);
  free(b);
}

int main(void) {
  size_t len;
  st_file f;
  /* a good file: two tensors, metadata, header padded with spaces */
  uint8_t *b = make("{\"__metadata__\":{\"format\":\"pt\"},\"z.b\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[8,12]},"
                    "\"a.w\":{\"dtype\":\"F32\",\"shape\":[2,1],\"data_offsets\":[0,8]}}    ",
                    12, &len);
  CHECK(st_parse(b, len, "good", &f) == A2I2A_OK, "good file: %s", a2i2a_last_error());
  CHECK(f.n == 2 && !strcmp(f.tensors[0].name, "a.w") && !strcmp(f.tensors[1].name, "z.b"), "sorted names");
  const st_tensor *t = st_find(&f, "z.b");
  CHECK(t && t->numel == 2 && t->nbytes == 4 && ((const uint8_t *)t->data)[0] == 8, "offsets from the data start");
  CHECK(st_meta(&f, "format") && !strcmp(st_meta(&f, "format"), "pt"), "metadata");
  CHECK(st_find(&f, "nope") == NULL, "absent name");
  st_close(&f);
  free(b);
  /* an empty header {} is a valid file with no tensors; a zero-size tensor is fine */
  b = make("{\"e\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[0,0]}}", 0, &len);
  CHECK(st_parse(b, len, "empty", &f) == A2I2A_OK && f.n == 1 && f.tensors[0].numel == 0, "zero-size tensor");
  st_close(&f);
  free(b);

  /* each rule */
  st_file g;
  CHECK(st_parse((const uint8_t *)"abc", 3, "crafted.safetensors", &g) == A2I2A_ERR_FORMAT, "shorter than 8 bytes");
  uint8_t huge[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, '{', '}'};
  CHECK(st_parse(huge, sizeof huge, "crafted.safetensors", &g) == A2I2A_ERR_FORMAT &&
            strstr(a2i2a_last_error(), "crafted.safetensors"),
        "header length beyond the file");
  uint8_t big[16] = {0x00, 0x00, 0x00, 0x10, 0, 0, 0, 0, '{', '}'}; /* 256 MB > the 100 MB bound */
  CHECK(st_parse(big, sizeof big, "crafted.safetensors", &g) == A2I2A_ERR_FORMAT, "header length over the bound");
  bad("not JSON", "{\"a\": ", 0, NULL);
  bad("JSON but not an object", "[1,2,3]", 0, NULL);
  bad("entry not an object", "{\"t1\": 5}", 0, "t1");
  bad("no dtype", "{\"t2\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "t2");
  bad("unknown dtype", "{\"t3\":{\"dtype\":\"F8_E4M3\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, "t3");
  bad("negative dimension", "{\"t4\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4, "t4");
  bad("fractional dimension", "{\"t5\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4, "t5");
  bad("too many dimensions", "{\"t6\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,1]}}", 1,
      "t6");
  bad("shape overflow",
      "{\"t7\":{\"dtype\":\"F32\",\"shape\":[4000000000000000,4000000000000000],\"data_offsets\":[0,4]}}", 4, "t7");
  bad("one offset", "{\"t8\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4, "t8");
  bad("offsets reversed", "{\"t9\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", 8, "t9");
  bad("offset past the end", "{\"ta\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 6, "ta");
  bad("huge offset", "{\"tb\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[1e30,1e30]}}", 4, "tb");
  bad("string offset", "{\"tc\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[\"0\",4]}}", 4, "tc");
  bad("size differs from shape x dtype", "{\"td\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 8, "td");
  bad("overlap",
      "{\"te\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
      "\"tf\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
      8, "tf");
  bad("duplicate name",
      "{\"tg\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
      "\"tg\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
      8, "tg");
  bad("metadata not an object", "{\"__metadata__\":[1]}", 0, "__metadata__");
  /* st_open on a missing file and on a folder */
  CHECK(st_open("/nonexistent/x.safetensors", &g) == A2I2A_ERR_IO && strstr(a2i2a_last_error(), "x.safetensors"),
        "missing file");
  CHECK(st_open("/tmp", &g) == A2I2A_ERR_IO, "folder");
  return check_done();
}
