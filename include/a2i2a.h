/* a2i2a — sampling across media: sound → spectrogram image → Stable Diffusion → sound.
 *
 * The public API of liba2i2a. Conventions, as in libsndfile and stb:
 *  - every call returns an a2i2a_status; on failure a2i2a_last_error() gives one line
 *    naming the file and the problem (thread-local, valid until the next failing call);
 *  - parameters come in plain structs filled by *_default_params();
 *  - buffers handed out by the library are freed with a2i2a_free();
 *  - the library never prints, never exits and never aborts: it reports through return codes,
 *    a2i2a_last_error() and the callbacks of a job (progress, preview, log, cancel).
 *
 * Threads: a model handle runs one job at a time; separate handles (and the calls that take
 * no model) run in parallel threads, each job on the thread that called it (its numeric
 * kernels use an OpenMP team of that thread). Nothing a job does changes another job's
 * results. a2i2a_set_threads() is the one process-wide setting: call it before starting jobs.
 *
 * ABI: while A2I2A_VERSION_MAJOR is 0, a minor version may change the API and the ABI (the
 * shared library's soname carries the minor version: liba2i2a.so.0.MINOR); docs/library.md.
 *
 * Each stage section below is owned by the part of the code that implements it. */
#ifndef A2I2A_H
#define A2I2A_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version is typed only here: CMake reads these lines (cmake/version.cmake) for the
 * project, the soname, a2i2a.pc and the package version file. */
#define A2I2A_VERSION_MAJOR 0
#define A2I2A_VERSION_MINOR 2
#define A2I2A_VERSION_PATCH 0

/* Marks the public API: the shared library is built with hidden visibility and exports only
 * the declarations carrying it. */
#if defined(__GNUC__)
#define A2I2A_API __attribute__((visibility("default")))
#else
#define A2I2A_API
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
  A2I2A_ERR_INTERNAL,    /* a bug: please report it */
  A2I2A_ERR_CANCELLED    /* the job was cancelled: nothing was written, everything was freed */
} a2i2a_status;

A2I2A_API const char *a2i2a_strerror(a2i2a_status status);
/* The last failure's one-line message in this thread ("" if none). */
A2I2A_API const char *a2i2a_last_error(void);
/* "MAJOR.MINOR.PATCH" of the library linked (the header's macros say what was compiled). */
A2I2A_API const char *a2i2a_version(void);
A2I2A_API void a2i2a_free(void *p);

/* Threads used by the numeric kernels (OpenMP and OpenBLAS together); 0 = physical cores. */
A2I2A_API void a2i2a_set_threads(int n);
A2I2A_API int a2i2a_get_threads(void);
/* Which matrix-multiply kernels run, e.g. "OpenBLAS SkylakeX kernels" (for reports). */
A2I2A_API const char *a2i2a_blas_kernels(void);
/* Frees the calling thread's kernel scratch (and its OpenMP team's); the next job grows it
 * again. a2i2a_model_close() calls it. */
A2I2A_API void a2i2a_release_scratch(void);

/* ------------------------------------------------------------------------ jobs */

/* What a long call reports as it goes. */
typedef struct {
  const char *stage;  /* "spectrogram", "painting", "readings", "sheet", "download", ... */
  const char *detail; /* what within the stage: a reading's or a file's name, "clip 2 of 5"; "" */
  int step, total;    /* step k of n within the stage (0 of 0: a stage without steps) */
  double elapsed;     /* seconds since the outermost call of the job began */
  double fraction;    /* that call's progress in [0, 1]: never decreases, 1 at the end */
  double eta;         /* estimated seconds until that call ends; < 0 while unknown */
} a2i2a_progress;

/* A picture of the painting as it forms, after each denoising step. */
typedef struct {
  int step, total;    /* after step k of n */
  int width, height;  /* the picture's size (latent size for the projection: 1/8 of the painting) */
  const uint8_t *rgb; /* width × height × 3, rows top first; valid during the callback only */
  int decoded;        /* 1: a full VAE decode, 2: a TAESD decode (full size), 0: the linear latent →
                         RGB projection */
} a2i2a_preview;

typedef enum { A2I2A_LOG_INFO, A2I2A_LOG_NOTE, A2I2A_LOG_WARNING } a2i2a_log_level;

/* Which decoder makes the previews when preview_vae_every is 0 (docs/library.md). */
typedef enum {
  A2I2A_PREVIEW_GIVEN = 0, /* preview_taesd, else the run's own a2i2a_i2i_params.taesd, else the
                              latent projection */
  A2I2A_PREVIEW_AUTO,      /* as GIVEN, and without either madebyollin/taesd when the Hugging Face
                              cache holds it ($HF_HUB_CACHE, $HF_HOME/hub, ~/.cache/huggingface/hub);
                              a cached copy that does not open is a warning, and the projection */
  A2I2A_PREVIEW_LINEAR     /* always the latent projection, even with a TAESD at hand */
} a2i2a_preview_mode;

/* Every member may be NULL/0. Callbacks run on the job's thread, between steps. */
typedef struct {
  void (*progress)(void *user, const a2i2a_progress *p);
  void (*preview)(void *user, const a2i2a_preview *p);
  void (*log)(void *user, a2i2a_log_level level, const char *message);
  int (*cancel)(void *user); /* polled between steps: non-zero cancels the job */
  void *user;
  int preview_vae_every;     /* 0: previews are the latent projection (under 1 % of a step), or
                                TAESD decodes (below); N > 0: a full VAE decode every N steps
                                instead (costly) */
  const char *preview_taesd; /* a TAESD (folder, .safetensors or ORG/NAME) that decodes every step's
                                preview of img2img (a few % of a step); it never paints. NULL: as
                                preview_mode says */
  a2i2a_preview_mode preview_mode; /* without preview_taesd: GIVEN (0), AUTO or LINEAR (above) */
} a2i2a_callbacks;

/* A job: the callbacks, a cancel flag, and the wall time per stage of the calls made with it.
 * Every long call takes one (NULL: silent, not cancellable). One job serves one call at a time;
 * it may serve several in sequence (a CLI's several runs), and its timings add up. */
typedef struct a2i2a_job a2i2a_job;

/* cb is copied; NULL = no callbacks (a job that can still be cancelled and timed). */
A2I2A_API a2i2a_status a2i2a_job_new(const a2i2a_callbacks *cb, a2i2a_job **job);
A2I2A_API void a2i2a_job_free(a2i2a_job *job);
/* Asks the job to stop: from any thread, or a signal handler (async-signal-safe). The running
 * call returns A2I2A_ERR_CANCELLED within one UNet evaluation (or one Griffin-Lim iteration),
 * leaving no file behind; later calls with the job return it at once. */
A2I2A_API void a2i2a_job_cancel(a2i2a_job *job);
A2I2A_API int a2i2a_job_cancelled(const a2i2a_job *job);

typedef struct {
  double load, hash, a2i, i2i, i2a, sheet; /* seconds: model loading, fingerprints, the stages
                                              (sheet: the contact sheet and clip stitching) */
} a2i2a_timings;
A2I2A_API a2i2a_timings a2i2a_job_timings(const a2i2a_job *job);

/* ------------------------------------------------------------------------ registries */

/* Every list a user chooses from lives in one table in the library; the CLI's help, validation
 * and shell completion, run.json and the studio's forms read them from here. The entries are
 * static: they may be read from any thread and live as long as the library. */
typedef enum {
  A2I2A_LIST_STYLES,    /* spectrogram styles of a2i */
  A2I2A_LIST_COLORMAPS, /* colour maps of the fullband style */
  A2I2A_LIST_SAMPLERS,  /* img2img samplers */
  A2I2A_LIST_SPACINGS,  /* timestep spacings */
  A2I2A_LIST_READINGS,  /* image → sound readings, in the order of "all" */
  A2I2A_LIST_PRESETS,   /* presets of the whole chain */
  A2I2A_LIST_PROMPTS,   /* named abstract prompts */
  A2I2A_LIST_PARAMS     /* the chain's parameters (a2i2a_run_params' fields, run.json's keys) */
} a2i2a_list;

typedef struct {
  const char *name;        /* what the user types ("euler-a"); for A2I2A_LIST_PARAMS the run.json
                              key, "SECTION.FIELD" or "FIELD" ("i2i.strength", "sheet") */
  const char *description; /* one line (a named prompt: its text) */
  const char *json;        /* the entry's details and defaults as one JSON object:
                              styles: "width", "height" (0: one column per 10 ms), "fixed_size",
                                "max_seconds", "stereo" (and for fullband "db_range", "fmin",
                                "fmax", "colormap");
                              colour maps: "perceptual";
                              samplers: "class" (diffusers'), "a1111" (its name in A1111's
                                infotext), "karras_sigmas";
                              readings: those of "seconds", "sample_rate", "fmin", "fmax" the
                                reading takes, with its defaults;
                              presets: "prompt" (a named prompt) and the value of every parameter
                                presets set, by run.json key;
                              spacings, prompts: {};
                              A2I2A_LIST_PARAMS: "stage" ("a2i", "i2i", "i2a", "run"), "type":
                                "int"|"number"|"text"|"choice"|"flag"|"seed", "default" (the default
                                preset's value), "preset" (presets set it); int and number: "min",
                                "max", "step" (ints: min, min + step, ...), "zero" (0 is also
                                accepted: the stage's own default); choice: "choices" (the list's
                                name, or null), "values", "multiple" (a comma-separated list of
                                them, or "all"); text and choice: "nullable"; "unset": what 0 or
                                null means */
} a2i2a_entry;

A2I2A_API int a2i2a_list_count(a2i2a_list list);
A2I2A_API const a2i2a_entry *a2i2a_list_entry(a2i2a_list list, int i); /* NULL past the end */
A2I2A_API const a2i2a_entry *a2i2a_list_find(a2i2a_list list, const char *name); /* NULL if unknown */

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

A2I2A_API a2i2a_a2i_params a2i2a_a2i_default_params(void);
/* Reads any audio file libsndfile reads and writes a PNG that carries its own parameters (a
 * text chunk "a2i2a" with JSON; Riffusion's eXIf for the riffusion style); a png_path with
 * another extension than .png is refused (A2I2A_ERR_PARAM), as by a2i2a_i2i_file. Fails, leaving no
 * file, on unreadable/empty/corrupt/truncated input (A2I2A_ERR_IO/FORMAT), inputs beyond
 * max_seconds (A2I2A_ERR_LIMIT), bad parameters (A2I2A_ERR_PARAM), an output folder that is
 * missing or not writable (A2I2A_ERR_IO). An existing output is only replaced when force is
 * non-zero (else A2I2A_ERR_EXISTS). */
A2I2A_API a2i2a_status a2i2a_a2i_file(const char *audio_path, const char *png_path,
                                      const a2i2a_a2i_params *params, int force, a2i2a_job *job);
/* The same from memory, into memory: *png receives the PNG file's bytes (free with a2i2a_free;
 * NULL and 0 on failure), byte for byte what a2i2a_a2i_file writes for the same sound, with the
 * same checks and errors. From an encoded file in memory (any format a2i2a_a2i_file reads; name,
 * may be NULL, names it in errors, and a name ending in ".mp3" lets data no format recognises
 * be tried as MP3, as a file's name does; data NULL: A2I2A_ERR_PARAM, size 0: A2I2A_ERR_FORMAT),
 * or from float PCM, frames × channels interleaved, at rate Hz: the PNG a2i2a_a2i_file makes of
 * a 32-bit float WAV of those samples (1..64 channels, rate ≥ 1, 1..2^31 frames). */
A2I2A_API a2i2a_status a2i2a_a2i_memory(const void *data, size_t size, const char *name,
                                        const a2i2a_a2i_params *params, void **png, size_t *png_size,
                                        a2i2a_job *job);
A2I2A_API a2i2a_status a2i2a_a2i_pcm(const float *pcm, int64_t frames, int channels, double rate,
                                     const a2i2a_a2i_params *params, void **png, size_t *png_size,
                                     a2i2a_job *job);

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
  const char *vocoder;  /* the vocoder reading's vocoder: a Vocos or HiFi-GAN folder (or a weights
                           file in one), or ORG/NAME in the Hugging Face cache. NULL: "all" leaves
                           that reading out, and naming it is an error */
  /* Every reading, once made (docs/readings.md); 0 = as the reading makes it. */
  double output_rate;   /* Hz, 1000..384000: resampled to this rate (soxr), the duration kept */
  double loudness;      /* LUFS, -70..-1: brought to this EBU R128 integrated loudness
                           (a mono reading measured as dual mono), unless ... */
  double true_peak;     /* ... its true peak would exceed this ceiling, dBTP -20..-0.1 (0 = -1):
                           then it stays quieter. Only with loudness. */
} a2i2a_i2a_params;

A2I2A_API a2i2a_i2a_params a2i2a_i2a_default_params(void);
/* Reads IMAGE through the comma-separated readings (or "all": every reading, the vocoder one only
 * when params->vocoder is set). With one reading, out is a file in the format its extension
 * names: .wav, .flac, .ogg (Vorbis), .opus, .mp3 (any other extension, or none:
 * A2I2A_ERR_PARAM); with several, a folder (created if missing) that receives NAME.wav for each
 * (a name ending in a sound format's extension: A2I2A_ERR_PARAM). Nothing is written unless
 * every reading succeeds; existing files are only replaced when force is non-zero. */
A2I2A_API a2i2a_status a2i2a_i2a_file(const char *image_path, const char *readings, const char *out,
                                      const a2i2a_i2a_params *params, int force, a2i2a_job *job);

/* A sound in memory: frames × channels float samples, interleaved. */
typedef struct {
  float *samples; /* free with a2i2a_free */
  int64_t frames;
  int channels;
  double rate;
} a2i2a_sound;

/* One reading (NULL = "red") of a PNG or JPEG file held in memory, text and eXIf chunks
 * included (name, may be NULL, names it in errors): the samples a2i2a_i2a_file would write as
 * 32-bit float, before any dithering (params->bits is not used). *out is zeroed on failure. */
A2I2A_API a2i2a_status a2i2a_i2a_memory(const void *image, size_t size, const char *name,
                                        const char *reading, const a2i2a_i2a_params *params,
                                        a2i2a_sound *out, a2i2a_job *job);


/* ------------------------------------------------------------------------ i2i: Stable Diffusion img2img */

typedef struct a2i2a_model a2i2a_model; /* opaque: a loaded SD checkpoint */

A2I2A_API a2i2a_status a2i2a_model_open(const char *path_or_repo, a2i2a_model **model);
/* Frees the model, its cached prompt embeddings and the calling thread's kernel scratch. */
A2I2A_API void a2i2a_model_close(a2i2a_model *model);

/* A LoRA: low-rank patches merged into the model's weights (docs/library.md, docs/lora.md). The
 * kohya-ss naming (lora_unet_*, lora_te_*: lora_down, lora_up, alpha) and the diffusers/PEFT
 * naming (unet.*, text_encoder.*: lora_A, lora_B), F16, BF16 or F32, Linear and Conv2d layers. */
typedef struct {
  const char *path;  /* a .safetensors file; with data: only the name shown and recorded (may be NULL) */
  const void *data;  /* or the file's bytes in memory (size of them), read during the call only */
  size_t size;
  double scale;      /* the patches' weight: 1 = as trained, 0 = off; several LoRAs add up */
} a2i2a_lora;

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
  const char *tile;     /* NULL = none; "x", "y" or "xy": circular padding in the UNet's and the
                           VAE's convolutions, so that the painting wraps around that way (A1111's
                           tiling, stable-diffusion.cpp's --circular); docs/travel.md */
  /* Travel (docs/travel.md): alpha in (0, 1] moves the painting from these endpoint settings
   * toward the to_ ones: every noise tensor is the slerp of the two seeds' (spherical
   * interpolation), the text conditioning the lerp of the two prompts' embeddings (prompt and
   * negative each), strength and guidance the lerp of theirs. Alpha 0 is the plain run of the
   * first endpoint, alpha 1 the plain run of the second, byte for byte. */
  double alpha;
  uint64_t to_seed;
  const char *to_prompt, *to_negative_prompt; /* NULL = prompt, negative_prompt */
  double to_strength, to_guidance;            /* 0 = strength, guidance */
  const char *taesd;    /* a TAESD (diffusers folder, its .safetensors, or ORG/NAME such as
                           madebyollin/taesd) that replaces the VAE for encoding and decoding, as
                           diffusers does with AutoencoderTiny (no latent sampling, scaling 1.0):
                           fast drafts; also the previews' decoder. NULL = the model's VAE */
  int low_memory;       /* 1: a smaller memory peak, a little slower (docs/i2i.md): the UNet's weights
                           are read block by block and dropped after use, and the VAE encodes and
                           decodes in blended tiles of 320 pixels, which changes a picture larger
                           than one tile slightly. 0: as diffusers, untiled */
} a2i2a_i2i_params;

/* The notebook's settings: its prompt and negative prompt, strength 0.9, guidance 2.5, 50 steps,
 * PNDM, seed 0. */
A2I2A_API a2i2a_i2i_params a2i2a_i2i_default_params(void);

/* The model's short name (ORG/NAME or the file/folder name) and the SHA-256 of its weights
 * (a single file: the file; a diffusers folder: its UNet weights file), as 64 hex digits.
 * Hashes are cached in $XDG_CACHE_HOME/a2i2a/sha256.tsv (default ~/.cache/a2i2a) by path,
 * size and modification time, so a multi-GB checkpoint is read once, not on every run. */
/* Makes loras[0..n) the LoRAs merged into the model's weights for the jobs that follow (n = 0:
 * none): W += scale·alpha/rank·up·down in float32, stored back in the model's dtype. Nothing
 * happens when they already are (same files unchanged, same scales); otherwise the checkpoint's
 * weights come back first and the cached prompt embeddings are dropped. A file that is not a
 * LoRA (A2I2A_ERR_FORMAT), a layer whose shape does not fit the model's (another family) or no
 * layer matching (A2I2A_ERR_MODEL) is refused before anything changes; some layers matching
 * nothing is one warning on the job's log. The paintings and run.json record the set. */
A2I2A_API a2i2a_status a2i2a_model_set_loras(a2i2a_model *model, const a2i2a_lora *loras, int n, a2i2a_job *job);
A2I2A_API const char *a2i2a_model_name(const a2i2a_model *model);
A2I2A_API a2i2a_status a2i2a_model_sha256(a2i2a_model *model, char hex[65]);

/* img2img on an 8-bit RGB picture (w×h, rows top first) exactly as diffusers'
 * StableDiffusionImg2ImgPipeline with a CPU torch.Generator seeded with params->seed.
 * *out receives a new RGB picture of *out_w × *out_h (free with a2i2a_free). Fails with
 * A2I2A_ERR_PARAM when steps × strength < 1 (nothing to denoise), A2I2A_ERR_NOMEM before any
 * work when the estimated memory exceeds what is available. */
A2I2A_API a2i2a_status a2i2a_i2i(a2i2a_model *model, const uint8_t *rgb, int w, int h,
                                 const a2i2a_i2i_params *params, uint8_t **out, int *out_w, int *out_h,
                                 a2i2a_job *job);
/* Reads IMAGE (PNG or JPEG), runs a2i2a_i2i and writes a PNG carrying every parameter in the
 * Automatic1111 "parameters" text chunk and as JSON in the "a2i2a" chunk. An existing output is
 * only replaced when force is non-zero (checked before the work starts). */
A2I2A_API a2i2a_status a2i2a_i2i_file(a2i2a_model *model, const char *image_path, const char *png_path,
                                      const a2i2a_i2i_params *params, int force, a2i2a_job *job);

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
  /* Travel over the clips, or over frames (docs/travel.md): clip or frame k of n is painted at
   * i2i.alpha = k/(n − 1) between the endpoints i2i and i2i.to_* ("path"), or 1 − |1 − 2k/n|
   * ("loop": there and back, the last crossfading into the first so that every reading loops). */
  const char *travel;         /* NULL: none; "path" or "loop" */
  int frames;                 /* travel without clips: the whole input painted this many times,
                                 frames/0001.png...; the readings stitched with clips.overlap */
} a2i2a_run_params;

/* The values of preset NAME ("seed", "riffusion", "turbo"; see `a2i2a presets`). */
A2I2A_API a2i2a_status a2i2a_run_preset(const char *name, a2i2a_run_params *params);
/* Runs the chain on INPUT with an open model and writes into OUTDIR (created if missing):
 * spectrogram.png, art.png, READING.wav for each reading, sheet.png, run.json. Nothing is
 * replaced without force, and nothing is left behind on failure. What can be known before the
 * work is refused before it, in one line: existing outputs (A2I2A_ERR_EXISTS), an input beyond
 * the style's limit or too short for the chain (A2I2A_ERR_LIMIT), steps × strength < 1
 * (A2I2A_ERR_PARAM), a painting too large for the memory available (A2I2A_ERR_NOMEM, naming a
 * clip length that fits). Private folders OUTDIR/.a2i2a-run.XXXXXX that killed runs left are
 * removed. */
A2I2A_API a2i2a_status a2i2a_run(a2i2a_model *model, const char *input, const char *outdir,
                                 const a2i2a_run_params *params, int force, a2i2a_job *job);
/* Runs again what RUN_JSON records, into OUTDIR (with a2i2a_run's checks), and checks that the
 * outputs have the recorded SHA-256 (A2I2A_ERR_INTERNAL with the first file that differs
 * otherwise; when another version made the run, A2I2A_ERR_UNSUPPORTED naming both versions:
 * docs/chain.md). input and model override the recorded paths when not NULL; their SHA-256 must
 * match. The run uses the recorded thread count (a2i2a_set_threads, restored afterwards). */
A2I2A_API a2i2a_status a2i2a_run_replay(const char *run_json, const char *input, const char *model,
                                        const char *outdir, int force, a2i2a_job *job);

/* ------------------------------------------------------------------------ models: the Hugging Face cache */

typedef struct {
  const char *revision;  /* branch, tag or commit; NULL = "main" */
  const char *endpoint;  /* NULL = $HF_ENDPOINT or https://huggingface.co */
  const char *token;     /* NULL = $HF_TOKEN (none if unset) */
  const char *cache_dir; /* hub cache folder; NULL = $HF_HUB_CACHE, $HF_HOME/hub or
                            ~/.cache/huggingface/hub */
  int retries;           /* times an interrupted transfer is resumed (0 = 3) */
} a2i2a_pull_params;

A2I2A_API a2i2a_pull_params a2i2a_pull_default_params(void);
/* Downloads (or completes) the Stable Diffusion pipeline, or the vocoder (Vocos, HiFi-GAN: the
 * vocoder reading's), ORG/NAME into the Hugging Face cache,
 * in the layout huggingface_hub uses; snapshot (may be NULL) receives its folder. Progress
 * (stage "download", detail the file, step = bytes in KiB) and cancel through the job. */
A2I2A_API a2i2a_status a2i2a_models_pull(const char *repo, const a2i2a_pull_params *params, char *snapshot,
                                         size_t snapshot_size, a2i2a_job *job);

/* Writes the .safetensors equivalent of the PyTorch checkpoint IN (.bin, .ckpt, .pt, .pth, read
 * without running anything, as every model call reads them): the same tensor names, dtypes and
 * values (strided views made contiguous), a .ckpt's other entries that are numbers, booleans or
 * strings as metadata, so that later loads are memory-mapped. out NULL: IN's name with
 * .safetensors for its extension (pytorch_model becomes model, as transformers names it), so
 * that converting each weights file of a diffusers folder in place makes a safetensors folder.
 * Written under a temporary name and renamed into place; an existing file is replaced only with
 * force. written (may be NULL) receives the output's path. Progress: stage "writing". */
A2I2A_API a2i2a_status a2i2a_models_convert(const char *in, const char *out, int force, char *written,
                                            size_t written_size, a2i2a_job *job);

#ifdef __cplusplus
}
#endif
#endif
