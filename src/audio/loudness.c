/* EBU R128 loudness through libebur128 (loudness.h). */
#include "audio/loudness.h"

#include <ebur128.h>
#include <math.h>
#include <stdlib.h>

#include "common/err.h"

a2i2a_status loudness_measure(const audio_buf *a, double *lufs, double *dbtp) {
  if (lufs) *lufs = LOUDNESS_NONE;
  if (dbtp) *dbtp = LOUDNESS_NONE;
  if (a->channels < 1 || !(a->rate >= 1 && a->rate <= 2822400))
    return fail(A2I2A_ERR_PARAM, "loudness: %d channels at %g Hz cannot be measured", a->channels, a->rate);
  ebur128_state *st = ebur128_init((unsigned)a->channels, (unsigned long)lrint(a->rate),
                                   EBUR128_MODE_I | (dbtp ? EBUR128_MODE_TRUE_PEAK : 0));
  if (!st) return fail(A2I2A_ERR_NOMEM, "loudness: out of memory");
  if (a->channels == 1) ebur128_set_channel(st, 0, EBUR128_DUAL_MONO);
  enum { CHUNK = 8192 };
  const int C = a->channels;
  float *inter = malloc(sizeof(float) * CHUNK * (size_t)C);
  int err = !inter;
  for (int64_t i0 = 0; i0 < a->frames && !err; i0 += CHUNK) {
    int64_t m = a->frames - i0 < CHUNK ? a->frames - i0 : CHUNK;
    for (int64_t i = 0; i < m; i++)
      for (int c = 0; c < C; c++) inter[i * C + c] = a->x[(size_t)c * a->frames + i0 + i];
    err = ebur128_add_frames_float(st, inter, (size_t)m) != EBUR128_SUCCESS;
  }
  free(inter);
  if (!err && lufs) err = ebur128_loudness_global(st, lufs) != EBUR128_SUCCESS;
  for (int c = 0; dbtp && !err && c < C; c++) {
    double peak;
    if ((err = ebur128_true_peak(st, (unsigned)c, &peak) != EBUR128_SUCCESS)) break;
    if (peak > 0 && 20 * log10(peak) > *dbtp) *dbtp = 20 * log10(peak);
  }
  ebur128_destroy(&st);
  if (err) return fail(A2I2A_ERR_NOMEM, "loudness: out of memory");
  if (lufs && !isfinite(*lufs)) *lufs = LOUDNESS_NONE;
  return A2I2A_OK;
}

a2i2a_status loudness_integrated(const audio_buf *a, double *lufs) { return loudness_measure(a, lufs, NULL); }

a2i2a_status loudness_true_peak(const audio_buf *a, double *dbtp) { return loudness_measure(a, NULL, dbtp); }

a2i2a_status loudness_normalise(audio_buf *a, double target, double ceiling, loudness_result *r) {
  r->gain_db = 0, r->limited = 0;
  a2i2a_status st = loudness_measure(a, &r->lufs, &r->dbtp);
  if (st || r->lufs == LOUDNESS_NONE) return st;
  double gain = target - r->lufs;
  /* true peak scales with the gain: the whole path is linear */
  if (r->dbtp != LOUDNESS_NONE && r->dbtp + gain > ceiling) gain = ceiling - r->dbtp, r->limited = 1;
  const float g = (float)pow(10, gain / 20);
  for (size_t i = 0; i < (size_t)a->channels * (size_t)a->frames; i++) a->x[i] *= g;
  r->gain_db = gain;
  return loudness_measure(a, &r->lufs, &r->dbtp);
}
