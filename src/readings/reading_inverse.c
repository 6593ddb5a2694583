/* "inverse": a faithful reading of a spectrogram image — it undoes the image using what the
 * image says about itself:
 *  - Riffusion's eXIf chunk (README §7): R channel, flipped, x⁴ (1/power_for_image) times
 *    MAX_VALUE (30e6, Riffusion's fixed guess, when the tag is missing), the HTK mel bank
 *    inverted by a non-negative least-squares fit (mel_inverse.c, not Riffusion's 200 SGD
 *    steps from noise), fast Griffin-Lim on the magnitudes, original sample rate and level;
 *  - nothing: the seed convention (README §5.1) on the mean of R, G and B — row k = bin k of
 *    an n_fft = 2(H − 1) STFT, 80 dB power scale, Griffin-Lim, peak-normalised, 24 kHz. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "audio/griffinlim.h"
#include "common/err.h"
#include "readings/readings.h"

/* Largest STFT (bins × frames) the Griffin-Lim based readings take on: 3 complex double
 * buffers of this size is ~800 MB. */
#define INVERSE_MAX_CELLS ((int64_t)1 << 25)

/* ---------------------------------------------------------------- Riffusion's EXIF */

typedef struct {
  int sample_rate, stereo, step_ms, window_ms, padded_ms, num_frequencies, fmin, fmax;
  double power, max_value;
  int has_max_value;
} riff_params;

static unsigned rd16(const uint8_t *p, int be) { return be ? (unsigned)p[0] << 8 | p[1] : (unsigned)p[1] << 8 | p[0]; }
static uint32_t rd32(const uint8_t *p, int be) {
  return be ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
            : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* 1 if the TIFF block holds Riffusion's tags 11000–11080 (either byte order). */
static int riffusion_exif(const uint8_t *t, size_t len, riff_params *r) {
  if (!t || len < 8) return 0;
  int be;
  if (t[0] == 'M' && t[1] == 'M' && rd16(t + 2, 1) == 42) be = 1;
  else if (t[0] == 'I' && t[1] == 'I' && rd16(t + 2, 0) == 42) be = 0;
  else return 0;
  uint32_t ifd = rd32(t + 4, be);
  if (ifd > len || len - ifd < 2) return 0;
  unsigned n = rd16(t + ifd, be);
  if ((len - ifd - 2) / 12 < n) return 0;
  int seen = 0;
  memset(r, 0, sizeof *r);
  for (unsigned i = 0; i < n; i++) {
    const uint8_t *e = t + ifd + 2 + 12 * i;
    unsigned tag = rd16(e, be), type = rd16(e + 2, be);
    uint32_t count = rd32(e + 4, be);
    double v;
    if (count != 1) continue;
    if (type == 3) v = rd16(e + 8, be);            /* SHORT, left-justified */
    else if (type == 4) v = rd32(e + 8, be);       /* LONG */
    else if (type == 12) {                          /* DOUBLE, at an offset */
      uint32_t off = rd32(e + 8, be);
      if (off > len || len - off < 8) return 0;
      uint64_t bits = 0;
      for (int k = 0; k < 8; k++) bits |= (uint64_t)t[off + (be ? k : 7 - k)] << (8 * (7 - k));
      memcpy(&v, &bits, 8);
    } else continue;
    switch (tag) {
      case 11000: r->sample_rate = (int)v, seen |= 1; break;
      case 11005: r->stereo = (int)v, seen |= 2; break;
      case 11010: r->step_ms = (int)v, seen |= 4; break;
      case 11020: r->window_ms = (int)v, seen |= 8; break;
      case 11030: r->padded_ms = (int)v, seen |= 16; break;
      case 11040: r->num_frequencies = (int)v, seen |= 32; break;
      case 11050: r->fmin = (int)v, seen |= 64; break;
      case 11060: r->fmax = (int)v, seen |= 128; break;
      case 11070: r->power = v, seen |= 256; break;
      case 11080: r->max_value = v, r->has_max_value = 1; break;
    }
  }
  return seen == 511;
}

/* Sets the peak to −1 dBFS if it is above it (or always, when the level is unknown). */
static void settle_level(audio_buf *a, int level_known) {
  const int64_t n = (int64_t)a->channels * a->frames;
  double peak = 0;
  for (int64_t i = 0; i < n; i++) peak = fmax(peak, fabs(a->x[i]));
  if (!level_known || peak > 0.891251) normalise_to(a->x, n, 0.891251f);
}

static a2i2a_status inverse_riffusion(const reading_input *in, const riff_params *r, audio_buf *out) {
  const image_u8 *img = in->img;
  const int H = img->h, W = img->w;
  const double sr = r->sample_rate;
  const int n_fft = (int)lround(r->padded_ms * sr / 1000), hop = (int)lround(r->step_ms * sr / 1000),
            win = (int)lround(r->window_ms * sr / 1000);
  if (!(sr >= 1000 && sr <= 384000) || n_fft < 16 || n_fft % 2 || hop < 1 || win < 2 || win > n_fft ||
      !(r->power > 0) || r->fmax <= r->fmin || r->fmax > sr / 2)
    return fail(A2I2A_ERR_FORMAT, "%s: Riffusion EXIF with unusable parameters (%g Hz, n_fft %d, hop %d, window %d)",
                in->label, sr, n_fft, hop, win);
  if (H < 2 || W < 3) return fail(A2I2A_ERR_UNSUPPORTED, "%s: %dx%d is too small to invert", in->label, W, H);
  const int bins = n_fft / 2 + 1, channels = r->stereo ? 2 : 1;
  if ((int64_t)bins * W > INVERSE_MAX_CELLS)
    return fail(A2I2A_ERR_LIMIT, "%s: %d columns of %d bins are more than this reading takes on", in->label, W, bins);
  const double max_value = r->has_max_value && r->max_value > 0 ? r->max_value : 30e6;
  float *fb = xmalloc(sizeof(float) * (size_t)bins * H, "inverse: mel filter bank");
  float *mel = xmalloc(sizeof(float) * (size_t)H * W, "inverse: mel");
  float *spec = xmalloc(sizeof(float) * (size_t)bins * W, "inverse: spectrum");
  a2i2a_status st = A2I2A_ERR_NOMEM;
  if (!fb || !mel || !spec) goto done;
  if ((st = mel_filterbank(fb, bins, r->fmin, r->fmax, H, sr, MEL_HTK, 0))) goto done;
  if ((st = audio_alloc(out, channels, (int64_t)hop * (W - 1), sr))) goto done;
  torch_rng g;
  rng_seed(&g, in->p.seed);
  for (int c = 0; c < channels && !st; c++) {
    /* mono: R; stereo: G = channel 0, B = channel 1 (R is empty) */
    const int plane = channels == 1 ? 0 : 1 + c;
    for (int m = 0; m < H; m++) /* row 0 = the highest band */
      for (int t = 0; t < W; t++) {
        double x = (255 - img->px[((size_t)(H - 1 - m) * W + t) * 3 + plane]) / 255.0;
        mel[(size_t)m * W + t] = (float)(pow(x, 1.0 / r->power) * max_value);
      }
    if ((st = mel_invert(fb, bins, H, mel, W, 0, spec))) break;
    /* Riffusion draws its InverseMelScale start (W × bins floats) before the angles */
    rng_skip(&g, (uint64_t)W * bins);
    griffinlim_params gp = griffinlim_default_params(n_fft, hop);
    gp.win_length = win;
    if (in->p.gl_iters > 0) gp.iters = in->p.gl_iters;
    st = griffinlim(spec, W, &gp, &g, out->x + (size_t)c * out->frames, NULL);
  }
  if (st) {
    audio_free(out);
    goto done;
  }
  /* int16 units back to ±1 */
  for (int64_t i = 0; i < (int64_t)channels * out->frames; i++) out->x[i] /= 32768.0f;
  settle_level(out, r->has_max_value);
done:
  free(fb), free(mel), free(spec);
  return st;
}

/* ---------------------------------------------------------------- the seed convention */

static a2i2a_status inverse_seed(const reading_input *in, audio_buf *out) {
  a2i2a_status st = seed_check_geometry(in);
  if (st) return st;
  const image_u8 *img = in->img;
  const int H = img->h, W = img->w;
  if ((int64_t)H * W > INVERSE_MAX_CELLS)
    return fail(A2I2A_ERR_LIMIT, "%s: %dx%d is more than this reading takes on", in->label, W, H);
  float *mag = xmalloc(sizeof(float) * (size_t)H * W, "inverse: magnitudes");
  if (!mag) return A2I2A_ERR_NOMEM;
  float lut[256];
  seed_magnitude_lut(lut);
  for (size_t i = 0; i < (size_t)H * W; i++) {
    const uint8_t *p = img->px + 3 * i;
    mag[i] = lut[(p[0] + p[1] + p[2] + 1) / 3];
  }
  if ((st = audio_alloc(out, 1, (int64_t)(H - 1) * (W - 1), 24000.0))) return free(mag), st;
  torch_rng g;
  rng_seed(&g, in->p.seed);
  griffinlim_params gp = griffinlim_default_params(2 * (H - 1), H - 1);
  if (in->p.gl_iters > 0) gp.iters = in->p.gl_iters;
  st = griffinlim(mag, W, &gp, &g, out->x, NULL);
  free(mag);
  if (st) return audio_free(out), st;
  normalise_peak(out->x, out->frames);
  return A2I2A_OK;
}

a2i2a_status reading_inverse(const reading_input *in, audio_buf *out) {
  riff_params r;
  if (in->meta && in->meta->exif && riffusion_exif(in->meta->exif, in->meta->exif_len, &r))
    return inverse_riffusion(in, &r, out);
  return inverse_seed(in, out);
}
