/* PNG through libpng 1.6: any PNG → 8-bit RGB, and 8-bit grey/RGB out with text and eXIf.
 * libpng reports errors by longjmp; everything allocated after setjmp lives in a struct that
 * survives the jump, so one cleanup path frees it. */
#include "image/image.h"
#include "image/image_internal.h"
#include "common/err.h"
#include "common/outfile.h"

#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

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

a2i2a_status png_read_file(FILE *f, const char *path, image_u8 *img, png_meta *meta) {
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
  png_init_io(r.png, f);
  /* our own size limit (image_check_size) decides, with its own status, not libpng's */
  png_set_user_limits(r.png, 0x7fffffffu, 0x7fffffffu);
  /* text chunks may be long JSON; libpng's default cap for a chunk is 8 MB, keep it */
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

typedef struct {
  png_structp png;
  png_infop info;
  png_textp text;
  outfile of;
} png_writer;

a2i2a_status png_write(const char *path, const image_u8 *img, const png_meta *meta, int force) {
  if (!img || !img->px || img->w <= 0 || img->h <= 0 || (img->c != 1 && img->c != 3))
    return fail(A2I2A_ERR_PARAM, "%s: nothing valid to write (image %dx%d, %d channels)", path, img ? img->w : 0,
                img ? img->h : 0, img ? img->c : 0);
  if (meta)
    for (int i = 0; i < meta->ntext; i++)
      if (!is_keyword(meta->keys[i]))
        return fail(A2I2A_ERR_PARAM, "%s: PNG text key \"%.80s\" is not a valid keyword (1-79 printable ASCII)", path,
                    meta->keys[i]);
  png_errctx ctx = {.path = path};
  png_writer wr = {0};
  png_writer *volatile wp = &wr;
  a2i2a_status st = outfile_open(&wr.of, path, force);
  if (st) return st;
  wr.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &ctx, on_png_error, on_png_warning);
  if (wr.png) wr.info = png_create_info_struct(wr.png);
  if (!wr.png || !wr.info) {
    st = fail(A2I2A_ERR_NOMEM, "%s: out of memory starting the PNG writer", path);
    goto done;
  }
  if (setjmp(png_jmpbuf(wr.png))) {
    st = fail(A2I2A_ERR_IO, "%s: cannot write PNG: %s", path, ctx.msg);
    goto done;
  }
  png_init_io(wp->png, wp->of.f);
  png_set_IHDR(wr.png, wr.info, (png_uint_32)img->w, (png_uint_32)img->h, 8,
               img->c == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (meta && meta->ntext) {
    wr.text = calloc((size_t)meta->ntext, sizeof *wr.text);
    if (!wr.text) {
      st = fail(A2I2A_ERR_NOMEM, "%s: out of memory", path);
      goto done;
    }
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
    png_set_text(wr.png, wr.info, wr.text, meta->ntext);
  }
  png_write_info(wr.png, wr.info);
  /* eXIf by hand right after the header chunks: before the first IDAT, where Pillow puts it
   * and where readers that stop at the image data (Riffusion's) look for it */
  if (meta && meta->exif && meta->exif_len)
    png_write_chunk(wr.png, (png_const_bytep) "eXIf", meta->exif, meta->exif_len);
  size_t rowbytes = (size_t)img->w * (size_t)img->c;
  for (int y = 0; y < img->h; y++) png_write_row(wr.png, img->px + (size_t)y * rowbytes);
  png_write_end(wr.png, NULL);
  png_destroy_write_struct(&wr.png, &wr.info);
  st = outfile_commit(&wr.of);
  free(wr.text);
  return st;
done:
  png_destroy_write_struct(&wp->png, &wp->info);
  free(wp->text);
  outfile_abort(&wp->of);
  return st;
}
