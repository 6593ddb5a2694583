/* "red": cell 19 of the notebook — the red channel as an 80 dB power spectrogram, read back
 * by Griffin-Lim, peak-normalised (README §5.4). */
#include "common/err.h"
#include "readings/readings.h"

a2i2a_status reading_red(const reading_input *in, audio_buf *out) {
  a2i2a_status st = seed_check_geometry(in);
  if (st) return st;
  const image_u8 *img = in->img;
  const int64_t n = (int64_t)(img->h - 1) * (img->w - 1);
  if ((st = audio_alloc(out, 1, n, 24000.0))) return st;
  /* The notebook's order of draws: cell 18 takes R, G, B (3 blocks of 2HW floats), then
   * cell 19 draws its own start for the red channel — whichever readings are asked for. */
  torch_rng g;
  rng_seed(&g, in->p.seed);
  rng_skip(&g, (uint64_t)6 * img->h * img->w);
  if ((st = seed_griffinlim(img, 0, in->p.gl_iters, &g, in->job, out->x))) return audio_free(out), st;
  normalise_peak(out->x, n);
  return A2I2A_OK;
}

reading_memory reading_red_memory(const reading_input *in) {
  const image_u8 *img = in->img;
  return (reading_memory){4.0 * (img->h - 1) * (img->w - 1), seed_griffinlim_memory(img)};
}
