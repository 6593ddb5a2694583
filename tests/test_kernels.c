/* Every kernel of src/sd/kernels.c against a plain double-precision loop, on random shapes
 * with odd sizes, F32 and F16/BF16 weights, and the tiled paths (several im2col tiles,
 * several attention query/key tiles) forced by the sizes. */
#include "check.h"
#include "sd/kernels.h"
#include "common/err.h"

#include <malloc.h>
#include <math.h>
#include <stdint.h>

static uint64_t rs = 88172645463325252ull;
static float frand(void) { /* uniform [-1, 1) */
  rs ^= rs << 13;
  rs ^= rs >> 7;
  rs ^= rs << 17;
  return (float)((rs >> 40) / (double)(1ull << 24) * 2 - 1);
}
static float *rnd(size_t n, float scale) {
  float *p = malloc(n * sizeof(float));
  for (size_t i = 0; i < n; i++) p[i] = frand() * scale;
  return p;
}

/* A weight in the given dtype built from f (f is rounded to what the weight holds). */
typedef struct { weight w; void *mem; } wbuf;
static wbuf mkweight(float *f, size_t n, st_dtype t) {
  wbuf b;
  memset(&b, 0, sizeof b);
  b.w.dtype = t;
  b.w.numel = n;
  if (t == ST_F32) {
    b.mem = malloc(n * 4);
    memcpy(b.mem, f, n * 4);
  } else {
    uint16_t *h = malloc(n * 2);
    for (size_t i = 0; i < n; i++) {
      if (t == ST_F16) h[i] = f32_to_f16(f[i]);
      else {
        uint32_t u;
        memcpy(&u, &f[i], 4);
        h[i] = (uint16_t)(u >> 16);
      }
      f[i] = t == ST_F16 ? f16_to_f32(h[i]) : bf16_to_f32(h[i]);
    }
    b.mem = h;
  }
  b.w.data = b.mem;
  return b;
}

static double maxdiff(const float *a, const double *b, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; i++) {
    double d = fabs(a[i] - b[i]);
    if (!(d <= m)) m = isnan(d) ? INFINITY : d;
  }
  return m;
}

static void test_weights(void) {
  size_t n = 1037;
  st_dtype types[3] = {ST_F32, ST_F16, ST_BF16};
  for (int t = 0; t < 3; t++) {
    float *f = rnd(n, 3);
    wbuf w = mkweight(f, n, types[t]);
    float *got = malloc(n * 4);
    weight_to_f32(&w.w, got);
    int same = !memcmp(got, f, n * 4);
    CHECK(same, "weight_to_f32 %s", st_dtype_name(types[t]));
    free(got), free(f), free(w.mem);
  }
  /* big enough for the threaded path */
  size_t nb = 200003;
  float *f = rnd(nb, 100);
  wbuf w = mkweight(f, nb, ST_F16);
  float *got = malloc(nb * 4);
  weight_to_f32(&w.w, got);
  CHECK(!memcmp(got, f, nb * 4), "weight_to_f32 F16 threaded");
  free(got), free(f), free(w.mem);

  float data[6] = {1, 2, 3, 4, 5, 6};
  st_tensor t = {.name = "x", .dtype = ST_F32, .ndim = 2, .shape = {2, 3}, .numel = 6, .nbytes = 24, .data = data};
  weight wv;
  CHECK(weight_from_tensor(&wv, &t, 6) == A2I2A_OK && wv.numel == 6 && wv.shape[1] == 3, "weight_from_tensor");
  CHECK(weight_from_tensor(&wv, &t, 0) == A2I2A_OK, "weight_from_tensor any size");
  CHECK(weight_from_tensor(&wv, &t, 5) == A2I2A_ERR_MODEL && strstr(a2i2a_last_error(), "x"),
        "weight_from_tensor wrong size names the tensor: %s", a2i2a_last_error());
  t.dtype = ST_I64;
  t.nbytes = 48;
  CHECK(weight_from_tensor(&wv, &t, 0) == A2I2A_ERR_MODEL, "weight_from_tensor refuses I64");
}

static void test_linear(int n, int in, int out, st_dtype t, int with_bias) {
  float *x = rnd((size_t)n * in, 1), *W = rnd((size_t)out * in, 1), *b = rnd(out, 1);
  wbuf w = mkweight(W, (size_t)out * in, t), wb = mkweight(b, out, t);
  float *y = malloc((size_t)n * out * 4);
  double *ref = malloc((size_t)n * out * 8);
  linear(y, x, n, in, out, &w.w, with_bias ? &wb.w : NULL);
  for (int i = 0; i < n; i++)
    for (int o = 0; o < out; o++) {
      double s = with_bias ? b[o] : 0;
      for (int j = 0; j < in; j++) s += (double)x[i * in + j] * W[o * in + j];
      ref[i * out + o] = s;
    }
  double d = maxdiff(y, ref, (size_t)n * out);
  CHECK(d < 1e-4, "linear %dx%d->%d %s bias %d: %g", n, in, out, st_dtype_name(t), with_bias, d);
  free(x), free(W), free(b), free(w.mem), free(wb.mem), free(y), free(ref);
}

/* mode 0: conv2d; 1: conv2d_add onto a random y; 2: conv2d_up2 (x upsampled x2 first) */
static void test_conv_mode(int C, int H0, int W0, int OC, int k, int s, int pt, int pl, int pb, int pr, st_dtype t,
                           int with_bias, int mode) {
  int up = mode == 2 ? 2 : 1, H = H0 * up, W = W0 * up;
  int OH = (H + pt + pb - k) / s + 1, OW = (W + pl + pr - k) / s + 1;
  size_t nw = (size_t)OC * C * k * k;
  float *x0 = rnd((size_t)C * H0 * W0, 1), *wf = rnd(nw, 0.5f), *b = rnd(OC, 1);
  float *x = malloc((size_t)C * H * W * 4);
  for (int c = 0; c < C; c++)
    for (int iy = 0; iy < H; iy++)
      for (int ix = 0; ix < W; ix++) x[((size_t)c * H + iy) * W + ix] = x0[((size_t)c * H0 + iy / up) * W0 + ix / up];
  wbuf w = mkweight(wf, nw, t), wb = mkweight(b, OC, t);
  float *y = rnd((size_t)OC * OH * OW, 1), *y0 = malloc((size_t)OC * OH * OW * 4);
  memcpy(y0, y, (size_t)OC * OH * OW * 4);
  double *ref = malloc((size_t)OC * OH * OW * 8);
  if (mode == 0) conv2d(y, x0, C, H, W, &w.w, with_bias ? &wb.w : NULL, OC, k, s, pt, pl, pb, pr);
  else if (mode == 1) conv2d_add(y, x0, C, H, W, &w.w, with_bias ? &wb.w : NULL, OC, k, s, pt, pl, pb, pr);
  else conv2d_up2(y, x0, C, H0, W0, &w.w, with_bias ? &wb.w : NULL, OC, k, pt);
  for (int o = 0; o < OC; o++)
    for (int oy = 0; oy < OH; oy++)
      for (int ox = 0; ox < OW; ox++) {
        double sum = (with_bias ? b[o] : 0) + (mode == 1 ? y0[((size_t)o * OH + oy) * OW + ox] : 0);
        for (int c = 0; c < C; c++)
          for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++) {
              int iy = oy * s + ky - pt, ix = ox * s + kx - pl;
              if (iy >= 0 && iy < H && ix >= 0 && ix < W)
                sum += (double)x[((size_t)c * H + iy) * W + ix] * wf[(((size_t)o * C + c) * k + ky) * k + kx];
            }
        ref[((size_t)o * OH + oy) * OW + ox] = sum;
      }
  double d = maxdiff(y, ref, (size_t)OC * OH * OW);
  CHECK(d < 2e-4, "conv2d mode %d C%d %dx%d OC%d k%d s%d pad %d,%d,%d,%d %s: %g", mode, C, H, W, OC, k, s, pt, pl,
        pb, pr, st_dtype_name(t), d);
  free(x), free(x0), free(wf), free(b), free(w.mem), free(wb.mem), free(y), free(y0), free(ref);
}

static void test_conv(int C, int H, int W, int OC, int k, int s, int pt, int pl, int pb, int pr, st_dtype t,
                      int with_bias) {
  test_conv_mode(C, H, W, OC, k, s, pt, pl, pb, pr, t, with_bias, 0);
}

/* conv1d (dilated, padded; accumulate onto a random y) against a double-precision loop. */
static void test_conv1d(int C, int T, int OC, int k, int d, int pad, int accumulate, st_dtype t, int with_bias) {
  int OT = T + 2 * pad - d * (k - 1);
  size_t nw = (size_t)OC * C * k;
  float *x = rnd((size_t)C * T, 1), *wf = rnd(nw, 0.5f), *b = rnd(OC, 1), *y = rnd((size_t)OC * OT, 1);
  wbuf w = mkweight(wf, nw, t), wb = mkweight(b, OC, t);
  double *ref = malloc((size_t)OC * OT * 8);
  for (int o = 0; o < OC; o++)
    for (int i = 0; i < OT; i++) {
      double sum = (with_bias ? b[o] : 0) + (accumulate ? y[(size_t)o * OT + i] : 0);
      for (int c = 0; c < C; c++)
        for (int j = 0; j < k; j++) {
          int at = i + j * d - pad;
          if (at >= 0 && at < T) sum += (double)x[(size_t)c * T + at] * wf[((size_t)o * C + c) * k + j];
        }
      ref[(size_t)o * OT + i] = sum;
    }
  conv1d(y, x, C, T, &w.w, with_bias ? &wb.w : NULL, OC, k, d, pad, accumulate);
  double e = maxdiff(y, ref, (size_t)OC * OT);
  CHECK(e < 2e-4, "conv1d C%d T%d OC%d k%d d%d pad %d acc %d %s: %g", C, T, OC, k, d, pad, accumulate,
        st_dtype_name(t), e);
  free(x), free(wf), free(b), free(y), free(w.mem), free(wb.mem), free(ref);
}

/* conv_transpose1d (weights [C][OC][k]) against the definition: y[o][i·s + j − pad] += w·x. */
static void test_conv_transpose1d(int C, int T, int OC, int k, int s, int pad, st_dtype t, int with_bias) {
  int OT = (T - 1) * s - 2 * pad + k;
  size_t nw = (size_t)C * OC * k;
  float *x = rnd((size_t)C * T, 1), *wf = rnd(nw, 0.5f), *b = rnd(OC, 1), *y = rnd((size_t)OC * OT, 1);
  wbuf w = mkweight(wf, nw, t), wb = mkweight(b, OC, t);
  double *ref = calloc((size_t)OC * OT, 8);
  for (int o = 0; o < OC; o++)
    for (int i = 0; i < OT; i++) ref[(size_t)o * OT + i] = with_bias ? b[o] : 0;
  for (int c = 0; c < C; c++)
    for (int i = 0; i < T; i++)
      for (int o = 0; o < OC; o++)
        for (int j = 0; j < k; j++) {
          int at = i * s + j - pad;
          if (at >= 0 && at < OT) ref[(size_t)o * OT + at] += (double)x[(size_t)c * T + i] * wf[((size_t)c * OC + o) * k + j];
        }
  conv_transpose1d(y, x, C, T, &w.w, with_bias ? &wb.w : NULL, OC, k, s, pad);
  double e = maxdiff(y, ref, (size_t)OC * OT);
  CHECK(e < 2e-4, "conv_transpose1d C%d T%d OC%d k%d s%d pad %d %s: %g", C, T, OC, k, s, pad, st_dtype_name(t), e);
  free(x), free(wf), free(b), free(y), free(w.mem), free(wb.mem), free(ref);
}

/* depthwise_conv1d_rows on time-major rows, and leaky_relu in place and out of place. */
static void test_depthwise_rows(int T, int C, int k, int pad, st_dtype t) {
  int OT = T + 2 * pad - k + 1;
  float *x = rnd((size_t)T * C, 1), *wf = rnd((size_t)C * k, 0.5f), *b = rnd(C, 1), *y = malloc((size_t)OT * C * 4);
  wbuf w = mkweight(wf, (size_t)C * k, t), wb = mkweight(b, C, t);
  double *ref = malloc((size_t)OT * C * 8);
  for (int i = 0; i < OT; i++)
    for (int c = 0; c < C; c++) {
      double sum = b[c];
      for (int j = 0; j < k; j++) {
        int at = i + j - pad;
        if (at >= 0 && at < T) sum += (double)x[(size_t)at * C + c] * wf[(size_t)c * k + j];
      }
      ref[(size_t)i * C + c] = sum;
    }
  depthwise_conv1d_rows(y, x, T, C, &w.w, &wb.w, k, pad);
  double e = maxdiff(y, ref, (size_t)OT * C);
  CHECK(e < 1e-5, "depthwise_conv1d_rows T%d C%d k%d pad %d %s: %g", T, C, k, pad, st_dtype_name(t), e);
  float v[4] = {-2, -0.5f, 0, 3}, out[4];
  leaky_relu(out, v, 4, 0.1f);
  leaky_relu(v, v, 4, 0.01f);
  CHECK(out[0] == -0.2f && out[1] == -0.05f && out[2] == 0 && out[3] == 3 && v[0] == -0.02f && v[3] == 3,
        "leaky_relu: %g %g %g %g / %g %g", out[0], out[1], out[2], out[3], v[0], v[3]);
  free(x), free(wf), free(b), free(y), free(w.mem), free(wb.mem), free(ref);
}

/* conv2d_batch and conv2d with zero or circular padding (kernels_set_wrap; wrap 0: none): nb
 * images [C][nb][H0][W0], upsampled xup, against a double-precision loop on each image alone
 * that reads the input modulo its size on the wrapped axes (where that axis's padding is
 * symmetric) and zeros elsewhere. Symmetric pads go through conv2d_batch,
 * asymmetric ones (nb 1, up 1) through conv2d. */
static void test_conv_wrap(int wrap, int nb, int C, int H0, int W0, int OC, int k, int s, int pt, int pl, int pb,
                           int pr, int up, int accumulate, st_dtype t) {
  int H = H0 * up, W = W0 * up;
  int OH = (H + pt + pb - k) / s + 1, OW = (W + pl + pr - k) / s + 1;
  int wx = (wrap & KERNELS_WRAP_X) && pl == pr, wy = (wrap & KERNELS_WRAP_Y) && pt == pb;
  size_t hw0 = (size_t)H0 * W0, ohw = (size_t)OH * OW, nw = (size_t)OC * C * k * k;
  float *x = rnd((size_t)C * nb * hw0, 1), *wf = rnd(nw, 0.5f), *b = rnd(OC, 1);
  wbuf w = mkweight(wf, nw, t), wb = mkweight(b, OC, t);
  float *y = rnd((size_t)OC * nb * ohw, 1), *y0 = malloc((size_t)OC * nb * ohw * 4);
  memcpy(y0, y, (size_t)OC * nb * ohw * 4);
  double *ref = malloc((size_t)OC * nb * ohw * 8);
  kernels_set_wrap(wrap);
  if (pt == pb && pl == pr && pt == pl) conv2d_batch(y, x, nb, C, H0, W0, &w.w, &wb.w, OC, k, s, pt, up, accumulate);
  else if (accumulate) conv2d_add(y, x, C, H0, W0, &w.w, &wb.w, OC, k, s, pt, pl, pb, pr);
  else conv2d(y, x, C, H0, W0, &w.w, &wb.w, OC, k, s, pt, pl, pb, pr);
  kernels_set_wrap(0);
  for (int o = 0; o < OC; o++)
    for (int bi = 0; bi < nb; bi++)
      for (int oy = 0; oy < OH; oy++)
        for (int ox = 0; ox < OW; ox++) {
          size_t at = ((size_t)o * nb + bi) * ohw + (size_t)oy * OW + ox;
          double sum = b[o] + (accumulate ? y0[at] : 0);
          for (int c = 0; c < C; c++)
            for (int ky = 0; ky < k; ky++)
              for (int kx = 0; kx < k; kx++) {
                int iy = oy * s + ky - pt, ix = ox * s + kx - pl;
                if (wy) iy = (iy + H) % H;
                if (wx) ix = (ix + W) % W;
                if (iy >= 0 && iy < H && ix >= 0 && ix < W)
                  sum += (double)x[((size_t)c * nb + bi) * hw0 + (size_t)(iy / up) * W0 + ix / up] *
                         wf[(((size_t)o * C + c) * k + ky) * k + kx];
              }
          ref[at] = sum;
        }
  double d = maxdiff(y, ref, (size_t)OC * nb * ohw);
  CHECK(d < 2e-4, "wrap %d conv nb %d C%d %dx%d OC%d k%d s%d pad %d,%d,%d,%d up %d acc %d %s: %g", wrap, nb, C, H0,
        W0, OC, k, s, pt, pl, pb, pr, up, accumulate, st_dtype_name(t), d);
  free(x), free(wf), free(b), free(w.mem), free(wb.mem), free(y), free(y0), free(ref);
}

/* conv2d_batch with zero padding; accumulate adds onto a random y. */
static void test_conv_batch(int nb, int C, int H0, int W0, int OC, int k, int s, int pad, int up, int accumulate,
                            st_dtype t) {
  test_conv_wrap(0, nb, C, H0, W0, OC, k, s, pad, pad, pad, pad, up, accumulate, t);
}

/* A wrapped convolution commutes with rolling its input along the wrapped axis: rolling x by
 * one column rolls y by one column, bit for bit (the same products in the same order). */
static void test_wrap_roll(void) {
  int C = 16, H = 12, W = 20, OC = 16;
  size_t nw = (size_t)OC * C * 9;
  float *x = rnd((size_t)C * H * W, 1), *xr = malloc((size_t)C * H * W * 4), *wf = rnd(nw, 0.5f);
  float *y = malloc((size_t)OC * H * W * 4), *yr = malloc((size_t)OC * H * W * 4);
  for (int c = 0; c < C; c++)
    for (int r = 0; r < H; r++)
      for (int q = 0; q < W; q++) xr[((size_t)c * H + r) * W + (q + 1) % W] = x[((size_t)c * H + r) * W + q];
  wbuf w = mkweight(wf, nw, ST_F32);
  kernels_set_wrap(KERNELS_WRAP_X);
  CHECK(kernels_wrap() == KERNELS_WRAP_X, "kernels_wrap reads back");
  conv2d(y, x, C, H, W, &w.w, NULL, OC, 3, 1, 1, 1, 1, 1);
  conv2d(yr, xr, C, H, W, &w.w, NULL, OC, 3, 1, 1, 1, 1, 1);
  kernels_set_wrap(0);
  int same = 1;
  for (int o = 0; o < OC; o++)
    for (int r = 0; r < H; r++)
      for (int q = 0; q < W; q++)
        same &= yr[((size_t)o * H + r) * W + (q + 1) % W] == y[((size_t)o * H + r) * W + q];
  CHECK(same, "a conv wrapped along x commutes with rolling its input by one column");
  free(x), free(xr), free(wf), free(w.mem), free(y), free(yr);
}

/* group_norm_batch: each image of [C][nb][HW] normalised with its own statistics */
static void test_group_norm_batch(int nb, int C, int HW, int G, int with_silu) {
  float *x = rnd((size_t)C * nb * HW, 3), *g = rnd(C, 1), *b = rnd(C, 1), *y = malloc((size_t)C * nb * HW * 4);
  for (int bi = 0; bi < nb; bi++) /* a different offset per image: shared statistics would fail */
    for (int c = 0; c < C; c++)
      for (int i = 0; i < HW; i++) x[((size_t)c * nb + bi) * HW + i] += 4.0f * bi;
  wbuf wg = mkweight(g, C, ST_F16), wb = mkweight(b, C, ST_F32);
  double *ref = malloc((size_t)C * nb * HW * 8);
  int cpg = C / G;
  for (int bi = 0; bi < nb; bi++)
    for (int grp = 0; grp < G; grp++) {
      double m = 0, v = 0, n = (double)cpg * HW;
      for (int c = grp * cpg; c < (grp + 1) * cpg; c++)
        for (int i = 0; i < HW; i++) m += x[((size_t)c * nb + bi) * HW + i];
      m /= n;
      for (int c = grp * cpg; c < (grp + 1) * cpg; c++)
        for (int i = 0; i < HW; i++) v += pow(x[((size_t)c * nb + bi) * HW + i] - m, 2);
      v /= n;
      for (int c = grp * cpg; c < (grp + 1) * cpg; c++)
        for (int i = 0; i < HW; i++) {
          size_t at = ((size_t)c * nb + bi) * HW + i;
          double r = (x[at] - m) / sqrt(v + 1e-5) * g[c] + b[c];
          ref[at] = with_silu ? r / (1 + exp(-r)) : r;
        }
    }
  group_norm_batch(y, x, C, nb, HW, G, &wg.w, &wb.w, 1e-5f, with_silu);
  double d = maxdiff(y, ref, (size_t)C * nb * HW);
  CHECK(d < 1e-5, "group_norm_batch nb %d C %d HW %d groups %d silu %d: %g", nb, C, HW, G, with_silu, d);
  free(x), free(g), free(b), free(y), free(wg.mem), free(wb.mem), free(ref);
}

static void test_norms(void) {
  int C = 12, HW = 35;
  int gs[3] = {4, 12, 1};
  for (int gi = 0; gi < 3; gi++) {
    int G = gs[gi];
    float *x = rnd((size_t)C * HW, 3), *g = rnd(C, 1), *b = rnd(C, 1);
    for (int i = 0; i < C * HW; i++) x[i] += 5; /* an offset tests the variance's cancellation */
    wbuf wg = mkweight(g, C, ST_F16), wb = mkweight(b, C, ST_F32);
    double *ref = malloc((size_t)C * HW * 8);
    int cpg = C / G;
    for (int grp = 0; grp < G; grp++) {
      double m = 0, v = 0;
      int n = cpg * HW;
      for (int i = 0; i < n; i++) m += x[grp * n + i];
      m /= n;
      for (int i = 0; i < n; i++) v += (x[grp * n + i] - m) * (x[grp * n + i] - m);
      v /= n;
      for (int i = 0; i < n; i++) {
        int c = (grp * n + i) / HW;
        ref[grp * n + i] = (x[grp * n + i] - m) / sqrt(v + 1e-6) * g[c] + b[c];
      }
    }
    float *xs = malloc((size_t)C * HW * 4);
    memcpy(xs, x, (size_t)C * HW * 4);
    group_norm(x, x, C, HW, G, &wg.w, &wb.w, 1e-6f); /* in place */
    double d = maxdiff(x, ref, (size_t)C * HW);
    CHECK(d < 1e-5, "group_norm groups %d: %g", G, d);
    group_norm_silu(xs, xs, C, HW, G, &wg.w, &wb.w, 1e-6f);
    for (int i = 0; i < C * HW; i++) ref[i] = ref[i] / (1 + exp(-ref[i]));
    d = maxdiff(xs, ref, (size_t)C * HW);
    CHECK(d < 1e-5, "group_norm_silu groups %d: %g", G, d);
    free(xs);
    free(x), free(g), free(b), free(wg.mem), free(wb.mem), free(ref);
  }
  int n = 9, dim = 37;
  float *x = rnd((size_t)n * dim, 2), *g = rnd(dim, 1), *b = rnd(dim, 1), *y = malloc((size_t)n * dim * 4);
  wbuf wg = mkweight(g, dim, ST_BF16), wb = mkweight(b, dim, ST_F32);
  double *ref = malloc((size_t)n * dim * 8);
  for (int r = 0; r < n; r++) {
    double m = 0, v = 0;
    for (int i = 0; i < dim; i++) m += x[r * dim + i];
    m /= dim;
    for (int i = 0; i < dim; i++) v += (x[r * dim + i] - m) * (x[r * dim + i] - m);
    v /= dim;
    for (int i = 0; i < dim; i++) ref[r * dim + i] = (x[r * dim + i] - m) / sqrt(v + 1e-5) * g[i] + b[i];
  }
  layer_norm(y, x, n, dim, &wg.w, &wb.w, 1e-5f);
  CHECK(maxdiff(y, ref, (size_t)n * dim) < 1e-5, "layer_norm");
  free(x), free(g), free(b), free(y), free(wg.mem), free(wb.mem), free(ref);
}

static void test_activations(void) {
  size_t n = 300007; /* odd, and above the threaded threshold */
  float *x = rnd(n, 12);
  x[0] = -100, x[1] = 100, x[2] = 0, x[3] = -89, x[4] = 89, x[5] = -1e-3f;
  double *ref = malloc(n * 8);
  float *y = malloc(n * 4);
  /* silu */
  memcpy(y, x, n * 4);
  silu(y, n);
  for (size_t i = 0; i < n; i++) ref[i] = x[i] / (1 + exp(-(double)x[i]));
  double d = maxdiff(y, ref, n);
  CHECK(d < 2e-6 * 12, "silu %g", d);
  memcpy(y, x, n * 4);
  gelu(y, n);
  for (size_t i = 0; i < n; i++) ref[i] = 0.5 * x[i] * (1 + erf(x[i] / sqrt(2.0)));
  d = maxdiff(y, ref, n);
  CHECK(d < 2e-6 * 12, "gelu %g", d);
  memcpy(y, x, n * 4);
  quick_gelu(y, n);
  for (size_t i = 0; i < n; i++) ref[i] = x[i] / (1 + exp(-1.702 * x[i]));
  d = maxdiff(y, ref, n);
  CHECK(d < 2e-6 * 12, "quick_gelu %g", d);
  /* geglu on [rows][2*dim] */
  int rows = 7, dim = 13;
  float *g = malloc((size_t)rows * dim * 4);
  geglu(g, x, rows, dim);
  for (int r = 0; r < rows; r++)
    for (int i = 0; i < dim; i++) {
      double a = x[r * 2 * dim + i], gt = x[r * 2 * dim + dim + i];
      ref[r * dim + i] = a * 0.5 * gt * (1 + erf(gt / sqrt(2.0)));
    }
  d = maxdiff(g, ref, (size_t)rows * dim);
  CHECK(d < 1e-5 * 144, "geglu %g", d);
  /* add */
  float *z = rnd(n, 1);
  memcpy(y, x, n * 4);
  add(y, z, n);
  for (size_t i = 0; i < n; i++) ref[i] = (double)x[i] + z[i];
  CHECK(maxdiff(y, ref, n) < 1e-5, "add");
  /* softmax */
  int sr = 5, sc = 301;
  memcpy(y, x, (size_t)sr * sc * 4);
  softmax_rows(y, sr, sc);
  for (int r = 0; r < sr; r++) {
    double m = -INFINITY, s = 0;
    for (int i = 0; i < sc; i++) m = fmax(m, x[r * sc + i]);
    for (int i = 0; i < sc; i++) s += exp(x[r * sc + i] - m);
    for (int i = 0; i < sc; i++) ref[r * sc + i] = exp(x[r * sc + i] - m) / s;
  }
  CHECK(maxdiff(y, ref, (size_t)sr * sc) < 1e-6, "softmax_rows");
  free(x), free(ref), free(y), free(g), free(z);
}

enum { ATT_SGEMM, ATT_AVX2, ATT_AVX512 };
static const char *const att_names[] = {"sgemm", "blocked AVX2", "blocked AVX-512"};

/* attention against a double-precision loop, through one kernel (the sgemm one, the blocked one
 * with AVX2 only, or with AVX-512 where the CPU has it): |out − ref| < 1e-5 · max |v| (outputs are
 * convex combinations of value rows), and the same bits on 1 and 2 threads. q_amp sets the scores' spread
 * (q_amp² · √head_dim): large ones test the online softmax's rescaling across key tiles. */
static float *test_attention_with(int nq, int nk, int heads, int hd, int causal, int extra_stride, float q_amp,
                                  int kernel) {
  int qs = heads * hd + extra_stride, ks = heads * hd + 2 * extra_stride, os = heads * hd;
  float *q = rnd((size_t)nq * qs, q_amp), *k = rnd((size_t)nk * ks, q_amp), *v = rnd((size_t)nk * ks, 1);
  float *out = malloc((size_t)nq * os * 4), *out1 = malloc((size_t)nq * os * 4);
  double *ref = calloc((size_t)nq * os, 8), *s = malloc((size_t)nk * 8);
  float scale = 1.0f / sqrtf((float)hd);
  kernels_tune_attention(kernel == ATT_SGEMM ? -1 : 1 << 20, kernel == ATT_AVX512);
  attention(out, q, qs, k, v, ks, nq, nk, heads, hd, scale, causal);
  int threads = a2i2a_get_threads();
  a2i2a_set_threads(threads == 1 ? 2 : 1);
  attention(out1, q, qs, k, v, ks, nq, nk, heads, hd, scale, causal);
  a2i2a_set_threads(threads);
  kernels_tune_attention(0, 1);
  for (int h = 0; h < heads; h++)
    for (int i = 0; i < nq; i++) {
      int lim = causal ? (i + 1 < nk ? i + 1 : nk) : nk;
      double m = -INFINITY, sum = 0;
      for (int j = 0; j < lim; j++) {
        double d = 0;
        for (int c = 0; c < hd; c++) d += (double)q[(size_t)i * qs + h * hd + c] * k[(size_t)j * ks + h * hd + c];
        s[j] = d * scale;
        m = fmax(m, s[j]);
      }
      for (int j = 0; j < lim; j++) sum += s[j] = exp(s[j] - m);
      for (int j = 0; j < lim; j++)
        for (int c = 0; c < hd; c++)
          ref[(size_t)i * os + h * hd + c] += s[j] / sum * v[(size_t)j * ks + h * hd + c];
    }
  double d = maxdiff(out, ref, (size_t)nq * os);
  CHECK(d < 1e-5, "attention (%s) nq %d nk %d heads %d hd %d causal %d stride +%d q_amp %g: max |diff| %g",
        att_names[kernel], nq, nk, heads, hd, causal, extra_stride, q_amp, d);
  /* a single job of the sgemm kernel is one threaded sgemm, whose result OpenBLAS may split
   * differently by thread count */
  if (kernel != ATT_SGEMM || heads * ((nq + 127) / 128) > 1)
    CHECK(!memcmp(out, out1, (size_t)nq * os * 4), "attention (%s) nq %d nk %d heads %d hd %d: 1 and 2 threads differ",
          att_names[kernel], nq, nk, heads, hd);
  free(q), free(k), free(v), free(out1), free(ref), free(s);
  return out;
}

/* Every kernel on the same inputs; wide heads (the VAE's) go to sgemm by default, so the blocked
 * one is forced too. Its AVX-512 code does each lane's arithmetic in the AVX2 code's order: the
 * same bits, whichever CPU runs it. */
static void test_attention(int nq, int nk, int heads, int hd, int causal, int extra_stride, float q_amp) {
  uint64_t inputs = rs;
  float *out[3];
  for (int kernel = ATT_SGEMM; kernel <= ATT_AVX512; kernel++) {
    rs = inputs;
    out[kernel] = test_attention_with(nq, nk, heads, hd, causal, extra_stride, q_amp, kernel);
  }
  CHECK(!memcmp(out[ATT_AVX2], out[ATT_AVX512], (size_t)nq * heads * hd * 4),
        "attention nq %d nk %d heads %d hd %d causal %d: AVX2 and AVX-512 differ", nq, nk, heads, hd, causal);
  for (int kernel = ATT_SGEMM; kernel <= ATT_AVX512; kernel++) free(out[kernel]);
}

static void test_layout(void) {
  int C = 3;
  int sizes[][4] = {{5, 7, 10, 14}, {5, 7, 9, 12}, {9, 12, 5, 7}, {4, 4, 4, 4}, {3, 5, 7, 11}};
  for (int t = 0; t < 5; t++) {
    int H = sizes[t][0], W = sizes[t][1], OH = sizes[t][2], OW = sizes[t][3];
    float *x = rnd((size_t)C * H * W, 1), *y = malloc((size_t)C * OH * OW * 4);
    upsample_nearest(y, x, C, H, W, OH, OW);
    int bad = 0;
    for (int c = 0; c < C; c++)
      for (int oy = 0; oy < OH; oy++)
        for (int ox = 0; ox < OW; ox++) {
          /* torch: floor(dst * (float)in / out) */
          int iy = (int)floorf((float)oy * ((float)H / OH)), ix = (int)floorf((float)ox * ((float)W / OW));
          iy = iy < H ? iy : H - 1, ix = ix < W ? ix : W - 1;
          bad += y[(c * OH + oy) * OW + ox] != x[(c * H + iy) * W + ix];
        }
    CHECK(!bad, "upsample_nearest %dx%d -> %dx%d: %d wrong", H, W, OH, OW, bad);
    free(x), free(y);
  }
  int TC = 37, HW = 71;
  float *x = rnd((size_t)TC * HW, 1), *y = malloc((size_t)TC * HW * 4), *z = malloc((size_t)TC * HW * 4);
  transpose_chw_hwc(y, x, TC, HW);
  int bad = 0;
  for (int c = 0; c < TC; c++)
    for (int p = 0; p < HW; p++) bad += y[p * TC + c] != x[c * HW + p];
  transpose_hwc_chw(z, y, TC, HW);
  CHECK(!bad && !memcmp(z, x, (size_t)TC * HW * 4), "transposes");
  free(x), free(y), free(z);
}
/* conv3x3_norm_silu: the GroupNorm + SiLU taken as the Winograd convolution reads its rows gives
 * exactly group_norm_silu into a buffer, then conv2d (or conv2d_add), x left unchanged; where the
 * convolution is not Winograd (too few pixels, circular padding) it declines. */
static void test_conv_norm_silu(int C, int H, int W, int OC, int G, int accumulate) {
  size_t n = (size_t)C * H * W, ny = (size_t)OC * H * W;
  float *x = rnd(n, 2), *keep = malloc(n * 4), *t = malloc(n * 4), *g = rnd(C, 1), *b = rnd(C, 1);
  float *wf = rnd((size_t)OC * C * 9, 0.1f), *bf = rnd(OC, 1), *want = rnd(ny, 1), *got = malloc(ny * 4);
  for (size_t i = 0; i < n; i++) x[i] += 0.5f; /* a mean away from 0 */
  memcpy(keep, x, n * 4), memcpy(got, want, ny * 4);
  wbuf wg = mkweight(g, C, ST_F16), wb = mkweight(b, C, ST_F32), w = mkweight(wf, (size_t)OC * C * 9, ST_F16),
       wbias = mkweight(bf, OC, ST_F16);
  CHECK(conv3x3_takes_norm(C, H, W, OC), "conv3x3_takes_norm C%d %dx%d OC%d", C, H, W, OC);
  group_norm_silu(t, x, C, H * W, G, &wg.w, &wb.w, 1e-6f);
  if (accumulate) conv2d_add(want, t, C, H, W, &w.w, &wbias.w, OC, 3, 1, 1, 1, 1, 1);
  else conv2d(want, t, C, H, W, &w.w, &wbias.w, OC, 3, 1, 1, 1, 1, 1);
  conv3x3_norm_silu(got, x, C, H, W, G, &wg.w, &wb.w, 1e-6f, &w.w, &wbias.w, OC, accumulate);
  double d = 0;
  for (size_t i = 0; i < ny; i++) d = fmax(d, fabs((double)got[i] - want[i]));
  CHECK(kernels_check() == A2I2A_OK && !memcmp(got, want, ny * 4) && !memcmp(x, keep, n * 4),
        "conv3x3_norm_silu C%d %dx%d OC%d groups %d acc %d: %g from the separate passes", C, H, W, OC, G, accumulate, d);
  kernels_set_wrap(KERNELS_WRAP_X);
  CHECK(!conv3x3_takes_norm(C, H, W, OC), "conv3x3_takes_norm declines circular padding");
  kernels_set_wrap(0);
  CHECK(!conv3x3_takes_norm(C, 3, 3, OC), "conv3x3_takes_norm declines a 3x3 map");
  free(x), free(keep), free(t), free(g), free(b), free(wf), free(bf), free(want), free(got);
  free(wg.mem), free(wb.mem), free(w.mem), free(wbias.mem);
}

/* The in-cache Winograd's AVX-512 product (32 channels x up to 12 tiles) gives the bits of its
 * AVX2 product (16 x 6): each output is the same chain of multiply-adds. Maps below the Winograd
 * minimum, so that both settings take the in-cache path. Without AVX-512 both are AVX2. */
static void test_fused_avx512_bits(int nb, int C, int H, int W, int OC, int tile) {
  size_t nx = (size_t)C * nb * H * W, ny = (size_t)OC * nb * H * W, nw = (size_t)OC * C * 9;
  float *x = rnd(nx, 1), *wf = rnd(nw, 0.1f), *bf = rnd(OC, 1), *y512 = malloc(ny * 4), *y256 = malloc(ny * 4);
  wbuf w = mkweight(wf, nw, ST_F16), b = mkweight(bf, OC, ST_F32);
  kernels_tune_winograd_fused(16, tile);
  kernels_tune_winograd_avx512(1, 0);
  conv2d_batch(y512, x, nb, C, H, W, &w.w, &b.w, OC, 3, 1, 1, 1, 0);
  kernels_tune_winograd_avx512(0, 0);
  conv2d_batch(y256, x, nb, C, H, W, &w.w, &b.w, OC, 3, 1, 1, 1, 0);
  kernels_tune_winograd_avx512(1, 0);
  kernels_tune_winograd_fused(0, 0);
  CHECK(kernels_check() == A2I2A_OK && !memcmp(y512, y256, ny * 4),
        "in-cache Winograd F(%dx%d) x%d C%d %dx%d OC%d: the AVX-512 product has the AVX2 product's bits (AVX-512 %s)",
        tile, tile, nb, C, H, W, OC, __builtin_cpu_supports("avx512f") ? "present" : "absent");
  free(x), free(wf), free(bf), free(y512), free(y256), free(w.mem), free(b.mem);
}

/* Out of memory: with the calling thread's scratch refused, each kernel that needs scratch
 * (outside and inside its parallel regions) skips its work without aborting, kernels_check
 * reports A2I2A_ERR_NOMEM naming the scratch, and once allowed again the same call gives exactly
 * the result it gave before. Winograd is first warmed on another shape so that the buffers it
 * takes before its parallel regions exist and the refusal hits those grown inside them. */
enum { K_LINEAR_SMALL, K_LINEAR_BLOCKS, K_IM2COL, K_WINOGRAD, K_WINOGRAD_ROWS, K_ATTENTION, K_ATTENTION_SGEMM,
       K_GROUP_NORM, K_LAYER_NORM, K_N };
static const char *k_names[K_N] = {"linear (bias, one sgemm)", "linear (weight blocks in threads)", "im2col conv",
                                   "winograd conv (filter blocks in threads)",
                                   "winograd conv, large maps' path (pieces of tile rows in threads)",
                                   "attention (tiles in threads)",
                                   "attention through sgemm (tiles in threads)", "group_norm (no gamma)",
                                   "layer_norm (no gamma)"};

static void run_kernel(int which, float *y, const float *x, const weight *w16, const weight *b16) {
  weight none = {0};
  switch (which) {
  case K_LINEAR_SMALL: linear(y, x, 3, 8, 5, w16, b16); break;
  case K_LINEAR_BLOCKS: linear(y, x, 64, 256, 512, w16, NULL); break;
  case K_IM2COL: conv2d(y, x, 3, 9, 11, w16, NULL, 4, 3, 1, 1, 1, 1, 1); break;
  case K_WINOGRAD: conv2d(y, x, 16, 20, 20, w16, NULL, 64, 3, 1, 1, 1, 1, 1); break;
  case K_WINOGRAD_ROWS: /* the other paths where the CPU has no AVX-512 */
    kernels_tune_winograd_rows(2);
    conv2d(y, x, 16, 20, 40, w16, NULL, 32, 3, 1, 1, 1, 1, 1);
    kernels_tune_winograd_rows(1);
    break;
  case K_ATTENTION: attention(y, x, 16, x + 1600, x + 3200, 16, 100, 100, 2, 8, 0.35f, 0); break;
  case K_ATTENTION_SGEMM:
    kernels_tune_attention(-1, 1);
    attention(y, x, 16, x + 1600, x + 3200, 16, 100, 100, 2, 8, 0.35f, 0);
    kernels_tune_attention(0, 1);
    break;
  case K_GROUP_NORM: group_norm(y, x, 8, 50, 4, &none, &none, 1e-5f); break;
  case K_LAYER_NORM: layer_norm(y, x, 50, 8, &none, &none, 1e-5f); break;
  }
}

static void test_scratch_refused(void) {
  size_t nx = 64 * 256, nw = 512 * 256, ny = 64 * 512;
  float *x = rnd(nx, 1), *wf = rnd(nw, 0.1f), *bf = rnd(512, 1);
  float *want = malloc(ny * 4), *got = malloc(ny * 4), *warm = malloc((size_t)16 * 40 * 40 * 4);
  wbuf w = mkweight(wf, nw, ST_F16), b = mkweight(bf, 512, ST_F16);
  for (int k = 0; k < K_N; k++) {
    memset(want, 0, ny * 4);
    run_kernel(k, want, x, &w.w, &b.w);
    CHECK(kernels_check() == A2I2A_OK, "%s: failed with scratch allowed: %s", k_names[k], a2i2a_last_error());
    a2i2a_release_scratch();
    if (k == K_WINOGRAD) conv2d(warm, x, 16, 20, 40, &w.w, NULL, 16, 3, 1, 1, 1, 1, 1);
    if (k == K_WINOGRAD_ROWS) { /* the filters' buffer as large, the threads' ones smaller (8 tiles a piece) */
      kernels_tune_winograd_rows(2);
      conv2d(warm, x, 16, 20, 8, &w.w, NULL, 32, 3, 1, 1, 1, 1, 1);
      kernels_tune_winograd_rows(1);
    }
    CHECK(kernels_check() == A2I2A_OK, "%s: warming failed", k_names[k]);
    kernels_refuse_scratch(1);
    memset(got, 0, ny * 4);
    run_kernel(k, got, x, &w.w, &b.w);
    kernels_refuse_scratch(0);
    a2i2a_status st = kernels_check();
    CHECK(st == A2I2A_ERR_NOMEM && strstr(a2i2a_last_error(), "out of memory: kernel scratch of "),
          "%s with its scratch refused: status %d, '%s'", k_names[k], st, a2i2a_last_error());
    CHECK(kernels_check() == A2I2A_OK, "%s: the failure was reported twice", k_names[k]);
    memset(got, 0, ny * 4);
    run_kernel(k, got, x, &w.w, &b.w);
    CHECK(kernels_check() == A2I2A_OK && !memcmp(got, want, ny * 4), "%s: differs after the refusal", k_names[k]);
  }
  free(x), free(wf), free(bf), free(want), free(got), free(warm), free(w.mem), free(b.mem);
}

/* The scratch lives in pages of its own: released, it leaves glibc's mmap threshold where it
 * was, so a 16 MB malloc is still mmapped (a 20 MB aligned_alloc freed would have raised the
 * threshold to 20 MB, and the heap of a long-lived caller, the studio, would take the next
 * blocks below it and fragment). Runs first: nothing freed before it may move the threshold. */
static void test_scratch_release_leaves_heap(void) {
  const int dim = 5 << 20; /* the gamma of a layer norm: 20 MB of float32 scratch */
  float *x = malloc((size_t)dim * 4), *y = malloc((size_t)dim * 4), *g = rnd((size_t)dim, 1);
  wbuf gamma = mkweight(g, (size_t)dim, ST_F16);
  for (int i = 0; i < dim; i++) x[i] = frand();
  layer_norm(y, x, 1, dim, &gamma.w, NULL, 1e-5f);
  CHECK(kernels_check() == A2I2A_OK, "layer norm of %d values: %s", dim, a2i2a_last_error());
  a2i2a_release_scratch();
  struct mallinfo2 before = mallinfo2();
  void *volatile p = malloc((size_t)16 << 20); /* volatile: the compiler may not drop it */
  struct mallinfo2 after = mallinfo2();
  CHECK(p && after.hblks == before.hblks + 1,
        "a 16 MB malloc after the scratch's release is mmapped: %zu -> %zu mmapped blocks", before.hblks, after.hblks);
  free(p), free(x), free(y), free(g), free(gamma.mem);
}

/* ASan replaces malloc with its own allocator: glibc's mmap threshold, which the check above is
 * about, does not exist there (mallinfo2 counts nothing). */
#if defined(__SANITIZE_ADDRESS__)
#define GLIBC_MALLOC 0
#else
#define GLIBC_MALLOC 1
#endif

int main(void) {
  if (GLIBC_MALLOC) test_scratch_release_leaves_heap();
  test_weights();
  test_linear(7, 13, 19, ST_F32, 1);
  test_linear(1, 33, 5, ST_F16, 0);
  test_linear(11, 8, 24, ST_BF16, 1);
  test_conv(3, 7, 9, 5, 3, 1, 1, 1, 1, 1, ST_F32, 1);
  test_conv(4, 9, 11, 6, 3, 2, 0, 0, 1, 1, ST_F16, 1); /* the VAE's asymmetric downsample */
  test_conv(5, 8, 8, 7, 3, 2, 1, 1, 1, 1, ST_F32, 0);  /* the UNet's downsample */
  test_conv(6, 5, 7, 3, 1, 1, 0, 0, 0, 0, ST_BF16, 1); /* 1x1 */
  test_conv(2, 6, 5, 3, 5, 1, 2, 2, 2, 2, ST_F32, 1);
  test_conv(64, 120, 200, 3, 3, 1, 1, 1, 1, 1, ST_F16, 1); /* several im2col row tiles */
  test_conv_mode(5, 7, 9, 6, 3, 1, 1, 1, 1, 1, ST_F32, 1, 1);  /* conv2d_add */
  test_conv_mode(4, 5, 5, 3, 1, 1, 0, 0, 0, 0, ST_F16, 0, 1);  /* conv2d_add 1x1 */
  test_conv_mode(3, 5, 7, 4, 3, 1, 1, 1, 1, 1, ST_F32, 1, 2);  /* conv2d_up2 */
  test_conv_mode(32, 40, 60, 2, 3, 1, 1, 1, 1, 1, ST_F32, 0, 2); /* conv2d_up2 over row tiles */
  /* Winograd F(2x2,3x3): odd sizes (partial tiles), F16, accumulate, fused upsampling, and
   * several chunks of tiles with a small scratch budget */
  kernels_tune_winograd_min_pixels(64); /* small shapes take the Winograd path here */
  kernels_tune_winograd_f4(SIZE_MAX);   /* 2x2 tiles only; 4x4 below */
  test_conv(16, 9, 11, 17, 3, 1, 1, 1, 1, 1, ST_F16, 1);
  test_conv(24, 8, 8, 16, 3, 1, 1, 1, 1, 1, ST_F32, 0);
  test_conv_mode(20, 7, 5, 16, 3, 1, 1, 1, 1, 1, ST_BF16, 1, 1);
  test_conv_mode(16, 5, 7, 18, 3, 1, 1, 1, 1, 1, ST_F32, 1, 2);
  test_conv_mode(16, 20, 37, 16, 3, 1, 1, 1, 1, 1, ST_F32, 1, 1); /* 8-tile vector paths, odd width */
  test_conv(17, 18, 40, 16, 3, 1, 1, 1, 1, 1, ST_F16, 1);
  kernels_tune(16, 16 * 40 * 20);
  test_conv_mode(16, 11, 21, 16, 3, 1, 1, 1, 1, 1, ST_F32, 1, 1);
  test_conv(16, 13, 15, 24, 3, 1, 1, 1, 1, 1, ST_F32, 1);
  test_conv_mode(16, 6, 9, 16, 3, 1, 1, 1, 1, 1, ST_F32, 1, 2);
  kernels_tune(1 << 30, 0); /* Winograd off: the im2col path on the same shapes */
  test_conv(16, 9, 11, 17, 3, 1, 1, 1, 1, 1, ST_F16, 1);
  test_conv_mode(16, 5, 7, 18, 3, 1, 1, 1, 1, 1, ST_F32, 1, 2);
  /* batches: im2col with whole images side by side, row tiles image by image, strided,
   * upsampled, 1x1; then the same shapes through Winograd with the batch's tiles together */
  kernels_tune(1 << 30, 0);
  test_conv_batch(2, 5, 7, 9, 6, 3, 1, 1, 1, 0, ST_F16);
  test_conv_batch(3, 4, 6, 5, 3, 3, 1, 1, 1, 1, ST_F32);
  test_conv_batch(2, 6, 9, 8, 5, 3, 2, 1, 1, 0, ST_BF16);
  test_conv_batch(2, 3, 5, 7, 4, 3, 1, 1, 2, 0, ST_F32);
  test_conv_batch(2, 7, 5, 6, 3, 1, 1, 0, 1, 1, ST_F16);
  test_conv_batch(2, 64, 120, 200, 3, 3, 1, 1, 1, 0, ST_F16); /* too big together: one image at a time, in tiles */
  kernels_tune_winograd_min_pixels(16);
  kernels_tune(16, 0);
  test_conv_batch(2, 16, 9, 11, 17, 3, 1, 1, 1, 0, ST_F16);
  test_conv_batch(3, 16, 7, 5, 16, 3, 1, 1, 1, 1, ST_F32);
  test_conv_batch(2, 16, 5, 7, 18, 3, 1, 1, 2, 0, ST_F32);
  test_conv_batch(2, 16, 20, 37, 16, 3, 1, 1, 1, 1, ST_F32); /* 8-tile vector paths, odd width */
  kernels_tune(16, 16 * 40 * 20);                              /* chunks of tiles across the images */
  test_conv_batch(2, 16, 11, 21, 16, 3, 1, 1, 1, 1, ST_F32);
  /* Winograd F(4x4,3x3) on every Winograd shape: partial tiles in both directions (sizes 1, 2
   * and 3 past a multiple of 4), whole groups of 8 tiles and a partial one, F16/BF16, fused
   * upsampling, accumulation, chunks of tiles across rows and images */
  kernels_tune_winograd_f4(1);
  kernels_tune(16, 0);
  test_conv(16, 9, 11, 17, 3, 1, 1, 1, 1, 1, ST_F16, 1);
  test_conv(24, 8, 8, 16, 3, 1, 1, 1, 1, 1, ST_F32, 0);
  test_conv_mode(20, 7, 5, 16, 3, 1, 1, 1, 1, 1, ST_BF16, 1, 1);
  test_conv_mode(16, 5, 7, 18, 3, 1, 1, 1, 1, 1, ST_F32, 1, 2);
  test_conv_mode(16, 20, 37, 16, 3, 1, 1, 1, 1, 1, ST_F32, 1, 1);
  test_conv(17, 18, 40, 16, 3, 1, 1, 1, 1, 1, ST_F16, 1);
  test_conv(16, 34, 66, 20, 3, 1, 1, 1, 1, 1, ST_F32, 1); /* two whole groups of 8 tiles a row */
  test_conv_batch(2, 16, 9, 11, 17, 3, 1, 1, 1, 0, ST_F16);
  test_conv_batch(3, 16, 7, 5, 16, 3, 1, 1, 1, 1, ST_F32);
  test_conv_batch(2, 16, 5, 7, 18, 3, 1, 1, 2, 0, ST_F32);
  test_conv_batch(2, 16, 20, 37, 16, 3, 1, 1, 1, 1, ST_F32);
  kernels_tune(16, 36 * 16 * 20);
  test_conv_mode(16, 11, 21, 16, 3, 1, 1, 1, 1, 1, ST_F32, 1, 1);
  test_conv(16, 13, 15, 24, 3, 1, 1, 1, 1, 1, ST_F32, 1);
  test_conv_mode(16, 6, 9, 16, 3, 1, 1, 1, 1, 1, ST_F32, 1, 2);
  test_conv_batch(2, 16, 11, 21, 16, 3, 1, 1, 1, 1, ST_F32);
  kernels_tune(16, 36 * 16 * 8); /* more output channels, 4 and 11 chunks */
  test_conv(16, 20, 37, 24, 3, 1, 1, 1, 1, 1, ST_F16, 1);
  kernels_tune_winograd_f4(SIZE_MAX);
  test_conv(16, 20, 37, 24, 3, 1, 1, 1, 1, 1, ST_F16, 1);
  /* GroupNorm + SiLU fused into the rows: F(2x2) then F(4x4), widths with partial vectors,
   * several chunks of tiles, accumulation */
  test_conv_norm_silu(32, 20, 37, 24, 8, 0);
  test_conv_norm_silu(16, 21, 29, 16, 4, 1);
  kernels_tune_winograd_f4(1);
  test_conv_norm_silu(32, 20, 37, 24, 8, 0);
  test_conv_norm_silu(16, 21, 29, 16, 4, 1);
  kernels_tune(16, 0);
  test_conv_norm_silu(64, 23, 45, 32, 32, 1);
  kernels_tune_winograd_f4(0);
  kernels_tune(0, 0);
  kernels_tune_winograd_min_pixels(0);
  /* the small maps' Winograd (filters transformed block by block): both tiles; a last block of
   * 16 output channels and a last piece of 8 input channels (80, 40); 1 to 6 tiles a group and
   * partial tiles; a batch; upsampling; accumulation; F16, BF16, F32; chunks of tiles */
  for (int tile = 2; tile <= 4; tile += 2) {
    kernels_tune_winograd_fused(16, tile);
    test_conv(40, 9, 11, 80, 3, 1, 1, 1, 1, 1, ST_F16, 1);
    test_conv(16, 5, 7, 16, 3, 1, 1, 1, 1, 1, ST_F32, 0);
    test_conv(33, 1, 2, 32, 3, 1, 1, 1, 1, 1, ST_BF16, 1);
    test_conv_mode(64, 10, 13, 64, 3, 1, 1, 1, 1, 1, ST_F16, 1, 1);
    test_conv_mode(24, 3, 5, 48, 3, 1, 1, 1, 1, 1, ST_F32, 1, 2);
    test_conv_batch(2, 40, 5, 7, 80, 3, 1, 1, 1, 1, ST_F16);
    test_conv_batch(3, 16, 7, 9, 32, 3, 1, 1, 2, 0, ST_F32);
    kernels_tune(16, (size_t)(tile + 2) * (tile + 2) * 40 * 20);
    test_conv_batch(2, 40, 10, 13, 64, 3, 1, 1, 1, 1, ST_F16);
    kernels_tune(0, 0);
    kernels_tune_winograd_fused(16, tile);
    test_conv(40, 9, 11, 72, 3, 1, 1, 1, 1, 1, ST_F16, 1); /* not a multiple of 16: im2col */
  }
  kernels_tune_winograd_fused(0, 0);
  /* the AVX-512 product against the AVX2 one: groups of 12 tiles and a partial one, a block of
   * 64 channels (two 32-channel passes) and a last one of 16 (AVX2 in both), pieces of 32 input
   * channels and a last one of 8 */
  test_fused_avx512_bits(2, 40, 9, 11, 80, 2);
  test_fused_avx512_bits(1, 72, 10, 13, 48, 4);
  test_fused_avx512_bits(3, 16, 5, 7, 32, 4);
  /* With AVX-512 the maps above the Winograd minimum (here 609 and 1035 pixels, up to 128x128)
   * take the in-cache path too, GroupNorm + SiLU read by its input transform included (without
   * AVX-512, the whole-call transform: checked the same way) */
  kernels_tune_winograd_fused(16, 0);
  test_conv(32, 21, 29, 48, 3, 1, 1, 1, 1, 1, ST_F16, 1);
  test_conv_mode(24, 23, 45, 32, 3, 1, 1, 1, 1, 1, ST_F32, 1, 1);
  test_conv_batch(2, 32, 21, 29, 64, 3, 1, 1, 1, 1, ST_BF16);
  test_conv_norm_silu(32, 23, 45, 32, 8, 1);
  test_conv_norm_silu(64, 21, 29, 48, 32, 0);
  test_conv(16, 126, 130, 32, 3, 1, 1, 1, 1, 1, ST_F16, 1); /* 1056 tiles: chunks of at most 160 */
  kernels_tune_winograd_fused(0, 0);
  /* The large maps' path (AVX-512), here on small maps: partial tiles in both directions, tile
   * rows in two pieces (widths of 50-56 tiles) with a partial group of 8 and of 12 tiles, F16,
   * F32, BF16, accumulation, upsampling, a batch, 32 to 256 channels in and out (the sums over
   * all input channels in registers), GroupNorm + SiLU read by its input transform (the bits of
   * the separate passes), and shapes it declines (output channels not a multiple of 32, more
   * than 256 input channels). Without AVX-512 these take the other paths: checked the same way. */
  kernels_tune_winograd_rows(2);
  test_conv(16, 9, 11, 32, 3, 1, 1, 1, 1, 1, ST_F16, 1);
  test_conv(40, 13, 222, 64, 3, 1, 1, 1, 1, 1, ST_F32, 0);
  test_conv_mode(24, 10, 197, 32, 3, 1, 1, 1, 1, 1, ST_BF16, 1, 1);
  test_conv_mode(16, 6, 50, 96, 3, 1, 1, 1, 1, 1, ST_F32, 1, 2);
  test_conv_batch(2, 32, 11, 21, 64, 3, 1, 1, 1, 1, ST_F16);
  test_conv_batch(2, 16, 5, 110, 32, 3, 1, 1, 2, 0, ST_F32);
  test_conv(256, 9, 60, 64, 3, 1, 1, 1, 1, 1, ST_F16, 1);
  test_conv(64, 6, 50, 256, 3, 1, 1, 1, 1, 1, ST_F16, 1);
  test_conv_norm_silu(32, 23, 200, 32, 8, 1);
  test_conv_norm_silu(64, 21, 29, 64, 32, 0);
  test_conv(16, 9, 11, 48, 3, 1, 1, 1, 1, 1, ST_F16, 1);
  test_conv(264, 7, 9, 32, 3, 1, 1, 1, 1, 1, ST_F16, 1);
  kernels_tune_winograd_rows(1);
  /* circular padding: each axis, both, strided (the UNet's downsample), upsampled (the
   * decoders' upsample), the VAE's asymmetric downsample (stays zero), 1x1, accumulate, a pad
   * wider than 1 (5x5), shapes that would take Winograd unwrapped */
  kernels_tune_winograd_min_pixels(16);
  for (int wrap = 1; wrap <= 3; wrap++) {
    test_conv_wrap(wrap, 2, 5, 7, 9, 6, 3, 1, 1, 1, 1, 1, 1, 0, ST_F16);
    test_conv_wrap(wrap, 1, 16, 9, 11, 17, 3, 1, 1, 1, 1, 1, 1, 1, ST_F32);
    test_conv_wrap(wrap, 2, 6, 9, 8, 5, 3, 2, 1, 1, 1, 1, 1, 0, ST_BF16);
    test_conv_wrap(wrap, 2, 16, 5, 7, 18, 3, 1, 1, 1, 1, 1, 2, 0, ST_F32);
    test_conv_wrap(wrap, 1, 4, 9, 11, 6, 3, 2, 0, 0, 1, 1, 1, 0, ST_F16);
    test_conv_wrap(wrap, 1, 6, 5, 7, 3, 1, 1, 0, 0, 0, 0, 1, 1, ST_F32);
    test_conv_wrap(wrap, 1, 2, 6, 5, 3, 5, 1, 2, 2, 2, 2, 1, 0, ST_F32);
  }
  kernels_tune_winograd_min_pixels(0);
  test_wrap_roll();
  /* the vocoders' 1-D convolutions: HiFi-GAN's dilated "same" convolutions and upsampling, Vocos's
   * embedding and depthwise layers; several im2col / column tiles at the largest */
  test_conv1d(5, 40, 7, 3, 1, 1, 0, ST_F32, 1);
  test_conv1d(6, 33, 4, 7, 5, 15, 1, ST_F16, 1);
  test_conv1d(3, 50, 5, 11, 3, 15, 0, ST_BF16, 0);
  test_conv1d(8, 20, 3, 1, 1, 0, 0, ST_F32, 1);
  test_conv1d(100, 70000, 2, 7, 1, 3, 1, ST_F32, 1);
  test_conv_transpose1d(6, 17, 4, 16, 8, 4, ST_F32, 1);
  test_conv_transpose1d(5, 23, 3, 4, 2, 1, ST_F16, 0);
  test_conv_transpose1d(3, 9, 2, 11, 5, 3, ST_F32, 1);
  test_conv_transpose1d(4, 30000, 24, 16, 8, 4, ST_F32, 1);
  test_depthwise_rows(37, 21, 7, 3, ST_F32);
  test_depthwise_rows(9, 8, 3, 1, ST_F16);
  test_group_norm_batch(1, 12, 35, 4, 0);
  test_group_norm_batch(2, 12, 35, 4, 1);
  test_group_norm_batch(3, 8, 17, 8, 0);
  test_norms();
  test_activations();
  test_attention(5, 7, 2, 3, 0, 0, 1.5f);
  test_attention(70, 600, 3, 5, 0, 3, 1.5f); /* two key tiles of each kernel, strided rows */
  test_attention(77, 77, 4, 8, 1, 0, 1.5f);  /* causal */
  test_attention(130, 77, 2, 16, 0, 1, 1.5f); /* cross-attention */
  test_attention(600, 600, 1, 9, 1, 0, 1.5f); /* causal across query and key tiles */
  /* the families Stable Diffusion uses, fewer queries (and heads) than in the models but every
   * key: SD 1.5's 40-, 80- and 160-wide heads over 1850, 475 and 130 tokens and 77 context
   * tokens, SD 2.x's 64-wide ones, CLIP's causal 77 tokens, the VAE's one 512-wide head; row
   * strides wider than heads · head_dim as the UNet's q/k/v views can be */
  test_attention(150, 1850, 2, 40, 0, 0, 1.5f);
  test_attention(141, 1850, 1, 40, 0, 7, 4.0f); /* scores spread over ~±20: the rescaling at work */
  test_attention(130, 77, 3, 40, 0, 0, 1.5f);
  test_attention(133, 475, 2, 80, 0, 5, 1.5f);
  test_attention(130, 130, 2, 160, 0, 0, 1.5f);
  test_attention(35, 77, 2, 160, 0, 2, 1.5f);
  test_attention(150, 475, 2, 64, 0, 0, 1.5f);
  test_attention(77, 77, 12, 64, 1, 0, 1.5f);
  test_attention(77, 77, 2, 64, 1, 0, 4.0f);
  test_attention(70, 300, 1, 512, 0, 0, 1.5f);
  /* odd sizes: 1 query, 1 key, counts no multiple of 16 queries / 6 keys / any tile */
  test_attention(1, 1, 1, 1, 0, 0, 1.5f);
  test_attention(1, 1, 2, 40, 1, 0, 1.5f);
  test_attention(1, 301, 3, 40, 0, 1, 1.5f);
  test_attention(300, 1, 2, 40, 0, 0, 1.5f);
  test_attention(17, 40, 1, 7, 1, 0, 1.5f); /* causal with more keys than queries */
  test_attention(299, 299, 2, 40, 1, 3, 1.5f);
  test_layout();
  test_scratch_refused();
  return check_done();
}
