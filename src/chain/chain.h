/* The whole chain (a2i2a run): presets, clip splitting and crossfade stitching, run.json,
 * the contact sheet, and the orchestration of the a2i, i2i and i2a stages. */
#ifndef A2I2A_CHAIN_H
#define A2I2A_CHAIN_H

#include <stddef.h>
#include <stdint.h>
#include "a2i2a.h"
#include "image/image.h"

/* ---------------------------------------------------------------- presets (presets.c) */

typedef struct {
  union { /* the registry entry: name, one-line summary, JSON of the values it sets */
    a2i2a_entry entry;
    struct {
      const char *name, *summary, *json;
    };
  };
  const char *style;           /* a2i style */
  const char *model;           /* Hugging Face ORG/NAME */
  const char *prompt;          /* a named prompt (chain_prompts) */
  const char *negative_prompt; /* text */
  double strength, guidance;
  int steps;
  const char *sampler;
  uint64_t seed;
  const char *readings;
  double clip_seconds, overlap_seconds;
  const char *taesd;           /* Hugging Face ORG/NAME of a TAESD in place of the VAE, or NULL */
} chain_preset;

extern const chain_preset chain_presets[];
extern const int chain_npresets;
const chain_preset *chain_preset_find(const char *name);

/* Named abstract prompts, in the spirit of the notebook's: no objects, no people, no letters. */
typedef struct {
  union { /* the registry entry: the prompt's text is its description */
    a2i2a_entry entry;
    struct {
      const char *name, *text, *json;
    };
  };
} chain_prompt;

extern const chain_prompt chain_prompts[];
extern const int chain_nprompts;
const chain_prompt *chain_prompt_find(const char *name);

/* Their registries (A2I2A_LIST_PRESETS, A2I2A_LIST_PROMPTS; common/registry.h). A preset's
 * JSON holds the value of every parameter presets set, by run.json key (params.h), and
 * "prompt", the named prompt. */
extern const struct registry_table chain_preset_registry, chain_prompt_registry;
/* The table behind a public list (registry.c), with its name as the PARAMS rows' "choices" give
 * it; NULL for a value that names no list. */
const struct registry_table *chain_list_table(a2i2a_list list);

/* ---------------------------------------------------------------- clips (clips.c) */

/* The shortest clip (clips.seconds): a tenth of a second, 10 columns of the riffusion and
 * fullband styles. */
#define CHAIN_MIN_CLIP_SECONDS 0.1

/* Clips of len samples starting every len − overlap samples, covering total samples; the
 * last one may run past the end (it is zero-padded). At least 1. 0 if len <= overlap. */
int64_t chain_clip_count(int64_t total, int64_t len, int64_t overlap);
/* Puts clip k at k·hop and crossfades linearly over the overlap samples where clip k−1 ends
 * and clip k begins (weights sum to 1, so a constant survives); out gets total samples
 * (zero where no clip reaches). Clips shorter than hop + overlap leave a gap after them. */
void chain_stitch(const float *const *clips, const int64_t *lens, int nclips, int64_t hop, int64_t overlap,
                  int64_t total, float *out);

/* Travel's alpha (a2i2a_i2i_params.alpha) for frame or clip k of n: k/(n−1) from the first
 * endpoint to the second (n = 1: 0); loop: the closed path 0 → 1 → 0, 1 − |1 − 2k/n|, whose
 * frame n (the one after the last) is frame 0 again, exactly. docs/travel.md. */
double chain_travel_alpha(int k, int n, int loop);
/* The most frames a travel paints (each is an output: frames/0001.png ...). */
#define CHAIN_MAX_FRAMES 32

/* ---------------------------------------------------------------- run.json (runjson.c) */

#define CHAIN_MAX_OUTPUTS 64
#define CHAIN_MAX_LORAS 16

/* Everything run.json holds: the version and thread count, the input, every parameter (keys
 * from params.h; p.model is "model.name", the model's absolute path or ORG/NAME), the model's
 * fingerprint, and each output's. Strings are owned by the record (chain_record_free). */
typedef struct {
  a2i2a_run_params p;
  char *input_path, *input_sha256;
  char *model_sha256;
  char *taesd_sha256; /* "i2i.taesd_sha256": the TAESD's weights, when p.i2i.taesd is set */
  char *version;
  int threads;
  int noutputs;
  char *output_name[CHAIN_MAX_OUTPUTS], *output_sha256[CHAIN_MAX_OUTPUTS];
  /* what the readings measure as written (written, not read back): the integrated loudness in
   * LUFS and the true peak in dBTP of output k, for the outputs with measured[k] */
  int measured[CHAIN_MAX_OUTPUTS];
  double lufs[CHAIN_MAX_OUTPUTS], dbtp[CHAIN_MAX_OUTPUTS];
  int sheet_layout; /* how sheet.png was drawn (CHAIN_SHEET_LAYOUT); 1 for a file without it */
  /* travel: the alpha of each clip or frame (written, not read back: it follows from the
   * parameters); not owned */
  int nalphas;
  const double *alphas;
  /* the LoRAs merged into the model for the painting ("i2i.loras", only when there are some):
   * path (absolute; NULL for bytes given in memory) and scale, and the file's SHA-256 */
  int nloras;
  a2i2a_lora lora[CHAIN_MAX_LORAS];
  char *lora_sha256[CHAIN_MAX_LORAS];
  void *strings; /* storage of the strings p points to */
} chain_record;

/* A 64-bit seed into the cJSON object obj: a number up to 2^53 (exact as a JSON double), a
 * decimal string beyond. */
/* Writes rec as JSON (atomically). */
a2i2a_status chain_runjson_write(const char *path, const chain_record *rec, int force);
/* Reads a run.json; every field must be present (but those added since the first run.json,
 * which keep 0 or NULL, what the code before them used), well typed and in range. Errors name
 * the file and the key. */
a2i2a_status chain_runjson_read(const char *path, chain_record *rec);
/* The same on n bytes of text held in memory (no NUL needed); path names it in errors. */
a2i2a_status chain_runjson_parse(const char *text, size_t n, const char *path, chain_record *rec);
/* Copies s into the record's storage; the copy lives until chain_record_free. */
const char *chain_record_str(chain_record *rec, const char *s);
void chain_record_free(chain_record *rec);

/* ---------------------------------------------------------------- contact sheet (sheet.c) */

typedef struct {
  const char *name;  /* the reading's name */
  const char *wav;   /* its sound */
  int has_lufs;      /* show its loudness after its peak */
  double lufs;       /* its integrated loudness (LOUDNESS_NONE: none to measure) */
} chain_sheet_sound;

/* Lays out nheader lines of text (each cut with "..." where it would leave the sheet), the
 * spectrogram, the painting and, for each sound, its name, its waveform and its spectrogram,
 * labelled, in one RGB image. */
a2i2a_status chain_sheet(const image_u8 *spectrogram, const image_u8 *art, const char *const *header, int nheader,
                         const chain_sheet_sound *sounds, int nsounds, image_u8 *sheet);

/* One run of a batch in the index sheet: its painting and a few lines about it. */
enum { CHAIN_INDEX_LINES = 4 };
typedef struct {
  const char *art;                       /* the painting's file */
  const char *lines[CHAIN_INDEX_LINES];  /* NULL: no more lines */
} chain_index_row;

/* The index of a batch: a title, then one row per run, the painting's thumbnail and its lines. */
a2i2a_status chain_index(const char *title, const chain_index_row *rows, int nrows, image_u8 *sheet);

/* A grid of runs (A1111's X/Y/Z plot): a title, then for each of the nz values of z (its label
 * above, when nz > 1) a table with the nx x labels on top, the ny y labels on the left and the
 * painting arts[(k·ny + j)·nx + i] in cell (i, j) of panel k. */
a2i2a_status chain_grid(const char *title, const char *const *xlabels, int nx, const char *const *ylabels, int ny,
                        const char *const *zlabels, int nz, const char *const *arts, image_u8 *sheet);

/* How sheet.png is drawn, recorded in run.json ("sheet_layout") so that a replay draws it the
 * same way: 1, the first (run.json files without the key): a title line; 2: two header lines
 * (input, preset, seed, steps, model; the prompt) and each reading's loudness. */
enum { CHAIN_SHEET_LAYOUT = 2 };

/* ---------------------------------------------------------------- the run (run.c) */

/* A test-sized model (all its weights under 100 MB, like examples/tiny-sd1.safetensors): its
 * paintings prove the chain, not the art. */
int chain_model_is_tiny(const char *path_or_repo);

/* Everything a run can check before its work, in the user's terms: the parameters, the outputs
 * (not there unless force), and from the input's length alone the style's limits, an input
 * too short for the chain (A2I2A_ERR_LIMIT), a painting too wide or too large for the memory
 * available (A2I2A_ERR_NOMEM), the inverse reading's limit; each with a clip length that
 * would do where one would; the vocoder reading's vocoder opens. p->model must be set (run.json's
 * name for it). */
a2i2a_status chain_preflight(const a2i2a_model *model, const char *input, const char *outdir,
                             const a2i2a_run_params *p, int force);

/* a2i2a_run and a2i2a_run_replay for an input known by another name than its path (NULL: the
 * path): what run.json records and the contact sheet shows; "-" is stdin, copied to a private
 * file by the caller. A replay of a run.json whose input is "-" needs the input again. */
a2i2a_status chain_run_named(a2i2a_model *model, const char *input, const char *input_name, const char *outdir,
                             const a2i2a_run_params *p, int force, a2i2a_job *job);
a2i2a_status chain_replay_named(const char *run_json, const char *input, const char *input_name, const char *model_path,
                                const char *outdir, int force, a2i2a_job *job);

/* One run with the fingerprints already known (a2i2a_run computes them), input_name as in
 * chain_run_named, sheet.png drawn in sheet_layout; rec_out, when not
 * NULL, receives what run.json records (free with chain_record_free). */
a2i2a_status chain_run(a2i2a_model *model, const char *model_name, const char *model_sha256, const char *input,
                       const char *input_name, const char *input_sha256, const char *outdir, const a2i2a_run_params *p, int force,
                       int sheet_layout, chain_record *rec_out, a2i2a_job *job);

#endif
