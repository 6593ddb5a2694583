/* Spectrogram styles of the a2i stage (audio → image), one file per style, and the
 * parameters every image carries so that a reading can undo it.
 *
 * SHARED with the readings (the `inverse` and `riffusion` readings parse what is declared
 * here): extend, do not change. The full description is docs/styles.md.
 *
 * Every PNG written by a2i carries a text chunk with key A2I_JSON_KEY ("a2i2a") holding one
 * JSON object. For the "fullband" style it has everything needed to turn pixels back into a
 * mel power spectrogram at the original level (schema version 1):
 *
 *   {"format": "a2i2a-spectrogram", "version": 1, "style": "fullband",
 *    "sample_rate": 44100,            analysis rate (Hz) — the input is resampled to it
 *    "source_sample_rate": 48000, "source_channels": 2,
 *    "samples": 132300,               analysed samples per channel, at sample_rate
 *    "channels": 1 | 2,               panels stacked vertically: channel 0 (left, or the mono
 *                                     downmix) on top, channel 1 (right) below it
 *    "n_fft": 4096, "hop": 441, "win_length": 4096,
 *    "window": "hann-periodic", "center": true, "pad": "reflect",  (torch.stft conventions)
 *    "frequency_scale": "mel", "mel_scale": "slaney" | "htk", "mel_norm": "none" | "slaney",
 *    "fmin": 20, "fmax": 20000, "bands": 512,    mel bands per panel = rows per panel
 *    "width": W, "height": H,         H = channels·bands, W = frames = 1 + samples/hop
 *                                     (fewer when --width asked for: the first W frames)
 *    "orientation": "low-frequencies-at-bottom",  row r of a panel is band bands−1−r
 *    "value": "mel-power-db",         P[m][t] = Σ_k fb[k][m]·|X[k][t]|² (X the unnormalised
 *                                     STFT of the samples in ±1 units, fb = mel_filterbank
 *                                     (n_fft/2+1, fmin, fmax, bands, sample_rate, scale, norm)),
 *                                     dB = 10·log10(max(P, 1e-12))
 *    "db_max": 61.2, "db_range": 80,  colour-map index i (0..255) = floor(256·v) with
 *                                     v = (dB − (db_max − db_range))/db_range clamped to [0,1]
 *                                     (255 for v = 1); back: dB = db_max − db_range +
 *                                     db_range·(i + 0.5)/256 (colormap_invert gives (i+0.5)/256)
 *    "colormap": "ember",             image.h colormap_* name
 *    "peak": 0.891,                   max |x| over the analysed samples (all channels), for
 *                                     restoring loudness; "peak_dbfs": 20·log10(peak) or null
 *    "rms": 0.12,                     RMS over all analysed samples and channels
 *    "silent": false}                 true when every sample is 0 (then db_max = −120 +
 *                                     db_range and the image is colour index 0)
 *
 * The seed and riffusion styles write a shorter object ("style", "sample_rate",
 * "source_sample_rate", "source_channels", "samples", "channels", "n_fft", "hop",
 * "win_length", "width", "height"); Riffusion images also carry Riffusion's own eXIf chunk. */
#ifndef A2I2A_A2I_STYLES_H
#define A2I2A_A2I_STYLES_H

#include <stddef.h>
#include <stdint.h>
#include "a2i2a.h"
#include "audio/audio.h"
#include "image/image.h"

#define A2I_JSON_KEY "a2i2a"
#define A2I_JSON_FORMAT "a2i2a-spectrogram"
#define A2I_JSON_VERSION 1

/* The fullband style's dynamic range (--db-range, the parameters' table) and the largest
 * |db_max| a chunk may state: 10^(300/10) is still a float. */
#define A2I_DB_RANGE_MIN 10
#define A2I_DB_RANGE_MAX 200
#define A2I_DB_MAX_ABS 300

typedef struct {
  char style[32];           /* "fullband", "seed", "riffusion" */
  int version;
  double sample_rate, source_sample_rate;
  int source_channels;
  int64_t samples;
  int channels;             /* panels (fullband), 1 or 2 */
  int n_fft, hop, win_length;
  char mel_scale[16];       /* "slaney" or "htk" */
  int mel_norm;             /* 0 none, 1 Slaney area normalisation */
  double fmin, fmax;
  int bands;
  int width, height;
  double db_max, db_range;
  char colormap[32];
  double peak, rms;
  int silent;
} a2i_style_params;

/* Parses the JSON of an image's A2I_JSON_KEY text chunk. A2I2A_ERR_FORMAT with a one-line
 * reason if the chunk is missing, is not JSON, has another "format", a newer "version", or
 * (for "fullband") lacks or has out-of-range fields. */
a2i2a_status a2i_style_params_from_png_meta(const png_meta *meta, a2i_style_params *p);
a2i2a_status a2i_style_params_from_json(const char *json, a2i_style_params *p);
/* The JSON text for p (malloc'd; NULL on out of memory). */
char *a2i_style_params_to_json(const a2i_style_params *p);
/* Level mapping of the fullband style (see above). */
static inline double a2i_level_to_db(const a2i_style_params *p, int index) {
  return p->db_max - p->db_range + p->db_range * ((double)index + 0.5) / 256.0;
}

/* ---------------------------------------------------------------- Riffusion's eXIf chunk */
typedef struct {
  int sample_rate, stereo, step_size_ms, window_duration_ms, padded_duration_ms;
  int num_frequencies, min_frequency, max_frequency;
  double power_for_image, max_value;
  int has_max_value;
  int tags; /* riffusion_exif_read: how many of the tags 11000–11080 the block has */
} riffusion_exif;

/* The 150-byte big-endian TIFF block Riffusion (Pillow) writes; returns its length. */
size_t riffusion_exif_write(const riffusion_exif *e, uint8_t out[256]);
/* Reads tags 11000–11080 from a TIFF block in either byte order (SHORT, LONG, FLOAT or DOUBLE
 * values; MAX_VALUE optional). A2I2A_ERR_FORMAT if it is not TIFF, a required tag is missing
 * or a value lies outside its bounds (docs/reliability.md); e->tags counts the Riffusion tags
 * found, so that a caller can tell a broken Riffusion block (tags > 0) from another EXIF. */
a2i2a_status riffusion_exif_read(const uint8_t *tiff, size_t len, riffusion_exif *e);
riffusion_exif riffusion_exif_default(void);

/* ---------------------------------------------------------------- the styles
 * Their registry (A2I2A_LIST_STYLES; common/registry.h): the table in a2i.c with each
 * style's defaults and limits. */
extern const struct registry_table a2i_style_registry;

/* What a style makes of a sound, known from its length alone, before any work (a2i2a_run's
 * preflight): the picture, the STFT behind it (what the inverse reading rebuilds), and the
 * shortest sound the whole chain can take in the style (the painting is at least 8 pixels wide
 * and the inverse reading needs a few STFT frames). */
typedef struct {
  int width, height;  /* the picture */
  int64_t columns;    /* its STFT frames (seed: before the resize to width) */
  int bins;           /* n_fft/2 + 1 of that STFT */
  int64_t min_frames; /* the shortest sound, in frames at its own rate */
} a2i_plan;

/* The plan of p's style for a sound of frames × channels at rate Hz (name names it in errors):
 * A2I2A_ERR_LIMIT when it is longer than the style's limit (p->max_seconds or the style's), with
 * a2i's own message; A2I2A_ERR_PARAM for parameters the style refuses. */
a2i2a_status a2i_plan_sound(const a2i2a_a2i_params *p, int64_t frames, double rate, int channels, const char *name,
                            a2i_plan *plan);
/* Whether the style (NULL: seed) keeps left and right apart (a2i.stereo). */
int a2i_style_stereo(const char *style);
/* Each style's plan; p has the style's defaults filled in. */
void a2i_plan_seed(const a2i2a_a2i_params *p, int64_t frames, double rate, a2i_plan *plan);
void a2i_plan_riffusion(const a2i2a_a2i_params *p, int64_t frames, double rate, a2i_plan *plan);
void a2i_plan_fullband(const a2i2a_a2i_params *p, int64_t frames, double rate, a2i_plan *plan);
/* Frames at rate to after soxr's one-shot resampling (audio_resample). */
static inline int64_t a2i_frames_at(int64_t frames, double rate, double to) {
  return rate == to ? frames : (int64_t)((double)frames * to / rate + 0.5);
}
/* The fewest frames at rate that become at least n frames at to. */
static inline int64_t a2i_frames_for(int64_t n, double rate, double to) {
  int64_t f = (int64_t)((double)n * rate / to);
  while (f > 0 && a2i_frames_at(f - 1, rate, to) >= n) f--;
  while (a2i_frames_at(f, rate, to) < n) f++;
  return f;
}

/* Each takes the decoded audio (any rate, any channel count) and fills img and meta.
 * p has already been given the style's defaults (the STYLES table in a2i.c). */
a2i2a_status a2i_style_seed(const audio_buf *a, const a2i2a_a2i_params *p, image_u8 *img, png_meta *meta);
a2i2a_status a2i_style_riffusion(const audio_buf *a, const a2i2a_a2i_params *p, image_u8 *img, png_meta *meta);
a2i2a_status a2i_style_fullband(const audio_buf *a, const a2i2a_a2i_params *p, image_u8 *img, png_meta *meta);

/* Stages of the seed style, for tests and for other code that wants them:
 * the mean over channels of the n_fft-512 power spectrograms ([257][T], T = 1 + n/256, n
 * zero-padded to 257 if shorter); dB; and the min–max/truncation to uint8 (a constant input
 * gives all 0). */
a2i2a_status seed_power(const audio_buf *a, float **power, int64_t *frames);
void seed_db_to_u8(const float *db, size_t n, uint8_t *u8);

/* The samples entering Riffusion's STFT: resampled to 44.1 kHz, int16 values as float
 * (rint(x·32768) clamped), planar; stereo = 0: one channel, floor(0.5·L + 0.5·R) for stereo
 * input (pydub/audioop); stereo = 1: two (a mono input duplicated). More than two channels
 * are first averaged to mono. */
a2i2a_status riffusion_samples(const audio_buf *a, int stereo, float **x, int64_t *frames);
/* Riffusion's mel amplitudes [512][W] from int16-valued samples (one channel). */
a2i2a_status riffusion_mel(const float *x, int64_t n, float **mel, int64_t *frames);
/* v = 255 − 255·(mel/max)^0.25 truncated, flipped (row 0 = highest band); channels 1 or 2
 * (stereo: R = 0, G = channel 0, B = channel 1, one max over both). max 0 → all 255. */
void riffusion_mel_to_image(const float *mel, int channels, int64_t frames, float max_value, image_u8 *img);

#endif
