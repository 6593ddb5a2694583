/* The loudness the page plays each reading at: the audio room's EBU R128 meter (libebur128,
 * audio/loudness.h, the numbers run.json records), on the file as the browser will play it. A
 * sound shorter than one 400 ms block (a reading of a small painting) has no R128 loudness; it
 * is measured looped to one block, as loud as it sounds played on repeat, so that the page can
 * still match it to the others. */
#include <math.h>
#include <stdlib.h>

#include "audio/audio.h"
#include "audio/loudness.h"
#include "common/err.h"
#include "studio/studio.h"

a2i2a_status studio_loudness_file(const char *path, double *lufs, double *seconds, double *peak) {
  audio_buf a;
  a2i2a_status st = audio_read(path, &a);
  if (st) return st;
  double top = 0, dbtp;
  for (int64_t i = 0; i < a.frames * a.channels; i++)
    if (fabsf(a.x[i]) > top) top = fabsf(a.x[i]);
  int64_t block = (int64_t)ceil(0.4 * a.rate);
  if (a.frames > 0 && a.frames < block) {
    float *looped = malloc(sizeof *looped * (size_t)(block * a.channels));
    if (!looped) {
      audio_free(&a);
      return fail(A2I2A_ERR_NOMEM, "%s: out of memory measuring loudness", path);
    }
    for (int c = 0; c < a.channels; c++)
      for (int64_t i = 0; i < block; i++) looped[c * block + i] = a.x[c * a.frames + i % a.frames];
    audio_buf l = {a.channels, block, a.rate, looped};
    st = loudness_measure(&l, lufs, &dbtp);
    free(looped);
  } else {
    st = loudness_measure(&a, lufs, &dbtp);
  }
  if (!st) {
    if (seconds) *seconds = (double)a.frames / a.rate;
    if (peak) *peak = top;
  }
  audio_free(&a);
  return st;
}
