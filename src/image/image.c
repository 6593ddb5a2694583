/* Images in memory, PNG text/eXIf metadata, and the readers' dispatch on the file signature. */
#include "image/image.h"
#include "image/image_internal.h"
#include "common/err.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The one allocation of both: max_side 0 leaves the sides unlimited. */
static a2i2a_status alloc_limited(image_u8 *img, int w, int h, int c, int max_side) {
  img->w = img->h = img->c = 0;
  img->px = NULL;
  if (w <= 0 || h <= 0 || (c != 1 && c != 3))
    return fail(A2I2A_ERR_PARAM, "image of %dx%d with %d channels is not valid", w, h, c);
  size_t n = (size_t)w * (size_t)h;
  if ((max_side && (w > max_side || h > max_side)) || n > IMAGE_MAX_PIXELS)
    return fail(A2I2A_ERR_LIMIT, "image of %dx%d is beyond the limit (%d per side, %zu pixels)", w, h,
                IMAGE_MAX_SIDE, IMAGE_MAX_PIXELS);
  img->px = xmalloc(n * (size_t)c, "an image");
  if (!img->px) return A2I2A_ERR_NOMEM;
  img->w = w;
  img->h = h;
  img->c = c;
  return A2I2A_OK;
}

a2i2a_status image_alloc(image_u8 *img, int w, int h, int c) { return alloc_limited(img, w, h, c, IMAGE_MAX_SIDE); }

a2i2a_status image_alloc_wide(image_u8 *img, int w, int h, int c) { return alloc_limited(img, w, h, c, 0); }

void image_free(image_u8 *img) {
  if (!img) return;
  free(img->px);
  img->px = NULL;
  img->w = img->h = img->c = 0;
}

a2i2a_status image_convert(const image_u8 *src, int c, image_u8 *out) {
  a2i2a_status st = image_alloc(out, src->w, src->h, c);
  if (st) return st;
  size_t n = (size_t)src->w * (size_t)src->h;
  if (src->c == c) {
    memcpy(out->px, src->px, n * (size_t)c);
  } else if (c == 1) {
    for (size_t i = 0; i < n; i++) {
      const uint8_t *p = src->px + 3 * i;
      out->px[i] = (uint8_t)((p[0] * 19595u + p[1] * 38470u + p[2] * 7471u + 0x8000u) >> 16);
    }
  } else {
    for (size_t i = 0; i < n; i++) out->px[3 * i] = out->px[3 * i + 1] = out->px[3 * i + 2] = src->px[i];
  }
  return A2I2A_OK;
}

/* ------------------------------------------------------------------ metadata */

void png_meta_init(png_meta *m) { memset(m, 0, sizeof *m); }

void png_meta_free(png_meta *m) {
  if (!m) return;
  for (int i = 0; i < m->ntext; i++) {
    free(m->keys[i]);
    free(m->values[i]);
  }
  free(m->keys);
  free(m->values);
  free(m->exif);
  memset(m, 0, sizeof *m);
}

const char *png_meta_get(const png_meta *m, const char *key) {
  if (!m) return NULL;
  for (int i = 0; i < m->ntext; i++)
    if (strcmp(m->keys[i], key) == 0) return m->values[i];
  return NULL;
}

static char *dupstr(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = xmalloc(n, "PNG text");
  if (d) memcpy(d, s, n);
  return d;
}

a2i2a_status png_meta_set(png_meta *m, const char *key, const char *value) {
  if (!key || !*key || strlen(key) > 79) return fail(A2I2A_ERR_PARAM, "PNG text key \"%.80s\" must have 1 to 79 characters", key ? key : "");
  char *v = dupstr(value ? value : "");
  if (!v) return A2I2A_ERR_NOMEM;
  for (int i = 0; i < m->ntext; i++)
    if (strcmp(m->keys[i], key) == 0) {
      free(m->values[i]);
      m->values[i] = v;
      return A2I2A_OK;
    }
  char *k = dupstr(key);
  char **nk = k ? realloc(m->keys, (size_t)(m->ntext + 1) * sizeof *nk) : NULL;
  if (nk) m->keys = nk;
  char **nv = nk ? realloc(m->values, (size_t)(m->ntext + 1) * sizeof *nv) : NULL;
  if (nv) m->values = nv;
  if (!nv) {
    free(k);
    free(v);
    return fail(A2I2A_ERR_NOMEM, "out of memory storing PNG text");
  }
  m->keys[m->ntext] = k;
  m->values[m->ntext] = v;
  m->ntext++;
  return A2I2A_OK;
}

a2i2a_status png_meta_set_exif(png_meta *m, const uint8_t *tiff, size_t len) {
  free(m->exif);
  m->exif = NULL;
  m->exif_len = 0;
  if (!tiff || !len) return A2I2A_OK;
  m->exif = xmalloc(len, "EXIF data");
  if (!m->exif) return A2I2A_ERR_NOMEM;
  memcpy(m->exif, tiff, len);
  m->exif_len = len;
  return A2I2A_OK;
}

/* ------------------------------------------------------------------ reading */

/* What a file that is neither PNG nor JPEG seems to be, for the error message. */
static const char *looks_like(const uint8_t *b, size_t n) {
  if (n >= 4 && !memcmp(b, "GIF8", 4)) return "a GIF image";
  if (n >= 2 && !memcmp(b, "BM", 2)) return "a BMP image";
  if (n >= 12 && !memcmp(b, "RIFF", 4) && !memcmp(b + 8, "WEBP", 4)) return "a WebP image";
  if (n >= 12 && !memcmp(b, "RIFF", 4) && !memcmp(b + 8, "WAVE", 4)) return "a WAV audio file";
  if (n >= 4 && (!memcmp(b, "II*\0", 4) || !memcmp(b, "MM\0*", 4))) return "a TIFF image";
  if (n >= 4 && !memcmp(b, "fLaC", 4)) return "a FLAC audio file";
  if (n >= 4 && !memcmp(b, "OggS", 4)) return "an Ogg file";
  if (n >= 3 && !memcmp(b, "ID3", 3)) return "an MP3 audio file";
  if (n >= 2 && b[0] == 0xFF && (b[1] & 0xE0) == 0xE0) return "an MP3 audio file";
  if (n >= 4 && !memcmp(b, "FORM", 4)) return "an AIFF audio file";
  if (n >= 12 && !memcmp(b + 4, "ftyp", 4)) return "an MP4/HEIF/AVIF file";
  int text = 1;
  for (size_t i = 0; i < n; i++)
    if (b[i] < 0x09 || (b[i] > 0x0d && b[i] < 0x20) || b[i] == 0x7f) text = 0;
  if (text) return "a text file";
  return "an unknown format";
}

a2i2a_status image_check_size(const char *path, unsigned long w, unsigned long h) {
  if (w == 0 || h == 0) return fail(A2I2A_ERR_FORMAT, "%s: image has zero size (%lux%lu)", path, w, h);
  if (w > IMAGE_MAX_SIDE || h > IMAGE_MAX_SIDE || (size_t)w * (size_t)h > IMAGE_MAX_PIXELS)
    return fail(A2I2A_ERR_LIMIT, "%s: image of %lux%lu is beyond the limit (%d per side, %zu pixels)", path, w, h,
                IMAGE_MAX_SIDE, IMAGE_MAX_PIXELS);
  return A2I2A_OK;
}

size_t image_source_read(image_source *src, void *buf, size_t n) {
  if (src->f) {
    n = fread(buf, 1, n, src->f);
  } else {
    if (n > src->size - src->pos) n = src->size - src->pos;
    if (n) memcpy(buf, src->data + src->pos, n); /* data may be NULL when size is 0 */
  }
  src->pos += n;
  return n;
}

/* The dispatch on the signature, for files and buffers alike. */
static a2i2a_status image_decode(image_source *src, image_u8 *img, png_meta *meta) {
  uint8_t sig[16];
  size_t n = image_source_read(src, sig, sizeof sig);
  if (src->f && ferror(src->f)) return fail(A2I2A_ERR_IO, "%s: cannot read: %s", src->name, strerror(errno));
  if (src->f) rewind(src->f);
  src->pos = 0;
  a2i2a_status st;
  if (n == 0) {
    st = fail(A2I2A_ERR_FORMAT, "%s: empty file (0 bytes), not an image", src->name);
  } else if (n >= 8 && !memcmp(sig, "\x89PNG\r\n\x1a\n", 8)) {
    st = png_read_source(src, img, meta);
  } else if (n >= 3 && sig[0] == 0xFF && sig[1] == 0xD8 && sig[2] == 0xFF) {
    st = jpeg_read_source(src, img);
  } else if (n >= 4 && !memcmp(sig, "\x89PNG", 4)) {
    st = fail(A2I2A_ERR_FORMAT, "%s: damaged PNG signature (file transferred in text mode?)", src->name);
  } else {
    st = fail(A2I2A_ERR_FORMAT, "%s: not a PNG or JPEG image (looks like %s)", src->name, looks_like(sig, n));
  }
  if (st) {
    image_free(img);
    if (meta) png_meta_free(meta);
  }
  return st;
}

a2i2a_status image_read(const char *path, image_u8 *img, png_meta *meta) {
  img->w = img->h = img->c = 0;
  img->px = NULL;
  if (meta) png_meta_init(meta);
  struct stat sb;
  if (stat(path, &sb) != 0) return fail(A2I2A_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
  if (S_ISDIR(sb.st_mode)) return fail(A2I2A_ERR_IO, "%s: is a folder, not an image", path);
  image_source src = {.f = fopen(path, "rb"), .size = S_ISREG(sb.st_mode) ? (size_t)sb.st_size : 0, .name = path};
  if (!src.f) return fail(A2I2A_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
  a2i2a_status st = image_decode(&src, img, meta);
  fclose(src.f);
  return st;
}

a2i2a_status image_read_memory(const void *data, size_t size, const char *name, image_u8 *img, png_meta *meta) {
  img->w = img->h = img->c = 0;
  img->px = NULL;
  if (meta) png_meta_init(meta);
  if (!name) name = "image in memory";
  if (!data && size) return fail(A2I2A_ERR_PARAM, "%s: no data (NULL) for %zu bytes", name, size);
  image_source src = {.data = data, .size = size, .name = name};
  return image_decode(&src, img, meta);
}

a2i2a_status image_read_grey(const char *path, image_u8 *img, png_meta *meta) {
  image_u8 rgb;
  a2i2a_status st = image_read(path, &rgb, meta);
  if (st) return st;
  st = image_alloc(img, rgb.w, rgb.h, 1);
  if (st) {
    image_free(&rgb);
    if (meta) png_meta_free(meta);
    return st;
  }
  size_t n = (size_t)rgb.w * (size_t)rgb.h;
  for (size_t i = 0; i < n; i++) img->px[i] = rgb.px[3 * i];
  image_free(&rgb);
  return A2I2A_OK;
}
