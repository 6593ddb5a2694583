/* EBU R128 loudness (src/audio/loudness.c) against stated properties: EBU Tech 3341's sine
 * cases (a 1 kHz sine at −23 dBFS in both channels is −23.0 LUFS, at −33 dBFS −33.0 LUFS; a mono
 * one at −20 dBFS, measured as dual mono, −20.0 LUFS), the true peak of a sine whose samples miss
 * its crests (fs/4, 45°: samples 3 dB below the true peak), silence and sounds too short for a
 * 400 ms block, the gating of a quiet stretch, and loudness_normalise reaching its target or
 * stopping at the true-peak ceiling. */
#include <math.h>

#include "audio/audio.h"
#include "audio/loudness.h"
#include "check.h"

/* A sine of f Hz with peak amplitude 10^(dbfs/20), phase ph (radians), in every channel. */
static audio_buf sine(int channels, double rate, double seconds, double f, double dbfs, double ph) {
  audio_buf a;
  audio_alloc(&a, channels, (int64_t)llround(seconds * rate), rate);
  double amp = pow(10, dbfs / 20);
  for (int c = 0; c < channels; c++)
    for (int64_t i = 0; i < a.frames; i++) a.x[(size_t)c * a.frames + i] = (float)(amp * sin(2 * M_PI * f * i / rate + ph));
  return a;
}

static void near(double got, double want, double tol, const char *what) {
  CHECK(fabs(got - want) <= tol, "%s: %.3f, expected %.2f ± %.2f", what, got, want, tol);
}

int main(void) {
  double lufs, dbtp;
  /* EBU Tech 3341 case 1 and 2: stereo, 1 kHz, −23 and −33 dBFS each channel, 20 s */
  audio_buf a = sine(2, 48000, 20, 1000, -23, 0);
  CHECK(loudness_integrated(&a, &lufs) == A2I2A_OK, "%s", a2i2a_last_error());
  near(lufs, -23.0, 0.1, "stereo 1 kHz at -23 dBFS");
  audio_free(&a);
  a = sine(2, 48000, 20, 1000, -33, 0);
  loudness_integrated(&a, &lufs);
  near(lufs, -33.0, 0.1, "stereo 1 kHz at -33 dBFS");
  audio_free(&a);
  /* mono is dual mono: +3 dB over one channel alone */
  a = sine(1, 48000, 20, 1000, -20, 0);
  loudness_integrated(&a, &lufs);
  near(lufs, -20.0, 0.1, "mono 1 kHz at -20 dBFS");
  audio_free(&a);
  /* the same at 44.1 kHz and 22.05 kHz: the K-weighting follows the rate */
  a = sine(1, 44100, 10, 1000, -20, 0);
  loudness_integrated(&a, &lufs);
  near(lufs, -20.0, 0.1, "mono 1 kHz at -20 dBFS, 44.1 kHz");
  audio_free(&a);
  a = sine(1, 22050, 10, 1000, -20, 0);
  loudness_integrated(&a, &lufs);
  near(lufs, -20.0, 0.1, "mono 1 kHz at -20 dBFS, 22.05 kHz");
  audio_free(&a);

  /* true peak: a sine at fs/4 with 45° phase: every sample at ±A/√2, the true peak A (−6.02 dBFS) */
  a = sine(1, 48000, 1, 12000, -6.0206, M_PI / 4);
  float sample_peak = 0;
  for (int64_t i = 0; i < a.frames; i++) sample_peak = fmaxf(sample_peak, fabsf(a.x[i]));
  near(20 * log10(sample_peak), -9.03, 0.01, "the samples' peak");
  CHECK(loudness_true_peak(&a, &dbtp) == A2I2A_OK, "%s", a2i2a_last_error());
  /* Tech 3341's tolerance for true peak: +0.2 / −0.4 dB */
  CHECK(dbtp > -6.02 - 0.4 && dbtp < -6.02 + 0.2, "true peak %.3f dBTP, expected -6.02 (+0.2/-0.4)", dbtp);
  audio_free(&a);

  /* nothing to measure: silence, and a sound shorter than one 400 ms block */
  audio_alloc(&a, 1, 48000, 48000);
  loudness_measure(&a, &lufs, &dbtp);
  CHECK(lufs == LOUDNESS_NONE && dbtp == LOUDNESS_NONE, "silence: %g LUFS, %g dBTP", lufs, dbtp);
  audio_free(&a);
  a = sine(1, 48000, 0.3, 1000, -20, 0);
  loudness_integrated(&a, &lufs);
  CHECK(lufs == LOUDNESS_NONE, "0.3 s: %g LUFS", lufs);
  audio_free(&a);

  /* gating: 10 s at −20 then 10 s at −80 (below the −70 LUFS gate) measures as the loud part */
  a = sine(1, 48000, 20, 1000, -20, 0);
  for (int64_t i = a.frames / 2; i < a.frames; i++) a.x[i] *= 0.001f;
  loudness_integrated(&a, &lufs);
  near(lufs, -20.0, 0.1, "a quiet half gated out");
  audio_free(&a);

  /* normalising: to −23 LUFS; then with a ceiling the peak reaches first */
  loudness_result r;
  a = sine(2, 44100, 10, 440, -3, 0);
  CHECK(loudness_normalise(&a, -23, -1, &r) == A2I2A_OK, "%s", a2i2a_last_error());
  near(r.lufs, -23.0, 0.1, "normalised");
  CHECK(!r.limited && r.dbtp < -1, "not limited: %g dBTP", r.dbtp);
  loudness_integrated(&a, &lufs);
  near(lufs, -23.0, 0.1, "measured again");
  audio_free(&a);
  a = sine(1, 44100, 10, 1000, -30, 0);
  loudness_normalise(&a, -5, -6, &r);
  CHECK(r.limited, "the ceiling holds it");
  CHECK(r.dbtp <= -6 + 0.1, "true peak %.2f dBTP above the ceiling -6", r.dbtp);
  CHECK(r.lufs < -5, "quieter than the target: %.2f LUFS", r.lufs);
  near(r.lufs, -6.0, 0.15, "a 1 kHz sine peaking at -6 dBTP, dual mono");
  audio_free(&a);
  /* silence is left as it is */
  audio_alloc(&a, 1, 48000, 48000);
  CHECK(loudness_normalise(&a, -23, -1, &r) == A2I2A_OK && r.lufs == LOUDNESS_NONE && r.gain_db == 0, "silence kept");
  audio_free(&a);
  return check_done();
}
