/* The "riffusion" style: Riffusion's audio → image conversion (riffusion-hobby 94c29ab,
 * fixtures/seed/README.md §7): 44.1 kHz int16-valued samples, STFT n_fft 17640 / hop 441 /
 * a 4410 Hann window centred in the frame, magnitude, 512 HTK mel bands 0–10 kHz,
 * 255 − 255·(mel/max)^0.25 truncated, low frequencies at the bottom, its eXIf chunk. */
#include "a2i/a2i_internal.h"
#include "a2i/styles.h"
#include "common/err.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define RIFF_RATE 44100
#define RIFF_NFFT 17640
#define RIFF_HOP 441
#define RIFF_WIN 4410
#define RIFF_MELS 512
#define RIFF_FMAX 10000.0
#define RIFF_BLOCK 128 /* frames per STFT block: 8821 × 128 floats */

a2i2a_status riffusion_mel(const float *x, int64_t n, float **mel, int64_t *frames) {
  *mel = NULL;
  int64_t np;
  /* reflect padding needs more than n_fft/2 samples: shorter clips get zeros appended */
  float *xp = a2i_padded(x, n, RIFF_NFFT / 2 + 1, &np);
  if (!xp) return A2I2A_ERR_NOMEM;
  stft_ctx *ctx = NULL;
  a2i_melbank sb;
  memset(&sb, 0, sizeof sb);
  float *mag = NULL, *out = NULL;
  a2i2a_status st = stft_new(&ctx, RIFF_NFFT, RIFF_HOP, RIFF_WIN);
  if (!st) st = a2i_melbank_new(&sb, RIFF_NFFT / 2 + 1, 0, RIFF_FMAX, RIFF_MELS, RIFF_RATE, MEL_HTK, 0);
  const int64_t T = ctx ? stft_frames(ctx, np) : 0;
  const int B = RIFF_NFFT / 2 + 1;
  if (!st) {
    mag = xmalloc(sizeof(float) * B * RIFF_BLOCK, "STFT block");
    out = xmalloc(sizeof(float) * RIFF_MELS * T, "mel spectrogram");
    if (!mag || !out) st = A2I2A_ERR_NOMEM;
  }
  for (int64_t t0 = 0; !st && t0 < T; t0 += RIFF_BLOCK) {
    const int nb = T - t0 < RIFF_BLOCK ? (int)(T - t0) : RIFF_BLOCK;
    stft_magnitude_frames(ctx, xp, np, t0, nb, mag);
    a2i_melbank_apply(&sb, mag, nb, out + t0, T);
  }
  free(xp), free(mag), a2i_melbank_free(&sb), stft_free(ctx);
  if (st) {
    free(out);
    return st;
  }
  *mel = out;
  *frames = T;
  return A2I2A_OK;
}

void riffusion_mel_to_image(const float *mel, int channels, int64_t T, float max_value, image_u8 *img) {
  const int W = (int)T;
  for (int c = 0; c < channels; c++) {
    const float *mc = mel + (size_t)c * RIFF_MELS * T;
    for (int m = 0; m < RIFF_MELS; m++) {
      uint8_t *row = img->px + (size_t)(RIFF_MELS - 1 - m) * W * 3; /* flipped: band 0 at the bottom */
      for (int t = 0; t < W; t++) {
        uint8_t v;
        if (max_value > 0) {
          /* numpy float32: (mel/max)^0.25·255, 255 − that, astype(uint8) truncates */
          float d = mc[(size_t)m * T + t] / max_value;
          d = powf(d, 0.25f) * 255.0f;
          d = 255.0f - d;
          v = (uint8_t)(d <= 0.0f ? 0 : d >= 255.0f ? 255 : (int)d);
        } else {
          v = 255; /* silence: Riffusion would divide by 0; we define it as white (no energy) */
        }
        if (channels == 1) row[3 * t] = row[3 * t + 1] = row[3 * t + 2] = v;
        else {
          if (c == 0) row[3 * t] = 0;
          row[3 * t + 1 + c] = v;
        }
      }
    }
  }
}

/* pydub holds int16 samples; a float source becomes int16 as FFmpeg converts it. */
static inline float to_int16(float x) {
  float v = rintf(x * 32768.0f);
  return v > 32767.0f ? 32767.0f : v < -32768.0f ? -32768.0f : v;
}

a2i2a_status riffusion_samples(const audio_buf *in, int stereo, float **out, int64_t *frames) {
  *out = NULL;
  audio_buf a;
  a2i2a_status st = a2i_at_rate(in, RIFF_RATE, &a);
  if (st) return st;
  if (a.channels > 2) {
    /* pydub refuses more than two channels; we take their mean first */
    audio_buf m;
    st = audio_downmix(&a, &m);
    audio_free(&a);
    if (st) return st;
    a = m;
  }
  const int64_t n = a.frames;
  const int channels = stereo ? 2 : 1;
  float *x = xmalloc(sizeof(float) * channels * n, "int16 samples");
  if (!x) {
    audio_free(&a);
    return A2I2A_ERR_NOMEM;
  }
  for (int c = 0; c < channels; c++) {
    for (int64_t i = 0; i < n; i++) {
      if (a.channels == 1) x[c * n + i] = to_int16(a.x[i]);
      else if (channels == 2) x[c * n + i] = to_int16(a.x[(size_t)c * n + i]);
      /* audioop.tomono(·, 0.5, 0.5): floor(0.5·L + 0.5·R) on the int16 values */
      else x[i] = (float)floor(0.5 * to_int16(a.x[i]) + 0.5 * to_int16(a.x[n + i]));
    }
  }
  audio_free(&a);
  *out = x;
  *frames = n;
  return A2I2A_OK;
}

void a2i_plan_riffusion(const a2i2a_a2i_params *p, int64_t frames, double rate, a2i_plan *plan) {
  (void)p;
  int64_t n = a2i_frames_at(frames, rate, RIFF_RATE);
  if (n < RIFF_NFFT / 2 + 1) n = RIFF_NFFT / 2 + 1; /* riffusion_mel's padding */
  plan->columns = 1 + n / RIFF_HOP;
  plan->width = (int)(plan->columns < INT32_MAX ? plan->columns : INT32_MAX);
  plan->height = RIFF_MELS;
  plan->bins = RIFF_NFFT / 2 + 1;
  /* the painting (the width rounded down to a multiple of 8) read back by Griffin-Lim needs
   * hop·(W − 1) > n_fft/2, W ≥ 22: a picture 24 columns wide */
  plan->min_frames = a2i_frames_for(23 * RIFF_HOP, rate, RIFF_RATE);
}

a2i2a_status a2i_style_riffusion(const audio_buf *in, const a2i2a_a2i_params *prm, image_u8 *img, png_meta *meta) {
  if (prm->width > 0 || prm->height > 0)
    return fail(A2I2A_ERR_PARAM, "the riffusion style has a fixed height of 512 and one column per 10 ms");
  const int channels = prm->stereo ? 2 : 1;
  float *x;
  int64_t n;
  a2i2a_status st = riffusion_samples(in, prm->stereo, &x, &n);
  if (st) return st;
  float *mel[2] = {NULL, NULL};
  int64_t T = 0;
  for (int c = 0; c < channels && !st; c++) st = riffusion_mel(x + (size_t)c * n, n, &mel[c], &T);
  free(x);
  float *both = NULL;
  if (!st) {
    both = xmalloc(sizeof(float) * channels * RIFF_MELS * T, "mel spectrogram");
    if (!both) st = A2I2A_ERR_NOMEM;
    for (int c = 0; c < channels && both; c++) memcpy(both + (size_t)c * RIFF_MELS * T, mel[c], sizeof(float) * RIFF_MELS * T);
  }
  free(mel[0]), free(mel[1]);
  if (!st && T > IMAGE_MAX_SIDE) st = fail(A2I2A_ERR_LIMIT, "%lld columns: wider than %d", (long long)T, IMAGE_MAX_SIDE);
  if (!st) st = image_alloc(img, (int)T, RIFF_MELS, 3);
  if (st) {
    free(both);
    return st;
  }
  float mx = 0.0f;
  for (size_t i = 0; i < (size_t)channels * RIFF_MELS * T; i++) mx = both[i] > mx ? both[i] : mx;
  riffusion_mel_to_image(both, channels, T, mx, img);
  free(both);
  riffusion_exif e = riffusion_exif_default();
  e.stereo = channels == 2;
  e.max_value = mx;
  e.has_max_value = 1;
  uint8_t tiff[256];
  size_t len = riffusion_exif_write(&e, tiff);
  st = png_meta_set_exif(meta, tiff, len);
  if (st) return st;
  a2i_style_params sp;
  memset(&sp, 0, sizeof sp);
  strcpy(sp.style, "riffusion");
  sp.sample_rate = RIFF_RATE;
  sp.source_sample_rate = in->rate;
  sp.source_channels = in->channels;
  sp.samples = n;
  sp.channels = channels;
  sp.n_fft = RIFF_NFFT;
  sp.hop = RIFF_HOP;
  sp.win_length = RIFF_WIN;
  sp.width = (int)T;
  sp.height = RIFF_MELS;
  return a2i_meta_put(meta, &sp);
}
