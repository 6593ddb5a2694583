/* "scan": what the notebook's chirp reading promised ("red → pitch, green → amplitude,
 * blue → duration") but did not do: the columns are read left to right, each in its own
 * time slot. Column x's mean red sets the pitch of a short rising chirp (f → 1.5f, f on a log
 * axis from fmin to fmax), its mean green the loudness (0.2 + 0.8·Ḡ, as in the notebook), its
 * mean blue how long the slot lasts (10 ms … 100 ms by default: dark blue = short). */
#include <math.h>
#include <stdlib.h>

#include "common/err.h"
#include "readings/readings.h"

#define SCAN_PEAK 0.891251 /* −1 dBFS: slots never overlap, so nothing can clip */

/* Slot length in samples for a mean blue b in [0, 1]. */
static int64_t slot_len(double b, double dmin, double dmax, double sr) {
  int64_t len = llround((dmin + (dmax - dmin) * b) * sr);
  return len < 1 ? 1 : len;
}

a2i2a_status reading_scan(const reading_input *in, audio_buf *out) {
  const image_u8 *img = in->img;
  const int w = img->w, h = img->h;
  const a2i2a_i2a_params set = reading_settings(in, reading_scan);
  const double sr = set.sample_rate, fmin = set.fmin, fmax = set.fmax;
  /* --seconds sets the longest slot (a fully blue column); the shortest is a tenth of it */
  const double dmax = set.seconds, dmin = dmax / 10;
  if (w < 1 || h < 1) return fail(A2I2A_ERR_UNSUPPORTED, "%s: empty image", in->label);
  if (!(fmax > fmin) || fmin <= 0 || 1.5 * fmax >= sr / 2)
    return fail(A2I2A_ERR_PARAM, "scan: need 0 < fmin < fmax and 1.5·fmax below Nyquist (%g, %g Hz)", fmin, fmax);
  double *mean = xcalloc(3 * (size_t)w, sizeof(double), "scan: column means");
  if (!mean) return A2I2A_ERR_NOMEM;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int c = 0; c < 3; c++) mean[3 * x + c] += img->px[((size_t)y * w + x) * 3 + c] / 255.0;
  int64_t n = 0;
  for (int x = 0; x < w; x++) {
    for (int c = 0; c < 3; c++) mean[3 * x + c] /= h;
    n += slot_len(mean[3 * x + 2], dmin, dmax, sr);
  }
  if (n > (int64_t)(sr * 3600)) return free(mean), fail(A2I2A_ERR_LIMIT, "%s: the scan would last over an hour", in->label);
  a2i2a_status st = audio_alloc(out, 1, n, sr);
  if (st) return free(mean), st;
  int64_t start = 0;
  const int64_t fade_max = (int64_t)(0.005 * sr);
  for (int x = 0; x < w; x++) {
    int64_t len = slot_len(mean[3 * x + 2], dmin, dmax, sr);
    double f = fmin * pow(fmax / fmin, mean[3 * x]), amp = SCAN_PEAK * (0.2 + 0.8 * mean[3 * x + 1]);
    double dur = len / sr, beta = 0.5 * f / dur; /* f → 1.5 f over the slot */
    int64_t fade = len / 4 < fade_max ? len / 4 : fade_max;
    for (int64_t i = 0; i < len; i++) {
      double t = i / sr, env = 1;
      if (i < fade) env = 0.5 - 0.5 * cos(M_PI * (i + 0.5) / fade);
      if (len - 1 - i < fade) env = 0.5 - 0.5 * cos(M_PI * (len - 1 - i + 0.5) / fade);
      out->x[start + i] = (float)(amp * env * sin(2 * M_PI * (f * t + 0.5 * beta * t * t)));
    }
    start += len;
  }
  free(mean);
  return A2I2A_OK;
}

reading_memory reading_scan_memory(const reading_input *in) {
  const a2i2a_i2a_params set = reading_settings(in, reading_scan);
  /* every column a fully blue one's slot, at most the hour the reading takes on */
  const double n = fmin(in->img->w * (set.seconds * set.sample_rate + 1), set.sample_rate * 3600);
  return (reading_memory){4 * n, 24.0 * in->img->w};
}
