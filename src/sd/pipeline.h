/* Stable Diffusion img2img exactly as diffusers' StableDiffusionImg2ImgPipeline (README §7.6):
 *   1. encode the prompt and the negative prompt (77 tokens each);
 *   2. set_timesteps(N), then the strength subset timesteps[t_start:];
 *   3. VAE-encode the picture, sample the posterior (noise draw #1), × scaling factor;
 *   4. add_noise at the subset's first timestep (noise draw #2);
 *   5. per timestep: scale_model_input → UNet (uncond and cond when guidance > 1) →
 *      uncond + g·(cond − uncond) → scheduler step (Euler/Euler-a/LCM draw here);
 *   6. decode(latents / scaling factor), clamp(x/2 + 0.5, 0, 1).
 * Every random tensor comes from one sd_noise source in that order. */
#ifndef A2I2A_PIPELINE_H
#define A2I2A_PIPELINE_H

#include "a2i2a.h"
#include "sd/clip.h"
#include "sd/lora.h"
#include "sd/model.h"
#include "sd/scheduler.h"
#include "sd/taesd.h"
#include "sd/unet.h"
#include "sd/vae.h"

/* The largest picture side img2img accepts (SD works at 512–1024; far beyond is a mistake). */
#define I2I_MAX_SIDE 8192

/* A prompt's embedding, kept by the model for the next calls with the same prompt. */
typedef struct {
  char *text;
  int clip_skip;
  int dropped; /* tokens past CLIP's 77 */
  float *emb;  /* [CLIP_CTX][context_dim] */
} sd_cached_prompt;

enum { SD_MAX_CACHED_PROMPTS = 64 };

/* A TAESD the model's runs used, kept for the next ones (a run's and its previews' may differ). */
typedef struct {
  char *path; /* as asked for */
  taesd *t;
} sd_cached_taesd;

enum { SD_MAX_CACHED_TAESD = 2 };

/* The public a2i2a_model: a checkpoint with its networks loaded. Everything a job changes
 * lives here (one job at a time per model), nothing in the process. */
struct a2i2a_model {
  sd_model m;
  clip_tokenizer *tok;
  clip_text *clip;
  unet *unet;
  vae *vae;
  char sha256[65]; /* "" until a2i2a_model_sha256 computed it */
  sd_cached_prompt prompts[SD_MAX_CACHED_PROMPTS];
  int nprompts;
  sd_lora_set loras; /* merged into the checkpoint's UNet and text encoder weights (lora.h) */
  sd_cached_taesd taesds[SD_MAX_CACHED_TAESD];
};

/* Opens and loads a model (the networks keep views of the mapped checkpoint). */
a2i2a_status sd_pipeline_open(const char *path_or_repo, struct a2i2a_model **out);
void sd_pipeline_close(struct a2i2a_model *mdl);

/* The UNet's conditioning for a prompt: [77][hidden] (clip_skip as in clip_encode). */
a2i2a_status sd_encode_prompt(struct a2i2a_model *mdl, const char *text, int clip_skip, float *out, int *dropped);
/* The same, kept in the model for the next calls: *out stays valid until the model is closed
 * or sd_forget_prompts; a prompt cut at CLIP's 77 tokens is logged as a warning on the job. */
a2i2a_status sd_prompt_embedding(struct a2i2a_model *mdl, const char *text, int clip_skip, const char *what,
                                 a2i2a_job *job, const float **out);
void sd_forget_prompts(struct a2i2a_model *mdl);
/* The TAESD at path (taesd_open's forms), opened once and kept by the model until it closes;
 * opening it is what checks it, so runs ask for it before their work. */
a2i2a_status sd_pipeline_taesd(struct a2i2a_model *mdl, const char *path, taesd **out);
/* The SHA-256 of that TAESD's weights file (what run.json and the PNG record). */
a2i2a_status sd_taesd_sha256(struct a2i2a_model *mdl, const char *path, char hex[65]);
int sd_context_dim(const struct a2i2a_model *mdl);

/* Classifier-free guidance: out = uncond + g·(cond − uncond), in torch's float32 order. */
void sd_cfg_combine(const float *uncond, const float *cond, float g, float *out, size_t n);

typedef struct {
  int steps;
  double strength, guidance;
  sched_config sched;
  int wrap; /* KERNELS_WRAP_X | KERNELS_WRAP_Y: circular padding (a2i2a_i2i_params.tile) */
  taesd *taesd; /* NULL: the VAE; else TAESD replaces it on both sides: its encoder's output is the
                   initial latent (no sampling, no noise draw, scaling 1.0), its decoder makes the
                   picture of the final latents */
  int low_memory; /* stream the UNet's weights block by block, free the UNet's buffers before the
                     decode, tile the VAE (VAE_TILE): a smaller peak, a little slower, and (once
                     the picture takes more than one tile) a slightly different painting */
} sd_i2i_config;

/* The tilings a2i2a_i2i_params.tile names ("x", "y", "xy"), and the axes one wraps (NULL: 0). */
extern const struct registry_table sd_tile_registry;
a2i2a_status sd_tile_axes(const char *tile, int *axes);

/* Optional observers: the job (cancel between UNet evaluations, progress and previews per
 * step) and buffers that receive intermediates. */
typedef struct {
  a2i2a_job *job;
  float *latents_start; /* [4][h][w] after add_noise */
  float *final_latents; /* [4][h][w] */
  float *decoded;       /* [3][H][W] raw decoder output */
  taesd *preview_taesd; /* decodes every step's preview (NULL: the latent projection) */
} sd_i2i_io;

/* The number of denoising iterations for (steps, strength) with this sampler (PNDM's warm-up
 * adds one); 0 means nothing would run (steps × strength < 1). */
int sd_i2i_iterations(const sd_i2i_config *c);

/* img2img on a preprocessed picture image [3][H][W] in [-1, 1] (H, W multiples of 8); cond and
 * uncond are [77][context_dim] (uncond only read when guidance > 1). out_hwc receives
 * [H][W][3] in [0, 1] (output_type "np"). */
a2i2a_status sd_img2img(struct a2i2a_model *mdl, const float *image, int H, int W, const float *cond,
                        const float *uncond, const sd_i2i_config *c, sd_noise *noise, sd_i2i_io *io,
                        float *out_hwc);

/* The linear latent → RGB preview of model-space latents [4][h][w] (docs/library.md): rgb gets
 * h × w × 3 bytes. */
void sd_latent_preview(const float *x0, int h, int w, uint8_t *rgb);
/* The denoised estimate x0 from the UNet's input x_t (DDPM space: scale_model_input's output)
 * and its guided output at timestep t, whatever the sampler: what the picture will become. */
void sd_estimate_x0(const sched *s, double t, const float *xt, const float *out, float *x0, size_t n);

/* An estimate of the memory (bytes) a run at H×W needs: weights, UNet and VAE activations
 * (checked against common/memory.h's memory_available); low_memory: sd_i2i_config's. */
double sd_i2i_memory_estimate(const struct a2i2a_model *mdl, int H, int W, int low_memory);
a2i2a_status sd_i2i_check(const struct a2i2a_model *m, const a2i2a_i2i_params *p, int w, int h, int *W, int *H);
/* Opens the TAESD the job names for its previews (a2i2a_callbacks.preview_taesd), if it wants
 * previews: a chain's check before the work that comes before its painting. */
a2i2a_status sd_preview_check(struct a2i2a_model *m, const a2i2a_job *job);

/* The text chunk of a painting that holds its img2img settings as JSON (beside the picture's own
 * chunks, e.g. a spectrogram's "a2i2a", and Automatic1111's "parameters"). */
#define SD_I2I_JSON_KEY "a2i2a-i2i"

/* The img2img settings as that JSON; input is the picture's path, or NULL to leave paths out
 * (what paintings carry: the same run gives the same bytes). */
cJSON *sd_i2i_settings_json(struct a2i2a_model *m, const a2i2a_i2i_params *p, const char *spacing,
                            const char *input, int W, int H, const char *sha);

#endif
