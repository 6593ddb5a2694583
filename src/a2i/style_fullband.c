/* The "fullband" style, our own: 20 Hz–20 kHz on a mel axis at 44.1 kHz, true stereo (two
 * stacked panels), any size, a chosen dB range and colour map, and every parameter plus the
 * original level in the "a2i2a" JSON chunk so that the `inverse` reading can undo it
 * (docs/styles.md, src/a2i/styles.h). */
#include "a2i/a2i_internal.h"
#include "a2i/styles.h"
#include "common/err.h"
#include "common/registry.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FB_RATE 44100
#define FB_NFFT 4096
#define FB_HOP 441 /* 10 ms: 100 columns per second */
#define FB_DB_FLOOR (-120.0)
#define FB_POWER_FLOOR 1e-12f
#define FB_BLOCK 256

void a2i_plan_fullband(const a2i2a_a2i_params *p, int64_t frames, double rate, a2i_plan *plan) {
  const int64_t n = a2i_frames_at(frames, rate, FB_RATE);
  int64_t hop = FB_HOP, n_fft = FB_NFFT;
  if (p->width > 1 && n >= p->width - 1) { /* a2i_style_fullband's choice for a width asked for */
    hop = n / (p->width - 1);
    if (hop > FB_NFFT / 2) n_fft = 2 * hop;
  }
  const int64_t np = n > n_fft / 2 ? n : n_fft / 2 + 1;
  plan->columns = 1 + np / hop;
  if (p->width > 0 && plan->columns > p->width) plan->columns = p->width;
  plan->width = (int)(plan->columns < INT32_MAX ? plan->columns : INT32_MAX);
  plan->height = p->height;
  plan->bins = (int)(n_fft / 2 + 1);
  /* a painting at least 8 columns wide, 100 columns a second */
  int64_t least = 7 * FB_HOP;
  if (p->width - 1 > least) least = p->width - 1;
  plan->min_frames = a2i_frames_for(least, rate, FB_RATE);
}

a2i2a_status a2i_style_fullband(const audio_buf *in, const a2i2a_a2i_params *prm, image_u8 *img, png_meta *meta) {
  a2i_style_params sp;
  memset(&sp, 0, sizeof sp);
  strcpy(sp.style, "fullband");
  strcpy(sp.mel_scale, "slaney");
  sp.mel_norm = 0;
  sp.sample_rate = FB_RATE;
  sp.source_sample_rate = in->rate;
  sp.source_channels = in->channels;
  /* the style's defaults are filled in (a2i.c) */
  sp.fmin = prm->fmin;
  sp.fmax = prm->fmax;
  sp.db_range = prm->db_range;
  snprintf(sp.colormap, sizeof sp.colormap, "%s", prm->colormap);
  if (!(sp.fmax <= FB_RATE / 2.0) || !(sp.fmin < sp.fmax))
    return fail(A2I2A_ERR_PARAM, "frequency range %g–%g Hz: need 0 ≤ fmin < fmax ≤ %d", sp.fmin, sp.fmax, FB_RATE / 2);
  if (!colormap_exists(sp.colormap)) return registry_unknown(&colormap_registry, sp.colormap);
  sp.channels = prm->stereo && in->channels == 2 ? 2 : 1;
  sp.height = prm->height;
  if (sp.height % sp.channels) return fail(A2I2A_ERR_PARAM, "height %d: stereo needs an even height", sp.height);
  sp.bands = sp.height / sp.channels;
  if (sp.bands < 8) return fail(A2I2A_ERR_PARAM, "height %d: at least 8 rows per channel", sp.height);

  /* the original level, from the decoded input */
  double peak = 0, ss = 0;
  for (size_t i = 0; i < (size_t)in->channels * in->frames; i++) {
    double v = fabs(in->x[i]);
    peak = v > peak ? v : peak;
    ss += v * v;
  }
  sp.peak = peak;
  sp.rms = sqrt(ss / ((double)in->channels * in->frames));
  sp.silent = peak == 0;

  audio_buf a, m;
  a2i2a_status st = a2i_at_rate(in, FB_RATE, &a);
  if (st) return st;
  if (sp.channels == 1 && a.channels > 1) {
    st = audio_downmix(&a, &m);
    audio_free(&a);
    if (st) return st;
    a = m;
  }
  const int64_t n = a.frames;
  sp.samples = n;
  /* width: 100 columns per second, or exactly the width asked for */
  sp.hop = FB_HOP;
  sp.n_fft = FB_NFFT;
  if (prm->width > 0) {
    if (prm->width == 1 || n < prm->width - 1) {
      audio_free(&a);
      return fail(A2I2A_ERR_PARAM, "%lld samples at %d Hz cannot fill %d columns", (long long)n, FB_RATE, prm->width);
    }
    sp.hop = (int)(n / (prm->width - 1));
    if (sp.hop > FB_NFFT / 2) sp.n_fft = 2 * sp.hop; /* keep frames overlapping by half */
  }
  sp.win_length = sp.n_fft;
  int64_t np;
  float *xp[2] = {NULL, NULL};
  for (int c = 0; c < sp.channels; c++) {
    xp[c] = a2i_padded(a.x + (size_t)c * n, n, sp.n_fft / 2 + 1, &np);
    if (!xp[c]) st = A2I2A_ERR_NOMEM;
  }
  audio_free(&a);
  stft_ctx *ctx = NULL;
  a2i_melbank bank;
  memset(&bank, 0, sizeof bank);
  if (!st) st = stft_new(&ctx, sp.n_fft, sp.hop, sp.win_length);
  int64_t T = ctx ? stft_frames(ctx, np) : 0;
  if (prm->width > 0 && T > prm->width) T = prm->width;
  if (!st && T > IMAGE_MAX_SIDE)
    st = fail(A2I2A_ERR_LIMIT, "%lld columns: wider than the %d a PNG here may be", (long long)T, IMAGE_MAX_SIDE);
  if (!st && (size_t)T * sp.height > IMAGE_MAX_PIXELS)
    st = fail(A2I2A_ERR_LIMIT, "%lld × %d pixels: more than %zu", (long long)T, sp.height, (size_t)IMAGE_MAX_PIXELS);
  sp.width = (int)T;
  const int B = sp.n_fft / 2 + 1;
  if (!st) st = a2i_melbank_new(&bank, B, sp.fmin, sp.fmax, sp.bands, FB_RATE, MEL_SLANEY, 0);
  float *pw = NULL, *db = NULL;
  if (!st) {
    pw = xmalloc(sizeof(float) * B * FB_BLOCK, "STFT block");
    db = xmalloc(sizeof(float) * sp.height * T, "mel spectrogram");
    if (!pw || !db) st = A2I2A_ERR_NOMEM;
  }
  for (int c = 0; c < sp.channels && !st; c++) {
    float *panel = db + (size_t)c * sp.bands * T;
    for (int64_t t0 = 0; t0 < T; t0 += FB_BLOCK) {
      const int nb = T - t0 < FB_BLOCK ? (int)(T - t0) : FB_BLOCK;
      stft_power_frames(ctx, xp[c], np, t0, nb, pw);
      a2i_melbank_apply(&bank, pw, nb, panel + t0, T);
    }
  }
  free(xp[0]), free(xp[1]), free(pw), stft_free(ctx), a2i_melbank_free(&bank);
  if (st) {
    free(db);
    return st;
  }
  const size_t N = (size_t)sp.height * T;
  double dmax = FB_DB_FLOOR;
  for (size_t i = 0; i < N; i++) {
    float p = db[i] > FB_POWER_FLOOR ? db[i] : FB_POWER_FLOOR;
    db[i] = 10.0f * log10f(p);
    dmax = db[i] > dmax ? db[i] : dmax;
  }
  /* silence (or anything quieter than the floor + range) sits at the bottom of the range */
  sp.db_max = dmax > FB_DB_FLOOR + sp.db_range ? dmax : FB_DB_FLOOR + sp.db_range;
  const double lo = sp.db_max - sp.db_range;
  /* v in [0, 1], rows flipped per panel: the lowest band at the bottom */
  float *v = xmalloc(sizeof(float) * N, "levels");
  if (!v) st = A2I2A_ERR_NOMEM;
  if (!st) st = image_alloc(img, (int)T, sp.height, 3);
  if (!st) {
    for (int c = 0; c < sp.channels; c++)
      for (int b = 0; b < sp.bands; b++) {
        const float *src = db + ((size_t)c * sp.bands + b) * T;
        float *dst = v + ((size_t)c * sp.bands + (sp.bands - 1 - b)) * T;
        for (int64_t t = 0; t < T; t++) dst[t] = (float)((src[t] - lo) / sp.db_range);
      }
    st = colormap_apply(sp.colormap, v, N, img->px);
  }
  free(db), free(v);
  if (st) return st;
  return a2i_meta_put(meta, &sp);
}
