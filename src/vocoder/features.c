/* The features a vocoder hears: log(max(mel, floor)) of the magnitude of its own STFT, from a
 * recording (the reference fixtures' "mel") or from magnitudes already on its grid (the vocoder
 * reading). Vocos: torchaudio's MelSpectrogram (centred frames, power 1, HTK mels without
 * area normalisation); HiFi-GAN: its mel_spectrogram ((n_fft − hop)/2 reflect padding, uncentred
 * frames, sqrt(re² + im² + 1e-9), librosa's Slaney filters). */
#include "vocoder/vocoder.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"

/* Reflect padding on each side: n_fft/2 for centred frames, less for HiFi-GAN's. */
static int64_t padding(const vocoder_features *f) { return f->n_fft / 2 - f->frame_offset; }

int vocoder_feature_frames(const vocoder_features *f, int64_t n) {
  int64_t span = n + 2 * padding(f) - f->n_fft;
  return span < 0 ? 0 : (int)(1 + span / f->hop);
}

double vocoder_window_power(int n_fft, int win_length) {
  (void)n_fft; /* the window is zero outside its win_length samples */
  double sum = 0;
  for (int i = 0; i < win_length; i++) {
    double w = 0.5 - 0.5 * cos(2 * M_PI * i / win_length);
    sum += w * w;
  }
  return sum;
}

/* mag [bins][frames] (|X|, overwritten) → mel [n_mels][frames] = log(max(fbᵀ·|X|, floor)). */
static a2i2a_status mel_of_magnitude(const vocoder_features *f, float *mag, int frames, float *mel) {
  const int bins = f->n_fft / 2 + 1;
  float *fb = xmalloc(sizeof(float) * (size_t)bins * f->n_mels, "vocoder: mel filter bank");
  if (!fb) return A2I2A_ERR_NOMEM;
  a2i2a_status st = mel_filterbank(fb, bins, f->fmin, f->fmax, f->n_mels, f->rate, f->scale, f->slaney_norm);
  if (!st) {
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, f->n_mels, frames, bins, 1.0f, fb, f->n_mels, mag, frames,
                0.0f, mel, frames);
    for (size_t i = 0; i < (size_t)f->n_mels * frames; i++) mel[i] = logf(fmaxf(mel[i], f->floor));
  }
  free(fb);
  return st;
}

a2i2a_status vocoder_features_of_magnitude(const vocoder_features *f, float *mag, int frames, float *mel) {
  const size_t cells = (size_t)(f->n_fft / 2 + 1) * frames;
  if (f->mag_eps > 0)
    for (size_t i = 0; i < cells; i++) mag[i] = sqrtf(mag[i] * mag[i] + f->mag_eps);
  return mel_of_magnitude(f, mag, frames, mel);
}

a2i2a_status vocoder_features_of_audio(const vocoder_features *f, const float *x, int64_t n, float *mel) {
  const int frames = vocoder_feature_frames(f, n);
  if (frames < 1) return fail(A2I2A_ERR_PARAM, "vocoder features: %lld samples are shorter than a frame", (long long)n);
  /* The padded signal behind q zeros, where q puts frame t of the padded signal at the start of
   * stft's centred frame t + skip: torch.stft's framing for either padding, on one code path. */
  const int64_t pad = padding(f), half = f->n_fft / 2, q = (f->hop - half % f->hop) % f->hop,
                skip = (half + q) / f->hop, len = q + n + 2 * pad;
  const int bins = f->n_fft / 2 + 1;
  float *y = xcalloc((size_t)len, sizeof(float), "vocoder features: padded signal");
  float *power = xmalloc(sizeof(float) * (size_t)bins * frames, "vocoder features: spectrum");
  stft_ctx *ctx = NULL;
  a2i2a_status st = A2I2A_ERR_NOMEM;
  if (y && power && !(st = stft_new(&ctx, f->n_fft, f->hop, f->win_length))) {
    for (int64_t i = -pad; i < n + pad; i++) { /* reflect without repeating the edge sample */
      int64_t k = i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i;
      y[q + pad + i] = k >= 0 && k < n ? x[k] : 0.0f;
    }
    stft_power_frames(ctx, y, len, skip, frames, power);
    for (size_t i = 0; i < (size_t)bins * frames; i++) power[i] = sqrtf(power[i] + f->mag_eps);
    st = mel_of_magnitude(f, power, frames, mel);
  }
  stft_free(ctx);
  free(y), free(power);
  return st;
}
