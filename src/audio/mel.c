/* Mel filter banks as torchaudio.functional.melscale_fbanks, with its float32 steps (torch's
 * linspace, float32 mel → Hz), and the dB conversions. */
#include "audio/audio.h"
#include "common/err.h"

#include <math.h>
#include <sleef.h>
#include <stdlib.h>

static const double SLANEY_F_SP = 200.0 / 3.0, SLANEY_MIN_LOG_HZ = 1000.0;

double hz_to_mel(double hz, mel_scale scale) {
  if (scale == MEL_HTK) return 2595.0 * log10(1.0 + hz / 700.0);
  double mel = hz / SLANEY_F_SP;
  const double min_log_mel = SLANEY_MIN_LOG_HZ / SLANEY_F_SP, logstep = log(6.4) / 27.0;
  if (hz >= SLANEY_MIN_LOG_HZ) mel = min_log_mel + log(hz / SLANEY_MIN_LOG_HZ) / logstep;
  return mel;
}

double mel_to_hz(double mel, mel_scale scale) {
  if (scale == MEL_HTK) return 700.0 * (pow(10.0, mel / 2595.0) - 1.0);
  const double min_log_mel = SLANEY_MIN_LOG_HZ / SLANEY_F_SP, logstep = log(6.4) / 27.0;
  if (mel >= min_log_mel) return SLANEY_MIN_LOG_HZ * exp(logstep * (mel - min_log_mel));
  return SLANEY_F_SP * mel;
}

/* torch.linspace for float32 as its AVX2 kernel fills it: step in float; elements before
 * steps/2 count up from start, the others down from end; the vectorised part (all but the last
 * steps mod 16 elements) works in 8-wide vectors whose first element is computed that way and
 * the rest as first + j·step (two roundings); the tail element by element. */
static void linspace_f32(float *v, int steps, float start, float end) {
  if (steps == 1) {
    v[0] = start;
    return;
  }
  const float step = (end - start) / (float)(steps - 1);
  const int half = steps / 2, nvec = steps - steps % 16;
  /* torch's kernels are compiled with FMA contraction: a + b·c is one rounding */
  for (int i = 0; i < steps; i++) {
    if (i < nvec) {
      const int i0 = i & ~7;
      const float base = i0 < half ? fmaf(step, (float)i0, start) : fmaf(-step, (float)(steps - i0 - 1), end);
      v[i] = fmaf((float)(i - i0), step, base);
    } else {
      v[i] = i < half ? fmaf(step, (float)i, start) : fmaf(-step, (float)(steps - i - 1), end);
    }
  }
}

/* torch's float32 pow/exp: Sleef's u10 functions (what its AVX2 kernels call) on the
 * vectorised part of a tensor of n elements, libm on the last n mod 16. Reproducing this
 * makes the filter banks bit-identical to torchaudio's (fixtures/seed/riffusion/mel_fb). */
static inline float torch_powf(float b, float e, int i, int n) {
  return i < n - n % 16 ? Sleef_powf1_u10purecfma(b, e) : powf(b, e);
}
static inline float torch_expf(float x, int i, int n) {
  return i < n - n % 16 ? Sleef_expf1_u10purecfma(x) : expf(x);
}

/* _mel_to_hz on a float32 tensor of n points */
static void mel_to_hz_f32(float *m, int n, mel_scale scale) {
  if (scale == MEL_HTK) {
    for (int i = 0; i < n; i++) m[i] = 700.0f * (torch_powf(10.0f, m[i] / 2595.0f, i, n) - 1.0f);
    return;
  }
  const float f_sp = (float)SLANEY_F_SP, min_log_mel = (float)(SLANEY_MIN_LOG_HZ / SLANEY_F_SP);
  const float logstep = (float)(log(6.4) / 27.0);
  /* freqs[log_t] = 1000·exp(logstep·(mels[log_t] − min_log_mel)) on the gathered elements */
  int nlog = 0;
  for (int i = 0; i < n; i++) nlog += m[i] >= min_log_mel;
  for (int i = 0, j = 0; i < n; i++) {
    if (m[i] >= min_log_mel) m[i] = 1000.0f * torch_expf(logstep * (m[i] - min_log_mel), j++, nlog);
    else m[i] = 0.0f + f_sp * m[i];
  }
}

a2i2a_status mel_filterbank(float *fb, int n_freqs, double fmin, double fmax, int n_mels, double sample_rate,
                            mel_scale scale, int slaney_norm) {
  if (n_freqs < 2 || n_mels < 1 || !(fmin >= 0) || !(fmax > fmin) || !(sample_rate > 0))
    return fail(A2I2A_ERR_PARAM, "mel filter bank: invalid parameters (%d bins, %d mels, %g–%g Hz, %g Hz)", n_freqs,
                n_mels, fmin, fmax, sample_rate);
  float *all = malloc(sizeof(float) * n_freqs), *f = malloc(sizeof(float) * (n_mels + 2));
  if (!all || !f) {
    free(all), free(f);
    return fail(A2I2A_ERR_NOMEM, "mel filter bank: out of memory");
  }
  /* torchaudio: linspace(0, sample_rate // 2, n_freqs) */
  linspace_f32(all, n_freqs, 0.0f, (float)floor(sample_rate / 2));
  linspace_f32(f, n_mels + 2, (float)hz_to_mel(fmin, scale), (float)hz_to_mel(fmax, scale));
  mel_to_hz_f32(f, n_mels + 2, scale);
  for (int k = 0; k < n_freqs; k++) {
    for (int m = 0; m < n_mels; m++) {
      /* down = −(f_m − x)/(f_{m+1} − f_m), up = (f_{m+2} − x)/(f_{m+2} − f_{m+1}) */
      float down = (-1.0f * (f[m] - all[k])) / (f[m + 1] - f[m]);
      float up = (f[m + 2] - all[k]) / (f[m + 2] - f[m + 1]);
      float v = fminf(down, up);
      if (!(v > 0.0f)) v = 0.0f;
      if (slaney_norm) v *= 2.0f / (f[m + 2] - f[m]);
      fb[(size_t)k * n_mels + m] = v;
    }
  }
  free(all);
  free(f);
  return A2I2A_OK;
}

void power_to_db(const float *p, size_t n, float *db) {
  const float eps = 1e-9f;
  for (size_t i = 0; i < n; i++) db[i] = 10.0f * log10f(p[i] + eps);
}
