/* The samplers: diffusers 0.25.1's schedulers, rebuilt number for number (README §7.5).
 *
 * A scheduler is made from a scheduler config JSON the way `Class.from_config(config)` makes it:
 * keys listed in `_use_default_values` (and absent keys) take the class's own default, so SD1.5's
 * PNDM config gives Euler/LMS/DPM++ their `linspace` spacing. The step functions keep diffusers'
 * state machines (PNDM's warm-up pair, the step index found by timestep lookup, LMS's order from
 * the step index) and its float32 arithmetic order, and draw their noise in diffusers' order
 * through an sd_noise source (a seeded torch generator, or recorded tensors replayed). */
#ifndef A2I2A_SCHEDULER_H
#define A2I2A_SCHEDULER_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include "a2i2a.h"
#include "common/rng.h"

typedef enum { SCHED_PNDM, SCHED_DDIM, SCHED_EULER, SCHED_EULER_A, SCHED_LMS, SCHED_DPMPP, SCHED_LCM } sched_kind;
typedef enum { SPACING_DEFAULT, SPACING_LEADING, SPACING_LINSPACE, SPACING_TRAILING } sched_spacing;
typedef enum { PRED_EPSILON, PRED_V, PRED_SAMPLE } sched_prediction;
typedef enum { BETAS_SCALED_LINEAR, BETAS_LINEAR, BETAS_COSINE } sched_beta_schedule;

typedef struct {
  sched_kind kind;
  int num_train_timesteps;
  double beta_start, beta_end;
  sched_beta_schedule beta_schedule;
  int steps_offset;
  int set_alpha_to_one;
  int skip_prk_steps;          /* PNDM: only the PLMS path exists here */
  sched_prediction prediction;
  sched_spacing spacing;       /* resolved: never SPACING_DEFAULT */
  int clip_sample;             /* DDIM/LCM */
  double clip_sample_range;
  int use_karras_sigmas;       /* Euler/LMS/DPM */
  int solver_order;            /* DPM++ (1 or 2) */
  int lower_order_final, euler_at_final;
  int original_inference_steps; /* LCM */
  double timestep_scaling;      /* LCM */
} sched_config;

/* Noise drawn inside step() (and by the pipeline): from a torch generator, or replayed from
 * recorded tensors in draw order (replay != NULL: n values are taken from replay[pos...]). */
typedef struct {
  torch_rng *rng;
  const float *replay;
  size_t replay_len, pos;
  int draws; /* number of tensors drawn so far */
  /* Travel: with to_rng and alpha > 0, each draw is the slerp (sd_slerp) of rng's and to_rng's
   * draws; alpha 1 is to_rng's draw itself, alpha 0 rng's (to_rng is then not drawn from). */
  torch_rng *to_rng;
  double alpha;
} sd_noise;

a2i2a_status sd_noise_draw(sd_noise *ns, float *out, size_t n);

/* Spherical interpolation of two tensors, as Riffusion's slerp: with cos θ = a·b / (|a| |b|),
 * out = sin((1−t)θ)/sin θ · a + sin(tθ)/sin θ · b, or the linear interpolation (1−t)·a + t·b
 * where |cos θ| > 0.9995 (nearly parallel: slerp would divide by ~0). t 0 gives a and t 1 gives
 * b exactly. out may alias a or b. */
void sd_slerp(const float *a, const float *b, float *out, size_t n, double t);

/* The registries of the samplers (A2I2A_LIST_SAMPLERS), the timestep spacings
 * (A2I2A_LIST_SPACINGS) and the predictions ("epsilon", "v"); common/registry.h. */
extern const struct registry_table sched_sampler_registry, sched_spacing_registry, sched_prediction_registry;

/* The diffusers class a sampler name stands for ("pndm" -> "PNDMScheduler"), or NULL if
 * unknown. */
const char *sched_class_of_sampler(const char *sampler);
/* Automatic1111's name for a sampler ("euler-a" -> "Euler a"); an unknown name as it is. */
const char *sched_a1111_sampler(const char *sampler);

/* from_config: cfg is a scheduler config (a scheduler_config.json, or a fixture's resolved
 * config; may be NULL = all of class_name's defaults); class_name a diffusers class name.
 * A2I2A_ERR_UNSUPPORTED for settings not implemented (thresholding, zero-SNR rescale, ...). */
a2i2a_status sched_config_from_json(const cJSON *cfg, const char *class_name, sched_config *out);
/* Same from a sampler name, with an optional spacing override ("leading", "linspace",
 * "trailing"; NULL or "" = the class default / config value). */
a2i2a_status sched_config_for_sampler(const cJSON *cfg, const char *sampler, const char *spacing, sched_config *out);
a2i2a_status sched_parse_spacing(const char *name, sched_spacing *out);
/* What the model predicts, overriding its config: "epsilon" or "v" (NULL = keep). A single-file
 * checkpoint carries no scheduler config, so SD 2.x files are taken as v-prediction, as diffusers'
 * from_single_file does; SD 2.x-base and SD-Turbo files need "epsilon". */
a2i2a_status sched_override_prediction(sched_config *c, const char *name);
/* "epsilon" -> PRED_EPSILON, "v" -> PRED_V; anything else A2I2A_ERR_PARAM (out may be NULL). */
a2i2a_status sched_parse_prediction(const char *name, sched_prediction *out);
const char *sched_spacing_name(sched_spacing s);

typedef struct sched sched;

a2i2a_status sched_new(const sched_config *cfg, sched **out);
void sched_free(sched *s);
const sched_config *sched_cfg(const sched *s);
/* The training tables (num_train_timesteps values each). */
const float *sched_betas(const sched *s);
const float *sched_alphas_cumprod(const sched *s);

/* set_timesteps(n): builds the schedule and resets the step state. Fails (ERR_PARAM, with
 * diffusers' reason) where diffusers raises, e.g. LCM with more steps than its original ones. */
a2i2a_status sched_set_timesteps(sched *s, int n);
/* The schedule after set_timesteps: count (PNDM: n + 1), timesteps, and sigmas (count + 1
 * values, Euler/LMS/DPM only; NULL otherwise). */
int sched_count(const sched *s);
const double *sched_timesteps(const sched *s);
const float *sched_sigmas(const sched *s);
float sched_init_noise_sigma(const sched *s);

/* StableDiffusionImg2ImgPipeline.get_timesteps: init_timestep = min(int(n·strength), n),
 * t_start = max(n − init_timestep, 0); the iterations are timesteps[t_start..count). */
void sched_img2img_range(int n, double strength, int *init_timestep, int *t_start);

/* x = add_noise(x0, noise, t), n values (x may alias x0). */
void sched_add_noise(const sched *s, const float *x0, const float *noise, double t, float *x, size_t n);
/* scale_model_input(x, t): out may alias in. */
void sched_scale_model_input(sched *s, double t, const float *in, float *out, size_t n);
/* One step: model_output at timestep t on sample -> prev_sample (may alias sample);
 * pred_original (may be NULL) receives x0 (LCM: `denoised`) where the scheduler computes one.
 * Draws from noise where diffusers draws (Euler, Euler-a, LCM). */
a2i2a_status sched_step(sched *s, const float *model_output, double t, const float *sample, float *prev_sample,
                        float *pred_original, sd_noise *noise, size_t n);
/* Whether the scheduler returns a pred_original_sample (PNDM and DPM++ do not). */
int sched_has_pred_original(const sched *s);

#endif
