/* The "seed" style: the notebook's spectrogram (cell 13), exactly as
 * fixtures/seed/README.md §3–4 describes it. */
#include "a2i/a2i_internal.h"
#include "a2i/styles.h"
#include "common/err.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SEED_NFFT 512
#define SEED_HOP 256

a2i2a_status seed_power(const audio_buf *a, float **power, int64_t *frames) {
  *power = NULL;
  stft_ctx *ctx;
  a2i2a_status st = stft_new(&ctx, SEED_NFFT, SEED_HOP, SEED_NFFT);
  if (st) return st;
  /* reflect padding needs more than n_fft/2 samples: shorter signals get zeros appended */
  const int64_t n = a->frames > SEED_NFFT / 2 ? a->frames : SEED_NFFT / 2 + 1;
  const int64_t T = stft_frames(ctx, n);
  const int B = stft_bins(ctx);
  float *p = xmalloc(sizeof(float) * B * T, "seed power spectrogram");
  enum { BLOCK = 1024 };
  float *blk = a->channels > 1 ? xmalloc(sizeof(float) * B * BLOCK, "seed power spectrogram") : NULL;
  float *xpad = a->frames < n ? xcalloc(n, sizeof(float), "padded samples") : NULL;
  if (!p || (a->channels > 1 && !blk) || (a->frames < n && !xpad)) {
    free(p), free(blk), free(xpad), stft_free(ctx);
    return A2I2A_ERR_NOMEM;
  }
  for (int c = 0; c < a->channels; c++) {
    const float *x = a->x + (size_t)c * a->frames;
    if (xpad) {
      memcpy(xpad, x, sizeof(float) * a->frames);
      x = xpad;
    }
    if (c == 0) {
      stft_power(ctx, x, n, p);
      continue;
    }
    /* the other channels are added block by block, in channel order */
    for (int64_t t0 = 0; t0 < T; t0 += BLOCK) {
      const int nb = T - t0 < BLOCK ? (int)(T - t0) : BLOCK;
      stft_power_frames(ctx, x, n, t0, nb, blk);
      for (int k = 0; k < B; k++)
        for (int t = 0; t < nb; t++) p[(size_t)k * T + t0 + t] += blk[(size_t)k * nb + t];
    }
  }
  /* torch.mean over the channel axis: the sum, then one division */
  if (a->channels > 1) {
    const float C = (float)a->channels;
    for (size_t i = 0; i < (size_t)B * T; i++) p[i] /= C;
  }
  free(blk), free(xpad), stft_free(ctx);
  *power = p;
  *frames = T;
  return A2I2A_OK;
}

void seed_db_to_u8(const float *db, size_t n, uint8_t *u8) {
  float lo = FLT_MAX, hi = -FLT_MAX;
  for (size_t i = 0; i < n; i++) {
    lo = db[i] < lo ? db[i] : lo;
    hi = db[i] > hi ? db[i] : hi;
  }
  const float range = hi - lo;
  /* the notebook divides by max − min; a constant input (silence) would be NaN: we define it
   * as all 0 (black) */
  if (!(range > 0)) {
    memset(u8, 0, n);
    return;
  }
  for (size_t i = 0; i < n; i++) {
    float norm = (db[i] - lo) / range;
    float v = norm * 255.0f;
    u8[i] = (uint8_t)(v >= 255.0f ? 255 : v <= 0.0f ? 0 : (int)v); /* truncation */
  }
}

void a2i_plan_seed(const a2i2a_a2i_params *p, int64_t frames, double rate, a2i_plan *plan) {
  (void)rate;
  const int64_t n = frames > SEED_NFFT / 2 ? frames : SEED_NFFT / 2 + 1; /* seed_power's padding */
  plan->width = p->width;
  plan->height = p->height;
  plan->columns = 1 + n / SEED_HOP;
  plan->bins = SEED_NFFT / 2 + 1;
  plan->min_frames = 2 * SEED_HOP; /* the inverse reading's Griffin-Lim needs 3 frames */
}

a2i2a_status a2i_style_seed(const audio_buf *a, const a2i2a_a2i_params *prm, image_u8 *img, png_meta *meta) {
  float *p;
  int64_t T;
  a2i2a_status st = seed_power(a, &p, &T);
  if (st) return st;
  const int B = SEED_NFFT / 2 + 1;
  power_to_db(p, (size_t)B * T, p);
  uint8_t *u8 = xmalloc((size_t)B * T, "seed image");
  if (!u8) {
    free(p);
    return A2I2A_ERR_NOMEM;
  }
  seed_db_to_u8(p, (size_t)B * T, u8);
  free(p);
  /* row k = bin k (row 0 = 0 Hz at the top, as the notebook). The full-size grey picture is
   * only resized, never stored: it may be wider than an image may be (an hour at 48 kHz is
   * 675001 columns), so it is not made with image_alloc. One channel resizes exactly as each of
   * three equal ones would. */
  image_u8 grey = {.w = (int)T, .h = B, .c = 1, .px = u8}, small = {0};
  const int W = prm->width, H = prm->height; /* the style's defaults filled in (a2i.c) */
  st = image_resize_bicubic(&grey, W, H, &small);
  free(u8);
  if (!st) st = image_convert(&small, 3, img);
  image_free(&small);
  if (st) return st;
  a2i_style_params sp;
  memset(&sp, 0, sizeof sp);
  strcpy(sp.style, "seed");
  sp.sample_rate = sp.source_sample_rate = a->rate;
  sp.source_channels = a->channels;
  sp.samples = a->frames;
  sp.channels = 1;
  sp.n_fft = sp.win_length = SEED_NFFT;
  sp.hop = SEED_HOP;
  sp.width = W;
  sp.height = H;
  return a2i_meta_put(meta, &sp);
}
