/* "vocoder": the painting heard through a neural vocoder (Vocos or HiFi-GAN, src/vocoder) instead
 * of Griffin-Lim. The image → the linear magnitude spectrogram its style describes (what
 * `inverse` estimates: image_spectrogram_estimate) → the vocoder's STFT grid (its frame centres
 * and bins, by linear interpolation on linear magnitude, scaled from the image's STFT to the
 * vocoder's) → the vocoder's own mel filter bank and log → the network → soxr back to the image's
 * sample rate, as long as `inverse` makes it. docs/readings.md describes it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "readings/readings.h"
#include "vocoder/vocoder.h"

/* The loudest frame of an image whose level is unknown is read at this RMS (dBFS): music's
 * usual 10–15 dB between RMS and peak below a peak near full scale. */
#define UNKNOWN_LEVEL_RMS_DB -14.0

/* Where the vocoder's frames (or bins) fall on the image's: point i is at offset + i·step in the
 * image's frames (bins); its two neighbours there are lo and lo + 1, with weights w_lo and w_hi.
 * Frames beyond the image's ends take its first or last (clamp); bins above its highest
 * frequency get nothing. */
typedef struct {
  int *lo;
  float *w_lo, *w_hi;
} grid_map;

static void map_axis(grid_map *m, int n, double offset, double step, int src_n, int clamp) {
  for (int i = 0; i < n; i++) {
    double p = offset + i * step;
    if (clamp) p = p < 0 ? 0 : p > src_n - 1 ? src_n - 1 : p;
    if (p < 0 || p > src_n - 1) {
      m->lo[i] = 0, m->w_lo[i] = m->w_hi[i] = 0;
      continue;
    }
    int lo = (int)floor(p);
    if (lo > src_n - 2) lo = src_n > 1 ? src_n - 2 : 0;
    m->lo[i] = lo;
    m->w_hi[i] = src_n > 1 ? (float)(p - lo) : 0;
    m->w_lo[i] = 1 - m->w_hi[i];
  }
}

/* Magnitudes on the vocoder's grid, mag [bins][frames], of channel c. The scale takes the image's
 * STFT to the vocoder's for sound whose spectrum is smooth at both resolutions: |X|² grows with
 * the sample rate times the summed squared window. */
static void to_vocoder_grid(const image_spectrogram *s, int c, const vocoder_features *f, const grid_map *tm,
                            const grid_map *fm, int frames, float *mag) {
  const int bins = f->n_fft / 2 + 1;
  const double scale = s->unit * sqrt(f->rate * vocoder_window_power(f->n_fft, f->win_length) /
                                      (s->rate * vocoder_window_power(s->n_fft, s->win_length)));
  const float *src = s->mag + (size_t)c * s->bins * s->frames;
#pragma omp parallel for if ((size_t)bins * frames > 262144)
  for (int k = 0; k < bins; k++) {
    const float *r0 = src + (size_t)fm->lo[k] * s->frames, *r1 = s->bins > 1 ? r0 + s->frames : r0;
    for (int t = 0; t < frames; t++) {
      const int a = tm->lo[t], b = s->frames > 1 ? a + 1 : a;
      float lo = tm->w_lo[t] * r0[a] + tm->w_hi[t] * r0[b], hi = tm->w_lo[t] * r1[a] + tm->w_hi[t] * r1[b];
      mag[(size_t)k * frames + t] = (float)(scale * (fm->w_lo[k] * lo + fm->w_hi[k] * hi));
    }
  }
}

/* Gain that puts the loudest frame's RMS (Parseval over the one-sided spectrum) at the level above. */
static double unknown_level_gain(const float *mag, int bins, int frames, const vocoder_features *f) {
  double loudest = 0;
  for (int t = 0; t < frames; t++) {
    double sum = 0;
    for (int k = 0; k < bins; k++) {
      double p = (double)mag[(size_t)k * frames + t] * mag[(size_t)k * frames + t];
      sum += k == 0 || k == bins - 1 ? p : 2 * p;
    }
    loudest = fmax(loudest, sum / f->n_fft / vocoder_window_power(f->n_fft, f->win_length));
  }
  return loudest > 0 ? pow(10, UNKNOWN_LEVEL_RMS_DB / 20) / sqrt(loudest) : 1;
}

a2i2a_status vocoder_mel_of_image(const image_spectrogram *s, const vocoder_features *f, int frames, float *mel) {
  const int bins = f->n_fft / 2 + 1;
  grid_map tm = {xmalloc(sizeof(int) * frames, "vocoder grid"), xmalloc(sizeof(float) * frames, "vocoder grid"),
                 xmalloc(sizeof(float) * frames, "vocoder grid")};
  grid_map fm = {xmalloc(sizeof(int) * bins, "vocoder grid"), xmalloc(sizeof(float) * bins, "vocoder grid"),
                 xmalloc(sizeof(float) * bins, "vocoder grid")};
  float *mag = xmalloc(sizeof(float) * (size_t)bins * frames, "vocoder: spectrum");
  a2i2a_status st = A2I2A_ERR_NOMEM;
  if (tm.lo && tm.w_lo && tm.w_hi && fm.lo && fm.w_lo && fm.w_hi && mag) {
    /* vocoder frame t is centred at (t·hop + frame_offset)/rate seconds, bin k at k·rate/n_fft Hz */
    const double frame_step = (double)f->hop / f->rate * s->rate / s->hop;
    map_axis(&tm, frames, frame_step * f->frame_offset / f->hop, frame_step, s->frames, 1);
    map_axis(&fm, bins, 0, f->rate / f->n_fft * s->n_fft / s->rate, s->bins, 0);
    st = A2I2A_OK;
    for (int c = 0; c < s->channels && !st; c++) {
      to_vocoder_grid(s, c, f, &tm, &fm, frames, mag);
      if (!s->level_known) {
        const float gain = (float)unknown_level_gain(mag, bins, frames, f);
        for (size_t i = 0; i < (size_t)bins * frames; i++) mag[i] *= gain;
      }
      st = vocoder_features_of_magnitude(f, mag, frames, mel + (size_t)c * f->n_mels * frames);
    }
  }
  free(tm.lo), free(tm.w_lo), free(tm.w_hi), free(fm.lo), free(fm.w_lo), free(fm.w_hi), free(mag);
  return st;
}

/* The vocoder's sound of one channel's mel, at the image's rate, exactly n samples long. */
static a2i2a_status hear_channel(vocoder *v, const float *mel, int frames, double rate, int64_t n, float *dst,
                                 a2i2a_job *job) {
  const vocoder_features *f = vocoder_features_of(v);
  audio_buf made = {0}, back = {0};
  a2i2a_status st = audio_alloc(&made, 1, vocoder_samples(f, frames), f->rate);
  if (!st) st = vocoder_run(v, mel, frames, made.x, NULL, NULL, job);
  if (!st) st = audio_resample(&made, rate, &back);
  for (int64_t i = 0; !st && i < n; i++) dst[i] = i < back.frames ? back.x[i] : 0.0f;
  audio_free(&made);
  audio_free(&back);
  return st;
}

a2i2a_status reading_vocoder(const reading_input *in, audio_buf *out) {
  if (!in->p.vocoder || !*in->p.vocoder)
    return fail(A2I2A_ERR_PARAM, "%s: the vocoder reading needs a vocoder (i2a.vocoder: --vocoder PATH|ORG/NAME)",
                in->label);
  vocoder *v;
  a2i2a_status st = vocoder_open(in->p.vocoder, &v);
  if (st) return st;
  image_spectrogram s;
  if ((st = image_spectrogram_estimate(in, &s))) return vocoder_close(v), st;
  if (!s.style) {
    image_spectrogram_free(&s);
    vocoder_close(v);
    return fail(A2I2A_ERR_UNSUPPORTED, "%s: no spectrogram style recorded (neither a2i2a's chunk nor Riffusion's "
                "EXIF): the vocoder reading needs to know what its rows and columns are", in->label);
  }
  const vocoder_features *f = vocoder_features_of(v);
  const int frames = vocoder_frames_for(f, llround((double)s.samples * f->rate / s.rate));
  float *mel = xmalloc(sizeof(float) * (size_t)s.channels * f->n_mels * frames, "vocoder: mel");
  if (!mel) st = A2I2A_ERR_NOMEM;
  if (!st) st = audio_alloc(out, s.channels, s.samples, s.rate);
  if (!st && !s.silent) st = vocoder_mel_of_image(&s, f, frames, mel);
  for (int c = 0; c < s.channels && !st && !s.silent; c++)
    st = hear_channel(v, mel + (size_t)c * f->n_mels * frames, frames, s.rate, s.samples,
                      out->x + (size_t)c * s.samples, in->job);
  free(mel);
  image_spectrogram_free(&s);
  vocoder_close(v);
  if (st) return audio_free(out), st;
  settle_level(out, s.level_known); /* the vocoder's phases and gain are its own */
  return A2I2A_OK;
}

/* The image's spectrogram and a sound of its length as for inverse (whose Griffin-Lim buffers
 * this reading does not take: an overestimate), and the network's activations: at most about
 * 160 floats per sample of sound (HiFi-GAN V1's last stages, 32 channels in several buffers;
 * Vocos keeps far less, at its frame rate). */
reading_memory reading_vocoder_memory(const reading_input *in) {
  reading_memory m = reading_inverse_memory(in);
  m.work += 160 * m.sound;
  return m;
}
