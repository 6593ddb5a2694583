/* Animated PNG (APNG, the extension of PNG that browsers play): libpng writes none, so each
 * frame is encoded by png_write_memory and its image data re-wrapped as an animation frame
 * (fcTL before it, fdAT chunks with sequence numbers after the first frame's IDAT), behind the
 * first frame's IHDR and an acTL. A viewer without APNG shows the first frame. */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "common/err.h"
#include "common/outfile.h"
#include "image/apng.h"

typedef struct {
  uint8_t *p;
  size_t len, cap;
} bytes;

static int put(bytes *b, const void *data, size_t n) {
  if (!n) return 0;
  if (b->len + n > b->cap) {
    size_t cap = (b->len + n) * 2;
    uint8_t *p = realloc(b->p, cap);
    if (!p) return -1;
    b->p = p, b->cap = cap;
  }
  memcpy(b->p + b->len, data, n);
  b->len += n;
  return 0;
}

static void be32(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v; }

static uint32_t get32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

/* A chunk: length, type, data (head, then data), CRC of type and data. */
static int chunk(bytes *b, const char *type, const uint8_t *head, size_t nhead, const uint8_t *data, size_t n) {
  uint8_t h[8], c[4];
  be32(h, (uint32_t)(nhead + n));
  memcpy(h + 4, type, 4);
  uLong crc = crc32(0, h + 4, 4); /* (crc32 with a NULL buffer would restart it) */
  if (nhead) crc = crc32(crc, head, (uInt)nhead);
  if (n) crc = crc32(crc, data, (uInt)n);
  be32(c, (uint32_t)crc);
  return put(b, h, 8) || put(b, head, nhead) || put(b, data, n) || put(b, c, 4);
}

a2i2a_status apng_write(const char *path, const image_u8 *frames, int n, int delay_ms, int force) {
  static const uint8_t signature[8] = {137, 80, 78, 71, 13, 10, 26, 10};
  bytes out = {0};
  uint32_t seq = 0;
  int oom = put(&out, signature, 8);
  a2i2a_status st = n > 0 ? A2I2A_OK : fail(A2I2A_ERR_PARAM, "%s: an animation needs frames", path);
  for (int k = 0; k < n && !st && !oom; k++) {
    void *png;
    size_t size;
    if (frames[k].w != frames[0].w || frames[k].h != frames[0].h || frames[k].c != frames[0].c)
      st = fail(A2I2A_ERR_PARAM, "%s: frame %d differs in size from the first", path, k + 1);
    if (st || (st = png_write_memory(&frames[k], NULL, &png, &size))) break;
    const uint8_t *p = png;
    int first_data = 1;
    for (size_t at = 8; at + 12 <= size && !oom;) {
      size_t len = get32(p + at);
      const char *type = (const char *)p + at + 4;
      const uint8_t *data = p + at + 8;
      if (at + 12 + len > size) break;
      if (k == 0 && !memcmp(type, "IHDR", 4)) {
        uint8_t actl[8];
        be32(actl, (uint32_t)n), be32(actl + 4, 0); /* frames, plays (0: for ever) */
        oom = chunk(&out, "IHDR", NULL, 0, data, len) || chunk(&out, "acTL", actl, 8, NULL, 0);
      } else if (!memcmp(type, "IDAT", 4)) {
        if (first_data) {
          uint8_t fctl[26] = {0};
          be32(fctl, seq++), be32(fctl + 4, (uint32_t)frames[k].w), be32(fctl + 8, (uint32_t)frames[k].h);
          fctl[20] = (uint8_t)(delay_ms >> 8), fctl[21] = (uint8_t)delay_ms; /* delay delay_ms / 1000 s */
          fctl[22] = 1000 >> 8, fctl[23] = 1000 & 255;                      /* dispose, blend: none, source */
          oom = chunk(&out, "fcTL", fctl, 26, NULL, 0);
          first_data = 0;
        }
        uint8_t s[4];
        be32(s, seq);
        if (k == 0) oom = oom || chunk(&out, "IDAT", NULL, 0, data, len);
        else seq++, oom = oom || chunk(&out, "fdAT", s, 4, data, len);
      }
      at += 12 + len;
    }
    free(png);
  }
  if (!st && !oom) oom = chunk(&out, "IEND", NULL, 0, NULL, 0);
  if (!st && oom) st = fail(A2I2A_ERR_NOMEM, "%s: out of memory", path);
  outfile of;
  if (!st && !(st = outfile_open(&of, path, force))) {
    if (fwrite(out.p, 1, out.len, of.f) != out.len) {
      outfile_abort(&of);
      st = fail(A2I2A_ERR_IO, "%s: cannot write", path);
    } else {
      st = outfile_commit(&of);
    }
  }
  free(out.p);
  return st;
}
