/* The readings: each is one idea of what an image means as sound, in its own file
 * (reading_<name>.c), listed in one table (readings.c). docs/readings.md describes them. */
#ifndef A2I2A_READINGS_H
#define A2I2A_READINGS_H

#include <stdint.h>
#include "a2i2a.h"
#include "audio/audio.h"
#include "common/rng.h"
#include "image/image.h"
#include "vocoder/vocoder.h"

typedef struct {
  const image_u8 *img;    /* RGB (c = 3), row 0 = top */
  const png_meta *meta;   /* the PNG's text/eXIf chunks, or NULL */
  const char *label;      /* names the image in errors */
  a2i2a_i2a_params p;     /* seed, Griffin-Lim iterations, ... (0 = the reading's default) */
  a2i2a_job *job;         /* cancel: long readings poll it (Griffin-Lim between iterations) */
} reading_input;

/* Fills out (allocated by the reading) with the sound; on failure out is left empty. */
typedef a2i2a_status (*reading_fn)(const reading_input *in, audio_buf *out);

/* What a reading takes at its peak, in bytes: the sound it returns (kept until i2a has run
 * every reading asked for) and the working memory it frees before returning. Estimated from
 * the image's size (inverse: and its metadata) before any reading runs, so that i2a can
 * refuse a job that does not fit (common/memory.h). An image the reading would refuse may
 * give any estimate: the reading's own error is the one the user sees. */
typedef struct {
  double sound, work;
} reading_memory;
typedef reading_memory (*reading_memory_fn)(const reading_input *in);

typedef struct {
  union { /* the registry entry: name, one-line description, JSON of the settings it takes */
    a2i2a_entry entry;
    struct {
      const char *name, *description, *json;
    };
  };
  reading_fn run;
  reading_memory_fn memory;
  /* the defaults of the settings it takes (a2i2a_i2a_params); 0: it does not take it */
  double seconds, sample_rate, fmin, fmax;
  int needs_vocoder; /* it cannot run without a2i2a_i2a_params.vocoder: "all" leaves it out then */
} reading_def;

/* The level of every reading once made (a2i2a_i2a_params' loudness and true_peak): brought to
 * the loudness asked for, under the true-peak ceiling, with a note in the job's log when the
 * ceiling holds it lower or the sound has no loudness to measure. Nothing when loudness is 0. */
a2i2a_status reading_loudness(audio_buf *sound, const a2i2a_i2a_params *p, const char *name, a2i2a_job *job);

/* The largest STFT (bins × frames) the inverse reading rebuilds with Griffin-Lim. */
#define READING_INVERSE_MAX_CELLS ((int64_t)1 << 25)

/* The readings' registry (A2I2A_LIST_READINGS; common/registry.h). */
extern const struct registry_table reading_registry;
const reading_def *reading_find(const char *name);
int reading_count(void);
const reading_def *reading_at(int i);
/* "a,b,c" or "all" into table rows (each once, in the order given; at most max), the one
 * parser of a reading list (i2a and run). "all" is every reading that can run with p (the vocoder
 * reading only with p->vocoder; p may be NULL). A2I2A_ERR_PARAM naming an unknown or empty name,
 * or a reading named without what it needs. */
a2i2a_status reading_list_parse(const char *list, const a2i2a_i2a_params *p, const reading_def **out, int max,
                                int *n);
/* in->p with each of seconds, sample_rate, fmin and fmax that the reading self takes and that
 * is 0 replaced by its default from the table. */
a2i2a_i2a_params reading_settings(const reading_input *in, reading_fn self);

/* The readings (one file each), each with its memory estimate. */
a2i2a_status reading_red(const reading_input *in, audio_buf *out);
a2i2a_status reading_rgb_mean(const reading_input *in, audio_buf *out);
a2i2a_status reading_chirp(const reading_input *in, audio_buf *out);
a2i2a_status reading_inverse(const reading_input *in, audio_buf *out);
a2i2a_status reading_sines(const reading_input *in, audio_buf *out);
a2i2a_status reading_noise(const reading_input *in, audio_buf *out);
a2i2a_status reading_scan(const reading_input *in, audio_buf *out);
a2i2a_status reading_bend(const reading_input *in, audio_buf *out);
reading_memory reading_red_memory(const reading_input *in);
reading_memory reading_rgb_mean_memory(const reading_input *in);
reading_memory reading_chirp_memory(const reading_input *in);
reading_memory reading_inverse_memory(const reading_input *in);
reading_memory reading_sines_memory(const reading_input *in);
reading_memory reading_noise_memory(const reading_input *in);
reading_memory reading_scan_memory(const reading_input *in);
reading_memory reading_bend_memory(const reading_input *in);
reading_memory reading_vocoder_memory(const reading_input *in);
a2i2a_status reading_vocoder(const reading_input *in, audio_buf *out);



/* ---- the spectrogram an image describes (reading_inverse.c): what `inverse` hears before it
 * recovers the phases, and what the vocoder reading gives a vocoder. */
typedef struct {
  float *mag;           /* [channels][bins][frames] linear STFT magnitudes: bin k is k·rate/n_fft Hz,
                           frame t is centred on sample t·hop (torch.stft's centred frames) */
  int channels, bins, frames;
  int n_fft, hop, win_length; /* the STFT: a periodic Hann of win_length centred in n_fft */
  double rate;          /* Hz */
  int64_t samples;      /* the sound's length (Griffin-Lim's hop·(frames − 1), cut or padded) */
  float unit;           /* mag × unit is in full-scale units (±1 samples) */
  int level_known;      /* 0: the image does not say how loud (the seed conventions, Riffusion
                           without MAX_VALUE) */
  int silent;           /* an image of silence: every magnitude 0 */
  uint64_t rng_skip;    /* generator draws before each channel's Griffin-Lim (Riffusion's
                           InverseMelScale start) */
  const char *style;    /* "fullband", "seed", "riffusion", or NULL: no metadata, the seed convention */
} image_spectrogram;

/* The spectrogram of in's image, by its metadata (reading_inverse.c's header says how); errors name
 * the image. image_spectrogram_free frees mag. */
a2i2a_status image_spectrogram_estimate(const reading_input *in, image_spectrogram *s);
void image_spectrogram_free(image_spectrogram *s);

/* The vocoder reading's first half (reading_vocoder.c): the features f of each channel of the
 * image's spectrogram s on `frames` frames of the vocoder's grid, mel [channels][n_mels][frames];
 * an image whose level is not known is read with its loudest frame at −14 dBFS RMS. */
a2i2a_status vocoder_mel_of_image(const image_spectrogram *s, const vocoder_features *f, int frames, float *mel);

/* ---- shared pieces of the notebook's readings (reading_seed.c) */

/* The Griffin-Lim target of one channel (0 = R, 1 = G, 2 = B), README §5.1:
 * M[k][t] = sqrt(10^((80c − 80)/20)) with c = u8/255, row k = bin k, column t = frame t. */
void seed_magnitude(const image_u8 *img, int channel, float *mag);
void seed_magnitude_lut(float lut[256]); /* the 256 values of M per 8-bit level */
/* Griffin-Lim of one channel with the notebook's settings (n_fft 2(H−1), hop H−1, 32
 * iterations unless iters > 0), random start from rng; y gets (H−1)(W−1) samples.
 * seed_griffinlim_memory: what it takes besides y. */
a2i2a_status seed_griffinlim(const image_u8 *img, int channel, int iters, torch_rng *rng, a2i2a_job *job,
                             float *y);
double seed_griffinlim_memory(const image_u8 *img);
/* Checks the image is large enough for the notebook's Griffin-Lim geometry. */
a2i2a_status seed_check_geometry(const reading_input *in);
/* Advances the generator by n torch.rand floats (n 32-bit outputs). */
void rng_skip(torch_rng *g, uint64_t n);
/* x /= max|x| in float32 (unchanged if max is 0). */
void normalise_peak(float *x, int64_t n);
/* Scales x so that its peak is `peak` (unchanged if silent). */
void normalise_to(float *x, int64_t n, float peak);
/* Sets a's peak to −1 dBFS if it is above it, or always when the level is not known. */
void settle_level(audio_buf *a, int level_known);

/* The phase vocoder "stretch" of cell 20, exactly as torchaudio computes it on a real
 * waveform (README §5.5): out (and the intermediates, which may be NULL) get
 * pv_stretch3_len(n) = ceil(n / (1/3)) samples (3n in practice). */
int64_t pv_stretch3_len(int64_t n);
void pv_stretch3(const float *m, int64_t n, float *out, float *time_steps, float *mag, float *phase_acc);
/* torch's float32 arange(0, n_out·step, step) with its AVX2 8-wide/16-tail rounding pattern. */
void torch_arange_f32(int64_t n_out, double step, float *ts);

/* The chirp sum of cell 21 from per-column means (README §5.6): col_r, col_g [ncols] in
 * [0, 1]; out gets n samples over `seconds` (numpy linspace, endpoint included). */
void chirp_sum(const double *col_r, const double *col_g, int ncols, int64_t n, double seconds, float *out);

/* Inverts a mel filter bank (mel_inverse.c): fb [n_freqs][n_mels] (mel_filterbank's layout),
 * mel [n_mels][frames] = fbᵀ·s for an unknown non-negative s; spec [n_freqs][frames] gets the
 * non-negative s = fb·z that best matches it (projected Gauss–Seidel, at most `sweeps` sweeps
 * per frame, 0 = 200). */
a2i2a_status mel_invert(const float *fb, int n_freqs, int n_mels, const float *mel, int64_t frames, int sweeps,
                        float *spec);

/* ---- shared pieces of our own readings (reading_common.c) */

/* For readings that give every row a pitch: the image must not be empty, and the band of
 * their settings s (reading_settings) must have 0 < fmin < fmax (errors name the reading). */
a2i2a_status reading_band(const reading_input *in, const char *name, const a2i2a_i2a_params *s);
/* Brightness max(R, G, B) as an amplitude on a 60 dB scale: 255 → 1, 1 → 10^-3, 0 → 0. */
float pixel_level(const uint8_t *rgb);
/* Colour as equal-power stereo pan: red left, green right, yellow centre; pure red gives
 * exactly 0 on the right, pure green exactly 0 on the left; grey and blue are centred. */
void pixel_pan(const uint8_t *rgb, float *gain_left, float *gain_right);
/* Row frequency on a log axis: top row = fmax, bottom row = fmin. */
double row_frequency(int row, int h, double fmin, double fmax);
/* Raised-cosine fade-in and fade-out of `fade` samples on planar channels. */
void fade_edges(float *x, int channels, int64_t n, int64_t fade);

#endif
