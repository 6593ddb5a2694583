/* Pieces shared by the notebook's readings (cells 18–20, README §5.1–5.2). */
#include <math.h>
#include <stdlib.h>

#include "audio/griffinlim.h"
#include "common/err.h"
#include "readings/readings.h"

a2i2a_status seed_check_geometry(const reading_input *in) {
  const image_u8 *img = in->img;
  /* n_fft = 2(H−1) needs H ≥ 3; istft/stft round trip needs (H−1)(W−1) > H−1 samples. */
  if (img->h < 3 || img->w < 3)
    return fail(A2I2A_ERR_UNSUPPORTED, "%s: %dx%d is too small for this reading (at least 3x3 pixels)", in->label,
                img->w, img->h);
  if ((int64_t)img->h * img->w > (int64_t)1 << 28)
    return fail(A2I2A_ERR_LIMIT, "%s: %dx%d is too large for this reading", in->label, img->w, img->h);
  return A2I2A_OK;
}

a2i2a_status seed_griffinlim(const image_u8 *img, int channel, int iters, torch_rng *rng, a2i2a_job *job,
                             float *y) {
  const int h = img->h, w = img->w;
  float *mag = xmalloc(sizeof(float) * (size_t)h * w, "Griffin-Lim target");
  if (!mag) return A2I2A_ERR_NOMEM;
  seed_magnitude(img, channel, mag);
  griffinlim_params gp = griffinlim_default_params(2 * (h - 1), h - 1);
  if (iters > 0) gp.iters = iters;
  gp.job = job;
  a2i2a_status st = griffinlim(mag, w, &gp, rng, y, NULL);
  free(mag);
  return st;
}

double seed_griffinlim_memory(const image_u8 *img) {
  return 4.0 * img->h * img->w + griffinlim_memory(2 * (img->h - 1), img->h - 1, img->w);
}
