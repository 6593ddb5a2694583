/* PNG through libpng 1.6: any PNG → 8-bit RGB, and 8-bit grey/RGB out with text and eXIf.
 * libpng reports errors by longjmp; everything allocated after setjmp lives in a struct that
 * survives the jump, so one cleanup path frees it. */
#include "image/image.h"
#include "image/image_internal.h"
#include "common/err.h"
#include "common/outfile.h"

#include <errno.h>
#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The largest chunk other than image data that is read: libpng's documented default cap, far
 * above our text chunks. */
#define PNG_MAX_CHUNK 8000000

typedef struct {
  const char *path;
  char msg[256];
} png_errctx;

static void on_png_error(png_structp png, png_const_charp msg) {
  png_errctx *ctx = png_get_error_ptr(png);
  snprintf(ctx->msg, sizeof ctx->msg, "%s", msg);
  png_longjmp(png, 1);
}

static void on_png_warning(png_structp png, png_const_charp msg) {
  (void)png;
  (void)msg; /* warnings (bad CRC in an ancillary chunk, unknown sRGB profile...) are not fatal */
}

/* Latin-1 (tEXt, zTXt) → UTF-8. */
static char *latin1_to_utf8(const char *s, size_t n) {
  char *d = malloc(2 * n + 1), *o = d;
  if (!d) return NULL;
  for (size_t i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)s[i];
    if (ch < 0x80) {
      *o++ = (char)ch;
    } else {
      *o++ = (char)(0xC0 | (ch >> 6));
      *o++ = (char)(0x80 | (ch & 0x3F));
    }
  }
  *o = 0;
  return d;
}

static a2i2a_status collect_meta(png_structp png, png_infop info, png_meta *meta) {
  png_textp text = NULL;
  int ntext = 0;
  png_get_text(png, info, &text, &ntext);
  for (int i = 0; i < ntext; i++) {
    char *key = latin1_to_utf8(text[i].key, strlen(text[i].key));
    char *val;
    if (text[i].compression == PNG_ITXT_COMPRESSION_NONE || text[i].compression == PNG_ITXT_COMPRESSION_zTXt) {
      size_t n = text[i].itxt_length;
      val = malloc(n + 1);
      if (val) {
        memcpy(val, text[i].text ? text[i].text : "", n);
        val[n] = 0;
      }
    } else {
      val = latin1_to_utf8(text[i].text ? text[i].text : "", text[i].text_length);
    }
    a2i2a_status st = key && val ? png_meta_set(meta, key, val) : fail(A2I2A_ERR_NOMEM, "out of memory reading PNG text");
    free(key);
    free(val);
    if (st) return st;
  }
#ifdef PNG_eXIf_SUPPORTED
  png_bytep exif = NULL;
  png_uint_32 nexif = 0;
  if (png_get_eXIf_1(png, info, &nexif, &exif) && exif && nexif) return png_meta_set_exif(meta, exif, nexif);
#endif
  return A2I2A_OK;
}

typedef struct {
  png_structp png;
  png_infop info;
  png_bytep *rows;
  uint8_t *buf; /* RGB or RGBA as libpng delivers it */
} png_reader;

/* libpng's own stdio reader, on a source */
static void read_source(png_structp png, png_bytep buf, size_t n) {
  image_source *src = png_get_io_ptr(png);
  if (image_source_read(src, buf, n) != n) png_error(png, "Read Error");
  /* A chunk's length is believed before its bytes arrive: libpng 1.6.39 allocates a text chunk
   * whole, with no cap of its own (220 bytes declaring a 2 GB tEXt chunk had 2 GB allocated and
   * cleared). So a chunk must fit in what is left of the source, and one other than the image
   * data must be at most PNG_MAX_CHUNK. */
  if (n == 8 && png_get_io_state(png) == (PNG_IO_READING | PNG_IO_CHUNK_HDR)) {
    png_uint_32 len = png_get_uint_32(buf);
    if (src->size && (size_t)len + 4 > src->size - src->pos) png_error(png, "a chunk runs past the end of the data");
    if (len > PNG_MAX_CHUNK && memcmp(buf + 4, "IDAT", 4)) png_error(png, "a chunk larger than 8 MB");
  }
}

a2i2a_status png_read_source(image_source *src, image_u8 *img, png_meta *meta) {
  const char *path = src->name;
  png_errctx ctx = {.path = path};
  png_reader r = {0};
  png_reader *volatile rp = &r;
  a2i2a_status st = A2I2A_OK;
  r.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &ctx, on_png_error, on_png_warning);
  if (r.png) r.info = png_create_info_struct(r.png);
  if (!r.png || !r.info) {
    png_destroy_read_struct(&r.png, NULL, NULL);
    return fail(A2I2A_ERR_NOMEM, "%s: out of memory starting the PNG reader", path);
  }
  if (setjmp(png_jmpbuf(r.png))) {
    rp = &r;
    st = fail(A2I2A_ERR_FORMAT, "%s: corrupt or truncated PNG: %s", path, ctx.msg);
    goto done;
  }
  png_set_read_fn(r.png, src, read_source);
  /* our own size limit (image_check_size) decides, with its own status, not libpng's */
  png_set_user_limits(r.png, 0x7fffffffu, 0x7fffffffu);
  png_read_info(r.png, r.info);
  png_uint_32 w = png_get_image_width(r.png, r.info), h = png_get_image_height(r.png, r.info);
  st = image_check_size(path, w, h);
  if (st) goto done;
  png_set_expand(r.png);          /* palette → RGB, grey < 8 bit → 8 bit, tRNS → alpha */
  png_set_strip_16(r.png);        /* 16 → 8 bit: the high byte */
  png_set_gray_to_rgb(r.png);
  png_set_interlace_handling(r.png);
  png_read_update_info(r.png, r.info);
  int ch = png_get_channels(r.png, r.info);
  size_t rowbytes = png_get_rowbytes(r.png, r.info);
  if ((ch != 3 && ch != 4) || png_get_bit_depth(r.png, r.info) != 8 || rowbytes != (size_t)w * (size_t)ch) {
    st = fail(A2I2A_ERR_INTERNAL, "%s: unexpected PNG layout after conversion (%d channels)", path, ch);
    goto done;
  }
  r.buf = xmalloc(rowbytes * h, "PNG pixels");
  r.rows = xmalloc(sizeof *r.rows * h, "PNG rows");
  if (!r.buf || !r.rows) {
    st = A2I2A_ERR_NOMEM;
    goto done;
  }
  for (png_uint_32 y = 0; y < h; y++) r.rows[y] = r.buf + (size_t)y * rowbytes;
  png_read_image(r.png, r.rows);
  png_read_end(r.png, r.info); /* text and eXIf after IDAT land in the same info */
  if (meta) {
    st = collect_meta(r.png, r.info, meta);
    if (st) goto done;
  }
  if (ch == 3) {
    img->w = (int)w;
    img->h = (int)h;
    img->c = 3;
    img->px = r.buf;
    r.buf = NULL;
  } else {
    st = image_alloc(img, (int)w, (int)h, 3);
    if (st) goto done;
    size_t n = (size_t)w * h;
    for (size_t i = 0; i < n; i++) memcpy(img->px + 3 * i, r.buf + 4 * i, 3);
  }
done:
  png_destroy_read_struct(&rp->png, &rp->info, NULL);
  free(rp->rows);
  free(rp->buf);
  return st;
}

/* ------------------------------------------------------------------ writing */

static int is_keyword(const char *k) {
  size_t n = strlen(k);
  if (n < 1 || n > 79 || k[0] == ' ' || k[n - 1] == ' ') return 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)k[i];
    if (ch < 0x20 || ch > 0x7e) return 0; /* ASCII only: keys are Latin-1, ours stay ASCII */
    if (ch == ' ' && k[i + 1] == ' ') return 0;
  }
  return 1;
}

static int is_plain_ascii(const char *s) {
  for (; *s; s++) {
    unsigned char ch = (unsigned char)*s;
    if (ch >= 0x80 || (ch < 0x20 && ch != '\n')) return 0;
  }
  return 1;
}

/* Where the encoder's bytes go: an open file, or a buffer that grows. */
typedef struct {
  FILE *f;
  uint8_t *buf;
  size_t len, cap;
  int nomem;
} png_sink;

/* libpng's own stdio writer, or an append to the buffer */
static void write_sink(png_structp png, png_bytep data, size_t n) {
  png_sink *s = png_get_io_ptr(png);
  if (s->f) {
    if (fwrite(data, 1, n, s->f) != n) png_error(png, strerror(errno)); /* e.g. "No space left on device" */
    return;
  }
  if (n > s->cap - s->len) {
    size_t cap = s->cap ? s->cap : 65536;
    while (cap - s->len < n && cap < SIZE_MAX / 2) cap *= 2;
    uint8_t *b = cap - s->len >= n ? realloc(s->buf, cap) : NULL;
    if (!b) {
      s->nomem = 1;
      png_error(png, "out of memory");
    }
    s->buf = b;
    s->cap = cap;
  }
  memcpy(s->buf + s->len, data, n);
  s->len += n;
}

static void flush_sink(png_structp png) {
  png_sink *s = png_get_io_ptr(png);
  if (s->f) fflush(s->f);
}

static a2i2a_status png_check(const char *name, const image_u8 *img, const png_meta *meta) {
  if (!img || !img->px || img->w <= 0 || img->h <= 0 || (img->c != 1 && img->c != 3))
    return fail(A2I2A_ERR_PARAM, "%s: nothing valid to write (image %dx%d, %d channels)", name, img ? img->w : 0,
                img ? img->h : 0, img ? img->c : 0);
  if (meta)
    for (int i = 0; i < meta->ntext; i++)
      if (!is_keyword(meta->keys[i]))
        return fail(A2I2A_ERR_PARAM, "%s: PNG text key \"%.80s\" is not a valid keyword (1-79 printable ASCII)", name,
                    meta->keys[i]);
  return A2I2A_OK;
}

typedef struct {
  png_structp png;
  png_infop info;
  png_textp text;
} png_writer;

static void writer_free(png_writer *w) {
  png_destroy_write_struct(&w->png, &w->info);
  free(w->text);
}

/* The one encoder of png_write and png_write_memory (img and meta checked by png_check). */
static a2i2a_status png_encode(const char *name, const image_u8 *img, const png_meta *meta, png_sink *sink) {
  png_errctx ctx = {.path = name};
  png_writer wr = {0};
  png_writer *volatile wp = &wr;
  if (meta && meta->ntext) {
    wr.text = calloc((size_t)meta->ntext, sizeof *wr.text);
    if (!wr.text) return fail(A2I2A_ERR_NOMEM, "%s: out of memory", name);
    for (int i = 0; i < meta->ntext; i++) {
      png_text *t = &wr.text[i];
      t->key = meta->keys[i];
      t->text = meta->values[i];
      if (is_plain_ascii(meta->values[i])) {
        t->compression = PNG_TEXT_COMPRESSION_NONE;
        t->text_length = strlen(meta->values[i]);
      } else {
        t->compression = PNG_ITXT_COMPRESSION_NONE;
        t->itxt_length = strlen(meta->values[i]);
        t->lang = (png_charp) "";
        t->lang_key = (png_charp) "";
      }
    }
  }
  wr.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &ctx, on_png_error, on_png_warning);
  if (wr.png) wr.info = png_create_info_struct(wr.png);
  if (!wr.png || !wr.info) {
    writer_free(&wr);
    return fail(A2I2A_ERR_NOMEM, "%s: out of memory starting the PNG writer", name);
  }
  if (setjmp(png_jmpbuf(wr.png))) {
    writer_free(wp);
    return sink->nomem ? fail(A2I2A_ERR_NOMEM, "%s: out of memory for the PNG's bytes", name)
                       : fail(A2I2A_ERR_IO, "%s: cannot write PNG: %s", name, ctx.msg);
  }
  png_set_write_fn(wp->png, sink, write_sink, flush_sink);
  png_set_IHDR(wr.png, wr.info, (png_uint_32)img->w, (png_uint_32)img->h, 8,
               img->c == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (wr.text) png_set_text(wr.png, wr.info, wr.text, meta->ntext);
  png_write_info(wr.png, wr.info);
  /* eXIf by hand right after the header chunks: before the first IDAT, where Pillow puts it
   * and where readers that stop at the image data (Riffusion's) look for it */
  if (meta && meta->exif && meta->exif_len)
    png_write_chunk(wr.png, (png_const_bytep) "eXIf", meta->exif, meta->exif_len);
  size_t rowbytes = (size_t)img->w * (size_t)img->c;
  for (int y = 0; y < img->h; y++) png_write_row(wr.png, img->px + (size_t)y * rowbytes);
  png_write_end(wr.png, NULL);
  writer_free(&wr);
  return A2I2A_OK;
}

a2i2a_status png_name_check(const char *path) {
  const char *base = path ? strrchr(path, '/') ? strrchr(path, '/') + 1 : path : "", *dot = strrchr(base, '.');
  if (dot && dot != base && strcasecmp(dot, ".png"))
    return fail(A2I2A_ERR_PARAM, "%s: a2i2a writes PNG only (a PNG carries the picture's own parameters): name it .png",
                path);
  return A2I2A_OK;
}

a2i2a_status png_write(const char *path, const image_u8 *img, const png_meta *meta, int force) {
  a2i2a_status st = png_check(path, img, meta);
  outfile of;
  if (st || (st = outfile_open(&of, path, force))) return st;
  png_sink sink = {.f = of.f};
  st = png_encode(path, img, meta, &sink);
  if (st) {
    outfile_abort(&of);
    return st;
  }
  return outfile_commit(&of);
}

a2i2a_status png_write_memory(const image_u8 *img, const png_meta *meta, void **png, size_t *size) {
  const char *name = "PNG in memory";
  *png = NULL;
  *size = 0;
  png_sink sink = {0};
  a2i2a_status st = png_check(name, img, meta);
  if (!st) st = png_encode(name, img, meta, &sink);
  if (st) {
    free(sink.buf);
    return st;
  }
  uint8_t *fit = realloc(sink.buf, sink.len);
  *png = fit ? fit : sink.buf;
  *size = sink.len;
  return A2I2A_OK;
}
