/* "rgb-mean": cell 20 of the notebook — R, G and B each read back by Griffin-Lim, averaged,
 * peak-normalised, then "stretched" 3× by torchaudio's phase vocoder called on the waveform
 * itself (README §5.5): a noise carrier whose envelope follows the averaged signal. */
#include <math.h>
#include <stdlib.h>

#include "common/err.h"
#include "readings/readings.h"

a2i2a_status reading_rgb_mean(const reading_input *in, audio_buf *out) {
  a2i2a_status st = seed_check_geometry(in);
  if (st) return st;
  const image_u8 *img = in->img;
  const int64_t n = (int64_t)(img->h - 1) * (img->w - 1);
  float *ch = xmalloc(sizeof(float) * 3 * (size_t)n, "rgb-mean: three waveforms");
  if (!ch) return A2I2A_ERR_NOMEM;
  /* cell 18: R, G, B drawn in that order from the freshly seeded generator */
  torch_rng g;
  rng_seed(&g, in->p.seed);
  for (int c = 0; c < 3; c++)
    if ((st = seed_griffinlim(img, c, in->p.gl_iters, &g, in->job, ch + c * n))) return free(ch), st;
  float *m = ch; /* ((r + g) + b) / 3 in float32, in place */
  for (int64_t i = 0; i < n; i++) m[i] = ((ch[i] + ch[n + i]) + ch[2 * n + i]) / 3.0f;
  normalise_peak(m, n);
  if ((st = audio_alloc(out, 1, pv_stretch3_len(n), 24000.0))) return free(ch), st;
  pv_stretch3(m, n, out->x, NULL, NULL, NULL);
  free(ch);
  return A2I2A_OK;
}

reading_memory reading_rgb_mean_memory(const reading_input *in) {
  const image_u8 *img = in->img;
  const double n = (double)(img->h - 1) * (img->w - 1);
  /* the three waveforms, the stretch's time steps (3n floats) and one Griffin-Lim at a time */
  return (reading_memory){4 * 3 * n, 4 * 3 * n + 4 * 3 * n + seed_griffinlim_memory(img)};
}
