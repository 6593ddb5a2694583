/* Pillow's Image.resize for 8-bit images (libImaging/Resample.c, Pillow 7 … 11), re-derived
 * from its documented behaviour (fixtures/seed/README.md §4):
 *  - separable; the horizontal pass runs first and its result is rounded, clamped and stored
 *    as 8 bits; the vertical pass reads that; an axis whose size is unchanged is copied;
 *  - per output pixel, filter taps over [center − support, center + support) with
 *    support = filter support · max(in/out, 1), taps outside the image dropped, weights
 *    normalised by their sum, then converted to 22-bit fixed point (round half away from 0);
 *  - acc = 2^21 + Σ src·k in 32-bit int, result clamp(acc >> 22, 0, 255).
 * The double arithmetic below is written in the same order as Pillow's so the fixed-point
 * weights come out identical. */
#include "image/image.h"
#include "common/err.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PRECISION_BITS (32 - 8 - 2)

typedef struct {
  double (*kernel)(double x);
  double support;
} resample_filter;

/* Keys cubic with a = -0.5 */
static double bicubic_kernel(double x) {
  const double a = -0.5;
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

static double sinc(double x) {
  if (x == 0.0) return 1.0;
  x = x * M_PI;
  return sin(x) / x;
}

/* Lanczos-3: sinc windowed by a 3× wider sinc */
static double lanczos_kernel(double x) {
  if (-3.0 <= x && x < 3.0) return sinc(x) * sinc(x / 3);
  return 0.0;
}

static const resample_filter BICUBIC = {bicubic_kernel, 2.0};
static const resample_filter LANCZOS = {lanczos_kernel, 3.0};

/* Fixed-point weights for resampling an axis of in_size to out_size: for output i, taps
 * bounds[2i] … bounds[2i] + bounds[2i+1] − 1 with weights k[i·ksize …]. Returns ksize, 0 on
 * allocation failure. */
static int axis_coeffs(int in_size, int out_size, const resample_filter *f, int **bounds_out, int **kk_out) {
  double scale = (double)in_size / out_size, filterscale = scale;
  if (filterscale < 1.0) filterscale = 1.0;
  double support = f->support * filterscale;
  int ksize = (int)ceil(support) * 2 + 1;
  double *w = malloc(sizeof *w * (size_t)ksize);
  int *bounds = malloc(sizeof *bounds * 2 * (size_t)out_size);
  int *kk = calloc((size_t)out_size * (size_t)ksize, sizeof *kk);
  if (!w || !bounds || !kk) {
    free(w);
    free(bounds);
    free(kk);
    return 0;
  }
  for (int i = 0; i < out_size; i++) {
    double center = (i + 0.5) * scale, sum = 0.0, ss = 1.0 / filterscale;
    int xmin = (int)(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = (int)(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    int count = xmax - xmin;
    for (int j = 0; j < count; j++) {
      w[j] = f->kernel((j + xmin - center + 0.5) * ss);
      sum += w[j];
    }
    int *k = kk + (size_t)i * ksize;
    for (int j = 0; j < count; j++) {
      double v = sum != 0.0 ? w[j] / sum : w[j];
      k[j] = v < 0 ? (int)(-0.5 + v * (1 << PRECISION_BITS)) : (int)(0.5 + v * (1 << PRECISION_BITS));
    }
    bounds[2 * i] = xmin;
    bounds[2 * i + 1] = count;
  }
  free(w);
  *bounds_out = bounds;
  *kk_out = kk;
  return ksize;
}

static inline uint8_t clip8(int acc) {
  if (acc >= (1 << PRECISION_BITS << 8)) return 255;
  if (acc <= 0) return 0;
  return (uint8_t)(acc >> PRECISION_BITS);
}

static void pass_horizontal(const image_u8 *in, image_u8 *out, int ksize, const int *bounds, const int *kk) {
  int c = in->c;
  for (int y = 0; y < out->h; y++) {
    const uint8_t *src = in->px + (size_t)y * in->w * c;
    uint8_t *dst = out->px + (size_t)y * out->w * c;
    for (int x = 0; x < out->w; x++) {
      int xmin = bounds[2 * x], n = bounds[2 * x + 1];
      const int *k = kk + (size_t)x * ksize;
      for (int ch = 0; ch < c; ch++) {
        int acc = 1 << (PRECISION_BITS - 1);
        for (int j = 0; j < n; j++) acc += src[(size_t)(xmin + j) * c + ch] * k[j];
        dst[(size_t)x * c + ch] = clip8(acc);
      }
    }
  }
}

/* Row by row: acc[] holds one output row, so the inner loop runs along memory and vectorises
 * (integer sums: the order does not change the result). */
static void pass_vertical(const image_u8 *in, image_u8 *out, int ksize, const int *bounds, const int *kk, int *acc) {
  size_t row = (size_t)in->w * in->c;
  for (int y = 0; y < out->h; y++) {
    int ymin = bounds[2 * y], n = bounds[2 * y + 1];
    const int *k = kk + (size_t)y * ksize;
    uint8_t *dst = out->px + (size_t)y * row;
    for (size_t i = 0; i < row; i++) acc[i] = 1 << (PRECISION_BITS - 1);
    for (int j = 0; j < n; j++) {
      const uint8_t *src = in->px + (size_t)(ymin + j) * row;
      int kj = k[j];
      for (size_t i = 0; i < row; i++) acc[i] += src[i] * kj;
    }
    for (size_t i = 0; i < row; i++) dst[i] = clip8(acc[i]);
  }
}

static a2i2a_status resample(const image_u8 *in, int w, int h, const resample_filter *f, image_u8 *out) {
  out->w = out->h = out->c = 0;
  out->px = NULL;
  if (!in || !in->px || in->w <= 0 || in->h <= 0 || (in->c != 1 && in->c != 3))
    return fail(A2I2A_ERR_PARAM, "resize: invalid input image (%dx%d, %d channels)", in ? in->w : 0, in ? in->h : 0,
                in ? in->c : 0);
  if (w <= 0 || h <= 0) return fail(A2I2A_ERR_PARAM, "resize: invalid output size %dx%d", w, h);
  a2i2a_status st;
  if (w == in->w && h == in->h) {
    st = image_alloc_wide(out, w, h, in->c);
    if (!st) memcpy(out->px, in->px, (size_t)w * h * in->c);
    return st;
  }
  image_u8 tmp = {0};
  const image_u8 *src = in;
  if (w != in->w) {
    int *bounds, *kk;
    int ksize = axis_coeffs(in->w, w, f, &bounds, &kk);
    if (!ksize) return fail(A2I2A_ERR_NOMEM, "resize: out of memory");
    st = image_alloc_wide(h == in->h ? out : &tmp, w, in->h, in->c);
    if (st) {
      free(bounds);
      free(kk);
      return st;
    }
    pass_horizontal(in, h == in->h ? out : &tmp, ksize, bounds, kk);
    free(bounds);
    free(kk);
    if (h == in->h) return A2I2A_OK;
    src = &tmp;
  }
  int *bounds, *kk;
  int ksize = axis_coeffs(src->h, h, f, &bounds, &kk);
  if (!ksize) {
    image_free(&tmp);
    return fail(A2I2A_ERR_NOMEM, "resize: out of memory");
  }
  int *acc = malloc(sizeof *acc * (size_t)w * in->c);
  st = acc ? image_alloc_wide(out, w, h, in->c) : fail(A2I2A_ERR_NOMEM, "resize: out of memory");
  if (!st) pass_vertical(src, out, ksize, bounds, kk, acc);
  free(acc);
  free(bounds);
  free(kk);
  image_free(&tmp);
  return st;
}

a2i2a_status image_resize_bicubic(const image_u8 *in, int w, int h, image_u8 *out) {
  return resample(in, w, h, &BICUBIC, out);
}

a2i2a_status image_resize_lanczos(const image_u8 *in, int w, int h, image_u8 *out) {
  return resample(in, w, h, &LANCZOS, out);
}

a2i2a_status image_resize(const image_u8 *in, int w, int h, const char *filter, image_u8 *out) {
  if (filter && !strcmp(filter, "bicubic")) return image_resize_bicubic(in, w, h, out);
  if (filter && !strcmp(filter, "lanczos")) return image_resize_lanczos(in, w, h, out);
  out->w = out->h = out->c = 0;
  out->px = NULL;
  return fail(A2I2A_ERR_PARAM, "unknown resize filter \"%s\" (bicubic, lanczos)", filter ? filter : "(null)");
}

double image_resize_memory(const image_u8 *in, int w, int h) {
  const double c = in->c, out = c * w * h, tmp = c * w * in->h;
  /* the taps of each axis (ints): about 2·support·max(in, out) + 3·out (axis_coeffs) */
  const double taps = 2 * LANCZOS.support * (fmax(in->w, w) + fmax(in->h, h)) + 3.0 * (w + h);
  return out + tmp + 4 * taps + 4.0 * w * c;
}
