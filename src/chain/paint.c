/* The chain's img2img step on the engine's pipeline, with the prompts' embeddings kept for the
 * next runs of the same model (several seeds and inputs encode each prompt once). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/chain.h"
#include "common/err.h"
#include "common/job.h"
#include "common/rng.h"
#include "sd/pipeline.h"
#include "sd/sd_image.h"

/* The img2img settings as JSON (no paths: the same run gives the same bytes). */
static a2i2a_status i2i_record(struct a2i2a_model *mdl, const a2i2a_i2i_params *p, const sd_i2i_config *c, int W, int H,
                               png_meta *meta) {
  char sha[65];
  a2i2a_status st = a2i2a_model_sha256(mdl, sha);
  if (st) return st;
  cJSON *j = sd_i2i_settings_json(mdl, p, sched_spacing_name(c->sched.spacing), NULL, W, H, sha);
  char *js = cJSON_PrintUnformatted(j);
  cJSON_Delete(j);
  if (!js) return fail(A2I2A_ERR_NOMEM, "out of memory");
  st = png_meta_set(meta, "a2i2a-i2i", js);
  free(js);
  return st;
}

a2i2a_status chain_paint(struct a2i2a_model *mdl, const char *in_png, const char *out_png, const a2i2a_i2i_params *p,
                         a2i2a_job *job) {
  image_u8 img = {0}, sized = {0}, out = {0};
  png_meta meta;
  png_meta_init(&meta);
  float *chw = NULL, *hwc = NULL;
  int H = 0, W = 0;
  sd_i2i_config cfg = {.steps = p->steps, .strength = p->strength, .guidance = p->guidance};
  const float *cond = NULL, *uncond = NULL;
  a2i2a_status st = image_read(in_png, &img, &meta);
  if (st) goto done;
  const image_u8 *src = &img;
  if (p->width > 0 || p->height > 0) { /* an explicit size: Pillow's LANCZOS, as diffusers resizes */
    st = image_resize(&img, p->width > 0 ? p->width : img.w, p->height > 0 ? p->height : img.h, "lanczos", &sized);
    if (st) goto done;
    src = &sized;
  }
  if ((st = sd_image_preprocess(src, &chw, &H, &W))) goto done;
  double need = sd_i2i_memory_estimate(mdl, H, W), have = sd_memory_available();
  if (have > 0 && need > have) {
    st = fail(A2I2A_ERR_NOMEM, "%s: painting %dx%d needs about %.1f GB, %.1f GB available", in_png, W, H, need / 1e9,
              have / 1e9);
    goto done;
  }
  if ((st = sched_config_for_sampler(mdl->m.scheduler_config, p->sampler ? p->sampler : "pndm", p->spacing, &cfg.sched)) ||
      (st = sched_override_prediction(&cfg.sched, p->prediction)))
    goto done;
  if ((st = job_check(job))) goto done;
  if ((st = sd_prompt_embedding(mdl, p->prompt, p->clip_skip, "prompt", job, &cond))) goto done;
  if (p->guidance > 1 && (st = sd_prompt_embedding(mdl, p->negative_prompt, p->clip_skip, "negative prompt", job, &uncond)))
    goto done;
  torch_rng g;
  rng_seed(&g, p->seed);
  sd_noise noise = {.rng = &g};
  hwc = xmalloc((size_t)H * W * 3 * sizeof *hwc, "the painting");
  if (!hwc) {
    st = A2I2A_ERR_NOMEM;
    goto done;
  }
  sd_i2i_io io = {.job = job};
  if ((st = sd_img2img(mdl, chw, H, W, cond, uncond, &cfg, &noise, &io, hwc))) goto done;
  if ((st = sd_image_to_u8(hwc, H, W, &out))) goto done;
  /* the painting keeps the spectrogram's chunks: its style and parameters, Riffusion's EXIF */
  if ((st = i2i_record(mdl, p, &cfg, W, H, &meta))) goto done;
  st = png_write(out_png, &out, &meta, 1);
done:
  if (st && st != A2I2A_ERR_CANCELLED && !strstr(a2i2a_last_error(), in_png)) fail_prefix(in_png);
  image_free(&img), image_free(&sized), image_free(&out);
  png_meta_free(&meta);
  free(chw), free(hwc);
  return st;
}
