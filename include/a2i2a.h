/* a2i2a — sampling across media: sound → spectrogram image → Stable Diffusion → sound.
 *
 * The public API of liba2i2a. Conventions, as in libsndfile and stb:
 *  - every call returns an a2i2a_status; on failure a2i2a_last_error() gives one line
 *    naming the file and the problem (thread-local, valid until the next failing call);
 *  - parameters come in plain structs filled by *_default_params();
 *  - buffers handed out by the library are freed with a2i2a_free().
 *
 * Each stage section below is owned by the part of the code that implements it. */
#ifndef A2I2A_H
#define A2I2A_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ common */

typedef enum {
  A2I2A_OK = 0,
  A2I2A_ERR_IO,          /* cannot open, read or write a file */
  A2I2A_ERR_FORMAT,      /* the file exists but is not what it should be (corrupt, wrong type) */
  A2I2A_ERR_PARAM,       /* a parameter is out of range or inconsistent */
  A2I2A_ERR_NOMEM,       /* out of memory, or the job would not fit in memory */
  A2I2A_ERR_UNSUPPORTED, /* a valid input this version cannot handle */
  A2I2A_ERR_EXISTS,      /* the output exists and overwriting was not allowed */
  A2I2A_ERR_LIMIT,       /* the input is beyond a documented size or length limit */
  A2I2A_ERR_MODEL,       /* a model is missing, incomplete or inconsistent */
  A2I2A_ERR_INTERNAL     /* a bug: please report it */
} a2i2a_status;

const char *a2i2a_strerror(a2i2a_status status);
/* The last failure's one-line message in this thread ("" if none). */
const char *a2i2a_last_error(void);
const char *a2i2a_version(void);
void a2i2a_free(void *p);

/* Threads used by the numeric kernels (OpenMP and OpenBLAS together); 0 = physical cores. */
void a2i2a_set_threads(int n);
int a2i2a_get_threads(void);
/* Which matrix-multiply kernels run, e.g. "OpenBLAS SkylakeX kernels" (for reports). */
const char *a2i2a_blas_kernels(void);

/* ------------------------------------------------------------------------ a2i: audio → image */

typedef struct {
  const char *style;    /* "seed" (default), "riffusion" or "fullband" (docs/styles.md) */
  int width, height;    /* 0 = the style's default (seed 400×300; fullband 100 columns/s × 512;
                           riffusion refuses both: 100 columns/s × 512) */
  int stereo;           /* riffusion, fullband: keep left and right apart */
  double db_range;      /* fullband: dynamic range shown, 10..200 dB (0 = 80) */
  double fmin, fmax;    /* fullband: frequency axis in Hz (0 = 20, 20000) */
  const char *colormap; /* fullband: "ember" (NULL = default), "aurora", "grey" */
  double max_seconds;   /* longest input accepted (0 = seed 3600 s, the others 600 s) */
} a2i2a_a2i_params;

a2i2a_a2i_params a2i2a_a2i_default_params(void);
/* Reads any audio file libsndfile reads and writes a PNG that carries its own parameters (a
 * text chunk "a2i2a" with JSON; Riffusion's eXIf for the riffusion style). Fails, leaving no
 * file, on unreadable/empty/corrupt/truncated input (A2I2A_ERR_IO/FORMAT), inputs beyond
 * max_seconds (A2I2A_ERR_LIMIT), bad parameters (A2I2A_ERR_PARAM), an output folder that is
 * missing or not writable (A2I2A_ERR_IO). An existing output is only replaced when force is
 * non-zero (else A2I2A_ERR_EXISTS). */
a2i2a_status a2i2a_a2i_file(const char *audio_path, const char *png_path,
                            const a2i2a_a2i_params *params, int force);

/* ------------------------------------------------------------------------ i2a: image → audio */

typedef struct {
  uint64_t seed;        /* every random choice of a reading derives from it */
  int gl_iters;         /* Griffin-Lim iterations (0 = the reading's default) */
  int bits;             /* 0/32 = float, 16 or 24 = TPDF-dithered PCM */
  /* For the readings that choose them (docs/readings.md); 0 = the reading's default. The
   * notebook's readings (red, rgb-mean, chirp) and inverse ignore them. */
  double seconds;       /* duration of the sound */
  double sample_rate;   /* Hz */
  double fmin, fmax;    /* frequency range in Hz */
} a2i2a_i2a_params;

a2i2a_i2a_params a2i2a_i2a_default_params(void);
/* Reads IMAGE through the comma-separated readings (or "all"). With one reading, out is a
 * file (WAV, or FLAC if it ends in .flac); with several, a folder (created if missing) that
 * receives NAME.wav for each. Nothing is written unless every reading succeeds; existing
 * files are only replaced when force is non-zero. */
a2i2a_status a2i2a_i2a_file(const char *image_path, const char *readings, const char *out,
                            const a2i2a_i2a_params *params, int force);

/* The readings, in the order of a2i2a_i2a_file's "all": name and one-line description
 * (NULL past the end). */
const char *a2i2a_reading_name(int i);
const char *a2i2a_reading_description(int i);

/* ------------------------------------------------------------------------ i2i: Stable Diffusion img2img */

typedef struct a2i2a_model a2i2a_model; /* opaque: a loaded SD checkpoint */

a2i2a_status a2i2a_model_open(const char *path_or_repo, a2i2a_model **model);
void a2i2a_model_close(a2i2a_model *model);

typedef struct {
  const char *prompt, *negative_prompt;
  double strength, guidance;
  int steps;
  const char *sampler;  /* "pndm", "ddim", "euler", "euler-a", "lms", "dpm++2m", "dpm++2m-karras", "lcm" */
  const char *spacing;  /* NULL = the sampler's diffusers default */
  uint64_t seed;
  int clip_skip;        /* 0/1 = last layer */
  const char *prediction; /* "epsilon" or "v": what the UNet predicts; NULL = the model's (its
                             scheduler config; a single SD 2.x file: v, as diffusers assumes) */
  int width, height;    /* 0 = the image's size rounded down to a multiple of 8 */
  int progress;         /* 0 = a live line when stderr is a terminal, 1 = plain lines, -1 = none */
} a2i2a_i2i_params;

/* The notebook's settings: its prompt and negative prompt, strength 0.9, guidance 2.5, 50 steps,
 * PNDM, seed 0. */
a2i2a_i2i_params a2i2a_i2i_default_params(void);

/* The model's short name (ORG/NAME or the file/folder name) and the SHA-256 of its weights
 * (a single file: the file; a diffusers folder: its UNet weights file), as 64 hex digits.
 * Hashes are cached in $XDG_CACHE_HOME/a2i2a/sha256.tsv (default ~/.cache/a2i2a) by path,
 * size and modification time, so a multi-GB checkpoint is read once, not on every run. */
const char *a2i2a_model_name(const a2i2a_model *model);
a2i2a_status a2i2a_model_sha256(a2i2a_model *model, char hex[65]);

/* img2img on an 8-bit RGB picture (w×h, rows top first) exactly as diffusers'
 * StableDiffusionImg2ImgPipeline with a CPU torch.Generator seeded with params->seed.
 * *out receives a new RGB picture of *out_w × *out_h (free with a2i2a_free). Fails with
 * A2I2A_ERR_PARAM when steps × strength < 1 (nothing to denoise), A2I2A_ERR_NOMEM before any
 * work when the estimated memory exceeds what is available. */
a2i2a_status a2i2a_i2i(a2i2a_model *model, const uint8_t *rgb, int w, int h, const a2i2a_i2i_params *params,
                       uint8_t **out, int *out_w, int *out_h);
/* Reads IMAGE (PNG or JPEG), runs a2i2a_i2i and writes a PNG carrying every parameter in the
 * Automatic1111 "parameters" text chunk and as JSON in the "a2i2a" chunk. An existing output is
 * only replaced when force is non-zero (checked before the work starts). */
a2i2a_status a2i2a_i2i_file(a2i2a_model *model, const char *image_path, const char *png_path,
                            const a2i2a_i2i_params *params, int force);

/* ------------------------------------------------------------------------ run: the whole chain */

/* Everything one run of the chain needs; filled from a preset by a2i2a_run_preset(). */
typedef struct {
  const char *preset;         /* the preset the values started from (recorded in run.json) */
  a2i2a_a2i_params a2i;
  const char *model;          /* a diffusers folder, a .safetensors file, or ORG/NAME */
  a2i2a_i2i_params i2i;
  const char *readings;       /* comma-separated reading names, or "all" */
  a2i2a_i2a_params i2a;
  double clip_seconds;        /* > 0: split the input into clips this long (styles with a fixed
                                 duration per image), run each, crossfade-stitch the sounds */
  double overlap_seconds;     /* overlap (and crossfade) between consecutive clips */
  int sheet;                  /* write sheet.png (default 1) */
} a2i2a_run_params;

/* The values of preset NAME ("seed", "riffusion", "turbo"; see `a2i2a presets`). */
a2i2a_status a2i2a_run_preset(const char *name, a2i2a_run_params *params);
/* Runs the chain on INPUT with an open model and writes into OUTDIR (created if missing):
 * spectrogram.png, art.png, READING.wav for each reading, sheet.png, run.json. Nothing is
 * replaced without force, and nothing is left behind on failure. */
a2i2a_status a2i2a_run(a2i2a_model *model, const char *input, const char *outdir,
                       const a2i2a_run_params *params, int force);
/* Runs again what RUN_JSON records, into OUTDIR, and checks that the outputs have the
 * recorded SHA-256 (A2I2A_ERR_INTERNAL with the first file that differs otherwise).
 * input and model override the recorded paths when not NULL; their SHA-256 must match. */
a2i2a_status a2i2a_run_replay(const char *run_json, const char *input, const char *model,
                              const char *outdir, int force);

#ifdef __cplusplus
}
#endif
#endif
