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
#include "sd/model.h"
#include "sd/scheduler.h"
#include "sd/unet.h"
#include "sd/vae.h"

/* The public a2i2a_model: a checkpoint with its networks loaded. */
struct a2i2a_model {
  sd_model m;
  clip_tokenizer *tok;
  clip_text *clip;
  unet *unet;
  vae *vae;
  char sha256[65]; /* "" until a2i2a_model_sha256 computed it */
};

/* Opens and loads a model (the networks keep views of the mapped checkpoint). */
a2i2a_status sd_pipeline_open(const char *path_or_repo, struct a2i2a_model **out);
void sd_pipeline_close(struct a2i2a_model *mdl);

/* The UNet's conditioning for a prompt: [77][hidden] (clip_skip as in clip_encode). */
a2i2a_status sd_encode_prompt(struct a2i2a_model *mdl, const char *text, int clip_skip, float *out, int *dropped);
int sd_context_dim(const struct a2i2a_model *mdl);

/* Classifier-free guidance: out = uncond + g·(cond − uncond), in torch's float32 order. */
void sd_cfg_combine(const float *uncond, const float *cond, float g, float *out, size_t n);

typedef struct {
  int steps;
  double strength, guidance;
  sched_config sched;
} sd_i2i_config;

/* Optional observers: a per-iteration callback and buffers that receive intermediates. */
typedef struct {
  void (*step_done)(void *user, int done, int total);
  void *user;
  float *latents_start; /* [4][h][w] after add_noise */
  float *final_latents; /* [4][h][w] */
  float *decoded;       /* [3][H][W] raw decoder output */
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

/* An estimate of the memory (bytes) a run at H×W needs: weights, UNet and VAE activations. */
double sd_i2i_memory_estimate(const struct a2i2a_model *mdl, int H, int W);
/* Memory available to us (bytes): MemAvailable, the cgroup limit, or A2I2A_MEMORY_MB if set. */
double sd_memory_available(void);

/* The img2img settings as the JSON our PNGs carry (i2i's "a2i2a" chunk, the chain's "a2i2a-i2i"
 * chunk); input is the picture's path, or NULL to leave paths out (the chain's replayable bytes). */
cJSON *sd_i2i_settings_json(struct a2i2a_model *m, const a2i2a_i2i_params *p, const char *spacing,
                            const char *input, int W, int H, const char *sha);

#endif
