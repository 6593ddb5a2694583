/* Mel filter banks as torchaudio.functional.melscale_fbanks, with its float32 steps (torch's
 * linspace, float32 mel → Hz), and the dB conversions. */
#include "audio/audio.h"
#include "common/err.h"

#include <math.h>
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

/* torch.linspace for float32: step in float, the first half counted up from start, the
 * second half down from end. */
static void linspace_f32(float *v, int steps, float start, float end) {
  if (steps == 1) {
    v[0] = start;
    return;
  }
  const float step = (end - start) / (float)(steps - 1);
  const int half = steps / 2;
  for (int i = 0; i < steps; i++) v[i] = i < half ? start + step * (float)i : end - step * (float)(steps - i - 1);
}

/* _mel_to_hz on a float32 tensor */
static float mel_to_hz_f32(float mel, mel_scale scale) {
  if (scale == MEL_HTK) return 700.0f * (powf(10.0f, mel / 2595.0f) - 1.0f);
  const float f_sp = (float)SLANEY_F_SP, min_log_mel = (float)(SLANEY_MIN_LOG_HZ / SLANEY_F_SP);
  const float logstep = (float)(log(6.4) / 27.0);
  if (mel >= min_log_mel) return 1000.0f * expf(logstep * (mel - min_log_mel));
  return 0.0f + f_sp * mel;
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
  for (int i = 0; i < n_mels + 2; i++) f[i] = mel_to_hz_f32(f[i], scale);
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
