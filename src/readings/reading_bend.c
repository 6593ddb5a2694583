/* "bend": raw data-bending ("arrays are arrays"). The image's bytes in scan order — rows top
 * to bottom, pixels left to right, R G B interleaved — are played as 8-bit unsigned PCM, as
 * if the file had been imported into an audio editor as raw data. The DC offset (the mean
 * byte) is removed and the peak set to −1 dBFS. Horizontal textures become pitches (a
 * pattern of period p pixels sounds at rate/(3p)), rows become a rhythm of period 3·W. */
#include <math.h>
#include <stdlib.h>

#include "common/err.h"
#include "readings/readings.h"

a2i2a_status reading_bend(const reading_input *in, audio_buf *out) {
  const image_u8 *img = in->img;
  const double sr = reading_settings(in, reading_bend).sample_rate;
  const int64_t n = (int64_t)img->w * img->h * 3;
  if (n < 1) return fail(A2I2A_ERR_UNSUPPORTED, "%s: empty image", in->label);
  a2i2a_status st = audio_alloc(out, 1, n, sr);
  if (st) return st;
  double mean = 0;
  for (int64_t i = 0; i < n; i++) mean += img->px[i];
  mean /= n;
  for (int64_t i = 0; i < n; i++) out->x[i] = (float)((img->px[i] - mean) / 128.0);
  normalise_to(out->x, n, 0.891251f);
  return A2I2A_OK;
}

reading_memory reading_bend_memory(const reading_input *in) {
  return (reading_memory){4 * 3.0 * in->img->w * in->img->h, 0};
}
