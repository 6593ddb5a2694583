/* "inverse": a faithful reading of a spectrogram image — it undoes the image using what the
 * image says about itself, in this order:
 *  - our own "a2i2a" JSON chunk (src/a2i/styles.h, docs/styles.md): "fullband" images give
 *    back mel power at its absolute level (colour map inverted, dB → power, the recorded mel
 *    bank inverted by non-negative least squares, Griffin-Lim with the recorded STFT, both
 *    panels for stereo, the original length and rate); "seed" images are resized back to
 *    257 bins × T frames and read with the seed convention at the original rate;
 *  - Riffusion's eXIf chunk (README §7): R channel (G, B for stereo), flipped, x^(1/power)
 *    times MAX_VALUE (30e6, Riffusion's fixed guess, when the tag is missing), the HTK mel
 *    bank inverted by non-negative least squares (not Riffusion's 200 SGD steps from noise),
 *    fast Griffin-Lim, original sample rate and level;
 *  - nothing: the seed convention (README §5.1) on the mean of R, G and B — row k = bin k of
 *    an n_fft = 2(H − 1) STFT, 80 dB power scale, Griffin-Lim, peak-normalised, 24 kHz.
 * The first half of each, the linear magnitude spectrogram the image describes, is
 * image_spectrogram_estimate (readings.h), which the vocoder reading shares. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "a2i/styles.h"
#include "audio/griffinlim.h"
#include "common/err.h"
#include "readings/readings.h"

/* Largest STFT (bins × frames) the Griffin-Lim based readings take on: 3 complex double
 * buffers of this size is ~800 MB. */
#define INVERSE_MAX_CELLS READING_INVERSE_MAX_CELLS

/* Riffusion's STFT in samples, from its milliseconds. */
static void riffusion_stft(const riffusion_exif *r, int *n_fft, int *hop, int *win) {
  const double sr = r->sample_rate;
  *n_fft = (int)lround(r->padded_duration_ms * sr / 1000);
  *hop = (int)lround(r->step_size_ms * sr / 1000);
  *win = (int)lround(r->window_duration_ms * sr / 1000);
}

static a2i2a_status spectrogram_riffusion(const reading_input *in, const riffusion_exif *r, image_spectrogram *s) {
  const image_u8 *img = in->img;
  const int H = img->h, W = img->w;
  const double sr = r->sample_rate;
  int n_fft, hop, win;
  riffusion_stft(r, &n_fft, &hop, &win);
  if (!(sr >= 1000 && sr <= 384000) || n_fft < 16 || n_fft % 2 || hop < 1 || win < 2 || win > n_fft ||
      !(r->power_for_image > 0) || r->max_frequency <= r->min_frequency || r->max_frequency > sr / 2)
    return fail(A2I2A_ERR_FORMAT, "%s: Riffusion EXIF with unusable parameters (%g Hz, n_fft %d, hop %d, window %d)",
                in->label, sr, n_fft, hop, win);
  if (H < 2 || W < 3) return fail(A2I2A_ERR_UNSUPPORTED, "%s: %dx%d is too small to invert", in->label, W, H);
  const int bins = n_fft / 2 + 1, channels = r->stereo ? 2 : 1;
  if ((int64_t)bins * W > INVERSE_MAX_CELLS || (int64_t)bins * H > INVERSE_MAX_CELLS)
    return fail(A2I2A_ERR_LIMIT, "%s: %d columns or %d rows of %d bins are more than this reading takes on", in->label,
                W, H, bins);
  const double max_value = r->has_max_value && r->max_value > 0 ? r->max_value : 30e6;
  *s = (image_spectrogram){.channels = channels, .bins = bins, .frames = W, .n_fft = n_fft, .hop = hop,
                           .win_length = win, .rate = sr, .samples = (int64_t)hop * (W - 1),
                           .unit = 1 / 32768.0f, /* int16 units */
                           .level_known = r->has_max_value, .rng_skip = (uint64_t)W * bins, .style = "riffusion"};
  float *fb = xmalloc(sizeof(float) * (size_t)bins * H, "inverse: mel filter bank");
  float *mel = xmalloc(sizeof(float) * (size_t)H * W, "inverse: mel");
  s->mag = xmalloc(sizeof(float) * (size_t)channels * bins * W, "inverse: spectrum");
  a2i2a_status st = A2I2A_ERR_NOMEM;
  if (!fb || !mel || !s->mag) goto done;
  if ((st = mel_filterbank(fb, bins, r->min_frequency, r->max_frequency, H, sr, MEL_HTK, 0))) goto done;
  for (int c = 0; c < channels && !st; c++) {
    /* mono: R; stereo: G = channel 0, B = channel 1 (R is empty) */
    const int plane = channels == 1 ? 0 : 1 + c;
    for (int m = 0; m < H; m++) /* row 0 = the highest band */
      for (int t = 0; t < W; t++) {
        double x = (255 - img->px[((size_t)(H - 1 - m) * W + t) * 3 + plane]) / 255.0;
        mel[(size_t)m * W + t] = (float)(pow(x, 1.0 / r->power_for_image) * max_value);
      }
    st = mel_invert(fb, bins, H, mel, W, 0, s->mag + (size_t)c * bins * W);
  }
done:
  free(fb), free(mel);
  if (st) image_spectrogram_free(s);
  return st;
}

/* ---------------------------------------------------------------- the seed convention */

static a2i2a_status spectrogram_seed(const reading_input *in, image_spectrogram *s) {
  a2i2a_status st = seed_check_geometry(in);
  if (st) return st;
  const image_u8 *img = in->img;
  const int H = img->h, W = img->w;
  if ((int64_t)H * W > INVERSE_MAX_CELLS)
    return fail(A2I2A_ERR_LIMIT, "%s: %dx%d is more than this reading takes on", in->label, W, H);
  *s = (image_spectrogram){.channels = 1, .bins = H, .frames = W, .n_fft = 2 * (H - 1), .hop = H - 1,
                           .win_length = 2 * (H - 1), .rate = 24000.0, .samples = (int64_t)(H - 1) * (W - 1),
                           .unit = 1};
  if (!(s->mag = xmalloc(sizeof(float) * (size_t)H * W, "inverse: magnitudes"))) return A2I2A_ERR_NOMEM;
  float lut[256];
  seed_magnitude_lut(lut);
  for (size_t i = 0; i < (size_t)H * W; i++) {
    const uint8_t *p = img->px + 3 * i;
    s->mag[i] = lut[(p[0] + p[1] + p[2] + 1) / 3];
  }
  return A2I2A_OK;
}

/* ---------------------------------------------------------------- our fullband style */

static a2i2a_status spectrogram_fullband(const reading_input *in, const a2i_style_params *sp, image_spectrogram *s) {
  const int W = sp->width, H = sp->height, C = sp->channels, B = sp->bands;
  const int bins = sp->n_fft / 2 + 1;
  if ((int64_t)bins * W > INVERSE_MAX_CELLS || (int64_t)bins * B > INVERSE_MAX_CELLS)
    return fail(A2I2A_ERR_LIMIT, "%s: %d columns or %d bands of %d bins are more than this reading takes on", in->label,
                W, B, bins);
  if (W < 3) return fail(A2I2A_ERR_UNSUPPORTED, "%s: %d columns are too few to invert", in->label, W);
  const int64_t n_gl = (int64_t)sp->hop * (W - 1);
  *s = (image_spectrogram){.channels = C, .bins = bins, .frames = W, .n_fft = sp->n_fft, .hop = sp->hop,
                           .win_length = sp->win_length, .rate = sp->sample_rate,
                           .samples = sp->samples > 0 ? sp->samples : n_gl, .unit = 1, .level_known = 1,
                           .silent = sp->silent, .style = "fullband"};
  if (!(s->mag = xcalloc((size_t)C * bins * W, sizeof(float), "inverse: spectrum"))) return A2I2A_ERR_NOMEM;
  if (sp->silent) return A2I2A_OK; /* all zeros */
  a2i2a_status st;
  /* an image resized since (by Stable Diffusion, say) goes back to the recorded size */
  image_u8 sized = {0};
  const image_u8 *img = in->img;
  if (img->w != W || img->h != H) {
    if ((st = image_resize_bicubic(in->img, W, H, &sized))) return image_spectrogram_free(s), st;
    img = &sized;
  }
  float *v = xmalloc(sizeof(float) * (size_t)W * H, "inverse: levels");
  float *fb = xmalloc(sizeof(float) * (size_t)bins * B, "inverse: mel filter bank");
  float *mel = xmalloc(sizeof(float) * (size_t)B * W, "inverse: mel");
  st = A2I2A_ERR_NOMEM;
  if (!v || !fb || !mel) goto done;
  if ((st = colormap_invert(sp->colormap, img->px, (size_t)W * H, v))) goto done;
  if ((st = mel_filterbank(fb, bins, sp->fmin, sp->fmax, B, sp->sample_rate,
                           strcmp(sp->mel_scale, "htk") ? MEL_SLANEY : MEL_HTK, sp->mel_norm)))
    goto done;
  for (int c = 0; c < C && !st; c++) {
    /* colour → index centre → dB → mel power; panel c, lowest band at the bottom */
    for (int m = 0; m < B; m++)
      for (int t = 0; t < W; t++) {
        double db = sp->db_max - sp->db_range + sp->db_range * v[((size_t)c * B + B - 1 - m) * W + t];
        mel[(size_t)m * W + t] = (float)pow(10.0, db / 10);
      }
    float *spec = s->mag + (size_t)c * bins * W;
    if ((st = mel_invert(fb, bins, B, mel, W, 0, spec))) break;
    for (size_t i = 0; i < (size_t)bins * W; i++) spec[i] = sqrtf(spec[i]); /* power → magnitude */
  }
done:
  if (st) image_spectrogram_free(s);
  image_free(&sized);
  free(v), free(fb), free(mel);
  return st;
}

/* ---------------------------------------------------------------- our seed-style images */

/* The seed style's own images know their STFT and length: the 400×300 picture goes back to
 * 257 bins × T frames (BICUBIC), then the seed convention (80 dB power scale), at the
 * original sample rate. The min–max dB range is not recorded, so the level is not known. */
static a2i2a_status spectrogram_seed_style(const reading_input *in, const a2i_style_params *sp, image_spectrogram *s) {
  const int bins = sp->n_fft / 2 + 1, T = (int)(1 + sp->samples / sp->hop);
  if (sp->n_fft < 4 || sp->hop < 1 || T < 3 || (int64_t)bins * T > INVERSE_MAX_CELLS)
    return fail(A2I2A_ERR_FORMAT, "%s: seed-style metadata with unusable STFT (n_fft %d, hop %d, %lld samples)",
                in->label, sp->n_fft, sp->hop, (long long)sp->samples);
  const int64_t n_gl = (int64_t)sp->hop * (T - 1);
  *s = (image_spectrogram){.channels = 1, .bins = bins, .frames = T, .n_fft = sp->n_fft, .hop = sp->hop,
                           .win_length = sp->win_length > 0 ? sp->win_length : sp->n_fft, .rate = sp->sample_rate,
                           .samples = sp->samples > n_gl ? sp->samples : n_gl, .unit = 1, .style = "seed"};
  image_u8 back = {0};
  a2i2a_status st = image_resize_bicubic(in->img, T, bins, &back);
  if (st) return st;
  if ((s->mag = xmalloc(sizeof(float) * (size_t)bins * T, "inverse: magnitudes"))) {
    float lut[256];
    seed_magnitude_lut(lut);
    for (size_t i = 0; i < (size_t)bins * T; i++) {
      const uint8_t *p = back.px + 3 * i;
      s->mag[i] = lut[(p[0] + p[1] + p[2] + 1) / 3];
    }
  }
  image_free(&back);
  return s->mag ? A2I2A_OK : A2I2A_ERR_NOMEM;
}

/* ---------------------------------------------------------------- which of them */

typedef enum { SAYS_BROKEN, SAYS_FULLBAND, SAYS_SEED_STYLE, SAYS_RIFFUSION, SAYS_NOTHING } image_says;

/* What the image says about itself, in the order of the comment at the top: our chunk (sp),
 * Riffusion's eXIf (r; also for our riffusion-style chunk without one), or nothing.
 * SAYS_BROKEN, with the error recorded, when what it says cannot be read. */
static image_says what_image_says(const reading_input *in, a2i_style_params *sp, riffusion_exif *r) {
  int has_json = in->meta && png_meta_get(in->meta, A2I_JSON_KEY);
  if (has_json) {
    if (a2i_style_params_from_png_meta(in->meta, sp)) {
      fail_prefix(in->label);
      return SAYS_BROKEN;
    }
    if (!strcmp(sp->style, "fullband")) return SAYS_FULLBAND;
    if (!strcmp(sp->style, "seed")) return SAYS_SEED_STYLE;
  }
  if (in->meta && in->meta->exif) {
    if (!riffusion_exif_read(in->meta->exif, in->meta->exif_len, r)) return SAYS_RIFFUSION;
    if (r->tags) { /* Riffusion's block, but broken: not another program's EXIF to pass over */
      fail_prefix(in->label);
      return SAYS_BROKEN;
    }
  }
  if (has_json && !strcmp(sp->style, "riffusion")) { /* the EXIF went missing: Riffusion's defaults */
    *r = riffusion_exif_default();
    r->sample_rate = (int)sp->sample_rate;
    r->stereo = sp->channels == 2;
    return SAYS_RIFFUSION;
  }
  fail_clear();
  return SAYS_NOTHING;
}

a2i2a_status image_spectrogram_estimate(const reading_input *in, image_spectrogram *s) {
  memset(s, 0, sizeof *s);
  a2i_style_params sp;
  riffusion_exif r;
  switch (what_image_says(in, &sp, &r)) {
  case SAYS_FULLBAND: return spectrogram_fullband(in, &sp, s);
  case SAYS_SEED_STYLE: return spectrogram_seed_style(in, &sp, s);
  case SAYS_RIFFUSION: return spectrogram_riffusion(in, &r, s);
  case SAYS_NOTHING: return spectrogram_seed(in, s);
  default: return A2I2A_ERR_FORMAT;
  }
}

void image_spectrogram_free(image_spectrogram *s) {
  free(s->mag);
  s->mag = NULL;
}

/* Griffin-Lim on each channel of the estimate, then each kind's level rule. */
a2i2a_status reading_inverse(const reading_input *in, audio_buf *out) {
  image_spectrogram s;
  a2i2a_status st = image_spectrogram_estimate(in, &s);
  if (st) return st;
  const int64_t n = s.samples, n_gl = (int64_t)s.hop * (s.frames - 1);
  float *y = xmalloc(sizeof(float) * (size_t)n_gl, "inverse: waveform");
  if (!y) st = A2I2A_ERR_NOMEM;
  if (!st) st = audio_alloc(out, s.channels, n, s.rate);
  torch_rng g;
  rng_seed(&g, in->p.seed);
  for (int c = 0; c < s.channels && !st && !s.silent; c++) {
    rng_skip(&g, s.rng_skip);
    griffinlim_params gp = griffinlim_default_params(s.n_fft, s.hop);
    gp.job = in->job;
    gp.win_length = s.win_length;
    if (in->p.gl_iters > 0) gp.iters = in->p.gl_iters;
    if ((st = griffinlim(s.mag + (size_t)c * s.bins * s.frames, s.frames, &gp, &g, y, NULL))) break;
    float *dst = out->x + (size_t)c * n;
    for (int64_t i = 0; i < n; i++) dst[i] = i < n_gl ? y[i] * s.unit : 0.0f;
  }
  free(y);
  image_spectrogram_free(&s);
  if (st) return audio_free(out), st;
  const int64_t all = (int64_t)out->channels * n;
  if (!s.style) {
    normalise_peak(out->x, all);
  } else if (!strcmp(s.style, "fullband")) {
    /* the dB values are absolute (±1 full scale), so the level is the original one; only a
     * peak above full scale (Griffin-Lim's phases differ) is lowered */
    double peak = 0;
    for (int64_t i = 0; i < all; i++) peak = fmax(peak, fabs(out->x[i]));
    if (peak > 0.999) normalise_to(out->x, all, 0.999f);
  } else {
    settle_level(out, s.level_known);
  }
  return A2I2A_OK;
}

/* Each way's buffers as allocated above, with Griffin-Lim's and the mel inversion's (its
 * n_mels² Gram matrix); nothing when the metadata is broken (the reading refuses it). */
reading_memory reading_inverse_memory(const reading_input *in) {
  a2i_style_params sp;
  riffusion_exif r;
  const image_u8 *img = in->img;
  const double H = img->h, W = img->w;
  switch (what_image_says(in, &sp, &r)) {
  case SAYS_FULLBAND: {
    const double bins = sp.n_fft / 2 + 1, B = sp.bands, w = sp.width, n_gl = (double)sp.hop * (sp.width - 1);
    const double n = sp.samples > 0 ? (double)sp.samples : n_gl;
    const double sized = img->w != sp.width || img->h != sp.height ? image_resize_memory(img, sp.width, sp.height) : 0;
    const double work = sized + 4 * (w * sp.height + bins * B + B * w + bins * w + n_gl) + 8 * B * B +
                        griffinlim_memory(sp.n_fft, sp.hop, sp.width);
    return (reading_memory){4 * sp.channels * n, work};
  }
  case SAYS_SEED_STYLE: {
    const int bins = sp.n_fft / 2 + 1, T = (int)fmin(1 + (double)sp.samples / sp.hop, 1 << 30);
    const double n_gl = (double)sp.hop * (T - 1);
    const double work = image_resize_memory(img, T, bins) + 4.0 * bins * T + 4 * n_gl + griffinlim_memory(sp.n_fft, sp.hop, T);
    return (reading_memory){4 * fmax((double)sp.samples, n_gl), work};
  }
  case SAYS_RIFFUSION: {
    int n_fft, hop, win;
    riffusion_stft(&r, &n_fft, &hop, &win);
    const double bins = n_fft / 2 + 1;
    const double work = 4 * (bins * H + H * W + bins * W) + 8 * H * H + griffinlim_memory(n_fft, hop, img->w);
    return (reading_memory){4.0 * (r.stereo ? 2 : 1) * hop * (W - 1), work};
  }
  case SAYS_NOTHING: return (reading_memory){4 * (H - 1) * (W - 1), seed_griffinlim_memory(img)};
  default: return (reading_memory){0, 0};
  }
}
