/* JPEG through libjpeg(-turbo): grey or colour → 8-bit RGB. libjpeg's default error handler
 * calls exit(); ours records the message and longjmps back. */
#include "image/image.h"
#include "image/image_internal.h"
#include "common/err.h"

#include <jpeglib.h>
#include <jerror.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  struct jpeg_error_mgr mgr;
  jmp_buf jump;
  char msg[JMSG_LENGTH_MAX];
  int truncated; /* libjpeg pads a truncated file with grey and only warns: we refuse it */
} jpeg_errctx;

static void on_jpeg_error(j_common_ptr cinfo) {
  jpeg_errctx *ctx = (jpeg_errctx *)cinfo->err;
  cinfo->err->format_message(cinfo, ctx->msg);
  longjmp(ctx->jump, 1);
}

/* Warnings (extraneous bytes, ...) are not fatal, as in Pillow; premature end of file is. */
static void on_jpeg_emit(j_common_ptr cinfo, int level) {
  jpeg_errctx *ctx = (jpeg_errctx *)cinfo->err;
  if (level < 0) {
    if (cinfo->err->msg_code == JWRN_JPEG_EOF) ctx->truncated = 1;
    cinfo->err->num_warnings++;
  }
}

a2i2a_status jpeg_read_source(image_source *src, image_u8 *img) {
  const char *path = src->name;
  struct jpeg_decompress_struct cinfo;
  jpeg_errctx err;
  a2i2a_status st = A2I2A_OK;
  image_u8 *volatile out = img;
  memset(&cinfo, 0, sizeof cinfo);
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = on_jpeg_error;
  err.mgr.emit_message = on_jpeg_emit;
  err.msg[0] = 0;
  err.truncated = 0;
  if (setjmp(err.jump)) {
    st = fail(A2I2A_ERR_FORMAT, "%s: corrupt or truncated JPEG: %s", path, err.msg);
    jpeg_destroy_decompress(&cinfo);
    image_free(out);
    return st;
  }
  jpeg_create_decompress(&cinfo);
  if (src->f)
    jpeg_stdio_src(&cinfo, src->f);
  else
    jpeg_mem_src(&cinfo, src->data, (unsigned long)src->size);
  jpeg_read_header(&cinfo, TRUE);
  st = image_check_size(path, cinfo.image_width, cinfo.image_height);
  if (st) {
    jpeg_destroy_decompress(&cinfo);
    return st;
  }
  if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
    jpeg_destroy_decompress(&cinfo);
    return fail(A2I2A_ERR_UNSUPPORTED, "%s: CMYK JPEG images are not supported (convert it to RGB)", path);
  }
  cinfo.out_color_space = JCS_RGB;
  jpeg_start_decompress(&cinfo);
  if (cinfo.output_components != 3) {
    jpeg_destroy_decompress(&cinfo);
    return fail(A2I2A_ERR_UNSUPPORTED, "%s: JPEG with %d output components", path, cinfo.output_components);
  }
  st = image_alloc(out, (int)cinfo.output_width, (int)cinfo.output_height, 3);
  if (st) {
    jpeg_destroy_decompress(&cinfo);
    return st;
  }
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = out->px + (size_t)cinfo.output_scanline * (size_t)out->w * 3;
    jpeg_read_scanlines(&cinfo, &row, 1);
    if (err.truncated) {
      snprintf(err.msg, sizeof err.msg, "premature end of data");
      longjmp(err.jump, 1);
    }
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return A2I2A_OK;
}
