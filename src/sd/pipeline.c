/* img2img as diffusers 0.25.1's StableDiffusionImg2ImgPipeline (see pipeline.h). */
#include "sd/pipeline.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/err.h"
#include "common/job.h"
#include "common/registry.h"
#include "sd/kernels.h"
#include "common/sha256.h"
#include "sd/sd_image.h"

/* ------------------------------------------------------------------------ model */

a2i2a_status sd_pipeline_open(const char *path_or_repo, struct a2i2a_model **out) {
  *out = NULL;
  struct a2i2a_model *mdl = xcalloc(1, sizeof *mdl, "model");
  if (!mdl) return A2I2A_ERR_NOMEM;
  a2i2a_status st = sd_model_open(path_or_repo, &mdl->m);
  if (st) {
    free(mdl);
    return st;
  }
  if ((st = tokenizer_load(&mdl->tok, &mdl->m)) || (st = clip_load(&mdl->clip, &mdl->m)) ||
      (st = unet_load(&mdl->unet, &mdl->m)) || (st = vae_load(&mdl->vae, &mdl->m))) {
    sd_pipeline_close(mdl);
    return st;
  }
  if (clip_hidden_size(mdl->clip) != unet_context_dim(mdl->unet)) {
    st = fail(A2I2A_ERR_MODEL, "%s: the text encoder's width (%d) is not the UNet's context width (%d)",
              mdl->m.path, clip_hidden_size(mdl->clip), unet_context_dim(mdl->unet));
    sd_pipeline_close(mdl);
    return st;
  }
  *out = mdl;
  return A2I2A_OK;
}

void sd_pipeline_close(struct a2i2a_model *mdl) {
  if (!mdl) return;
  sd_forget_prompts(mdl);
  for (int i = 0; i < SD_MAX_CACHED_TAESD; i++) free(mdl->taesds[i].path), taesd_free(mdl->taesds[i].t);
  tokenizer_free(mdl->tok);
  clip_free(mdl->clip);
  unet_free(mdl->unet);
  vae_free(mdl->vae);
  sd_lora_set_free(&mdl->loras);
  sd_model_close(&mdl->m);
  free(mdl);
}

int sd_context_dim(const struct a2i2a_model *mdl) { return unet_context_dim(mdl->unet); }

a2i2a_status sd_encode_prompt(struct a2i2a_model *mdl, const char *text, int clip_skip, float *out, int *dropped) {
  int ids[CLIP_CTX], d = 0;
  a2i2a_status st = tokenizer_encode(mdl->tok, text ? text : "", ids, &d);
  if (st) return st;
  if (dropped) *dropped = d;
  return clip_encode(mdl->clip, ids, clip_skip, out);
}

void sd_forget_prompts(struct a2i2a_model *mdl) {
  for (int i = 0; i < mdl->nprompts; i++) free(mdl->prompts[i].text), free(mdl->prompts[i].emb);
  mdl->nprompts = 0;
}

a2i2a_status sd_prompt_embedding(struct a2i2a_model *mdl, const char *text, int clip_skip, const char *what,
                                 a2i2a_job *job, const float **out) {
  if (!text) text = "";
  sd_cached_prompt *c = NULL;
  for (int i = 0; i < mdl->nprompts && !c; i++)
    if (mdl->prompts[i].clip_skip == clip_skip && !strcmp(mdl->prompts[i].text, text)) c = &mdl->prompts[i];
  if (!c) {
    if (mdl->nprompts == SD_MAX_CACHED_PROMPTS) sd_forget_prompts(mdl);
    size_t n = (size_t)CLIP_CTX * (size_t)sd_context_dim(mdl);
    float *emb = xmalloc(n * sizeof *emb, "a prompt's embedding");
    char *copy = strdup(text);
    if (!emb || !copy) {
      free(emb), free(copy);
      return fail(A2I2A_ERR_NOMEM, "out of memory encoding a prompt");
    }
    int dropped = 0;
    a2i2a_status st = sd_encode_prompt(mdl, text, clip_skip, emb, &dropped);
    if (st) {
      free(emb), free(copy);
      return st;
    }
    c = &mdl->prompts[mdl->nprompts++];
    *c = (sd_cached_prompt){copy, clip_skip, dropped, emb};
  }
  /* diffusers warns and cuts at 75 tokens; so do we */
  if (c->dropped > 0)
    job_log(job, A2I2A_LOG_WARNING, "the %s is %d token%s over CLIP's 75; the end is ignored", what, c->dropped,
            c->dropped == 1 ? "" : "s");
  *out = c->emb;
  return A2I2A_OK;
}

/* ------------------------------------------------------------------------ TAESD */

a2i2a_status sd_pipeline_taesd(struct a2i2a_model *mdl, const char *path, taesd **out) {
  *out = NULL;
  sd_cached_taesd *c = mdl->taesds;
  for (int i = 0; i < SD_MAX_CACHED_TAESD; i++)
    if (c[i].path && !strcmp(c[i].path, path)) {
      *out = c[i].t;
      return A2I2A_OK;
    }
  taesd *t;
  a2i2a_status st = taesd_open(path, &t);
  if (st) return st;
  char *copy = strdup(path);
  if (!copy) {
    taesd_free(t);
    return fail(A2I2A_ERR_NOMEM, "out of memory");
  }
  /* the oldest goes: the last slot, the others move down */
  free(c[SD_MAX_CACHED_TAESD - 1].path), taesd_free(c[SD_MAX_CACHED_TAESD - 1].t);
  memmove(c + 1, c, (SD_MAX_CACHED_TAESD - 1) * sizeof *c);
  c[0] = (sd_cached_taesd){copy, t};
  *out = t;
  return A2I2A_OK;
}

a2i2a_status sd_taesd_sha256(struct a2i2a_model *mdl, const char *path, char hex[65]) {
  taesd *t;
  a2i2a_status st = sd_pipeline_taesd(mdl, path, &t);
  return st ? st : taesd_sha256(t, hex);
}

/* ------------------------------------------------------------------------ memory modes */

/* The UNet weights that stay mapped in the default mode: the first blocks of a pass up to this
 * many bytes (all of SD 1.x/2.x's down path and more); the rest is read back from the page
 * cache at each pass, so that a 512x512 run's peak stays under 1.8 GB (bench/RESULTS.md). */
#define UNET_RESIDENT_BYTES ((size_t)1200 << 20)

/* The VAE's decode, tiled in the low-memory mode. */
static a2i2a_status decode_latents(struct a2i2a_model *mdl, int low_memory, const float *x, int h, int w,
                                   float *out) {
  return low_memory ? vae_decode_tiled(mdl->vae, x, h, w, out, VAE_TILE, VAE_TILE_OVERLAP)
                    : vae_decode(mdl->vae, x, h, w, out);
}

/* ------------------------------------------------------------------------ previews */

/* Model-space latent channel → RGB, applied as rgb = (Σ_c x0[c]·M[c] + 1) / 2: Automatic1111's
 * "Approx cheap" (modules/sd_vae_approx.py, cheap_approximation) for SD 1.x, the same numbers
 * as ComfyUI's first SD15 latent_rgb_factors; SD 2.x uses the same kl-f8 autoencoder, so the
 * same matrix (stable-diffusion.cpp's --preview proj and ComfyUI use one table for both). */
static const float latent_rgb[4][3] = {
    {0.298f, 0.207f, 0.208f},
    {0.187f, 0.286f, 0.173f},
    {-0.158f, 0.189f, 0.264f},
    {-0.184f, -0.271f, -0.473f},
};

void sd_latent_preview(const float *x0, int h, int w, uint8_t *rgb) {
  size_t hw = (size_t)h * w;
  for (size_t i = 0; i < hw; i++)
    for (int k = 0; k < 3; k++) {
      float v = 0;
      for (int c = 0; c < 4; c++) v += x0[c * hw + i] * latent_rgb[c][k];
      v = (v + 1.0f) * 0.5f * 255.0f + 0.5f;
      rgb[i * 3 + k] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
    }
}

/* ᾱ at a (possibly fractional) timestep, by linear interpolation of the training table. */
static double alpha_bar_at(const sched *s, double t) {
  const float *ac = sched_alphas_cumprod(s);
  int n = sched_cfg(s)->num_train_timesteps;
  if (t <= 0) return ac[0];
  if (t >= n - 1) return ac[n - 1];
  int i = (int)t;
  double f = t - i;
  return (1 - f) * ac[i] + f * ac[i + 1];
}

void sd_estimate_x0(const sched *s, double t, const float *xt, const float *out, float *x0, size_t n) {
  double ab = alpha_bar_at(s, t);
  float sa = (float)sqrt(ab), sb = (float)sqrt(1 - ab);
  switch (sched_cfg(s)->prediction) {
  case PRED_EPSILON:
    for (size_t i = 0; i < n; i++) x0[i] = (xt[i] - sb * out[i]) / sa;
    break;
  case PRED_V:
    for (size_t i = 0; i < n; i++) x0[i] = sa * xt[i] - sb * out[i];
    break;
  case PRED_SAMPLE: memcpy(x0, out, n * sizeof *x0); break;
  }
}

/* After step k: every N steps (and after the last) a full VAE decode of x0; else a TAESD decode
 * of it when there is one; else its projection. */
static a2i2a_status send_preview(struct a2i2a_model *mdl, int low_memory, taesd *pt, a2i2a_job *job,
                                 const sched *s, double t, const float *xt, const float *out, int h, int w, int k,
                                 int iters, float *x0, uint8_t *rgb, float *dec) {
  size_t nl = (size_t)4 * h * w;
  sd_estimate_x0(s, t, xt, out, x0, nl);
  int every = job->cb.preview_vae_every, factor = 8;
  a2i2a_preview pv = {.step = k, .total = iters};
  a2i2a_status st;
  if (every > 0 && (k % every == 0 || k == iters)) {
    float sf = vae_scaling_factor(mdl->vae);
    for (size_t i = 0; i < nl; i++) x0[i] /= sf;
    vae_dims(mdl->vae, &factor, NULL, NULL);
    st = decode_latents(mdl, low_memory, x0, h, w, dec);
    pv.decoded = 1;
  } else if (every > 0) {
    return A2I2A_OK;
  } else if (pt) {
    taesd_dims(pt, &factor, NULL, NULL);
    st = taesd_decode(pt, x0, h, w, dec);
    pv.decoded = 2;
  } else {
    sd_latent_preview(x0, h, w, rgb);
    pv.width = w, pv.height = h, pv.rgb = rgb;
    job_preview(job, &pv);
    return A2I2A_OK;
  }
  if (st) return st;
  int H = h * factor, W = w * factor;
  size_t HW = (size_t)H * W;
  for (size_t i = 0; i < HW; i++)
    for (int c = 0; c < 3; c++) {
      float v = (dec[c * HW + i] * 0.5f + 0.5f) * 255.0f + 0.5f;
      rgb[i * 3 + c] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
    }
  pv.width = W, pv.height = H, pv.rgb = rgb;
  job_preview(job, &pv);
  return A2I2A_OK;
}

/* ------------------------------------------------------------------------ the loop */

void sd_cfg_combine(const float *uncond, const float *cond, float g, float *out, size_t n) {
  for (size_t i = 0; i < n; i++) out[i] = uncond[i] + g * (cond[i] - uncond[i]);
}

int sd_i2i_iterations(const sd_i2i_config *c) {
  int init, t_start;
  sched_img2img_range(c->steps, c->strength, &init, &t_start);
  if (init < 1) return 0;
  /* PNDM's schedule has one entry more than its step count (the repeated second timestep) */
  int count = c->sched.kind == SCHED_PNDM && c->steps > 1 ? c->steps + 1 : c->steps;
  return count - t_start;
}

static a2i2a_status img2img(struct a2i2a_model *mdl, const float *image, int H, int W, const float *cond,
                            const float *uncond, const sd_i2i_config *c, sd_noise *noise, sd_i2i_io *io,
                            float *out_hwc);

/* The tiling lasts the call: the UNet's and the VAE's convolutions (previews included) wrap. */
a2i2a_status sd_img2img(struct a2i2a_model *mdl, const float *image, int H, int W, const float *cond,
                        const float *uncond, const sd_i2i_config *c, sd_noise *noise, sd_i2i_io *io,
                        float *out_hwc) {
  int before = kernels_wrap();
  kernels_set_wrap(c->wrap);
  a2i2a_status st = img2img(mdl, image, H, W, cond, uncond, c, noise, io, out_hwc);
  kernels_set_wrap(before);
  return st;
}

static const struct {
  a2i2a_entry entry;
  int axes;
} tiles[] = {
    {{"x", "the painting wraps around left to right (each reading loops seamlessly)", "{}"}, KERNELS_WRAP_X},
    {{"y", "the painting wraps around top to bottom", "{}"}, KERNELS_WRAP_Y},
    {{"xy", "the painting wraps around both ways", "{}"}, KERNELS_WRAP_X | KERNELS_WRAP_Y},
};
const registry_table sd_tile_registry = REGISTRY_TABLE(NULL, "tiling", tiles, NULL);

a2i2a_status sd_tile_axes(const char *tile, int *axes) {
  *axes = 0;
  if (!tile) return A2I2A_OK;
  int i = registry_index(&sd_tile_registry, tile);
  if (i < 0) return registry_unknown(&sd_tile_registry, tile);
  *axes = tiles[i].axes;
  return A2I2A_OK;
}

static a2i2a_status img2img(struct a2i2a_model *mdl, const float *image, int H, int W, const float *cond,
                            const float *uncond, const sd_i2i_config *c, sd_noise *noise, sd_i2i_io *io,
                            float *out_hwc) {
  int factor, L, IC;
  if (c->taesd) taesd_dims(c->taesd, &factor, &L, &IC);
  else vae_dims(mdl->vae, &factor, &L, &IC);
  if (H % factor || W % factor || H < factor || W < factor)
    return fail(A2I2A_ERR_PARAM, "picture size %dx%d: each side must be a positive multiple of %d", W, H, factor);
  if (c->strength < 0 || c->strength > 1)
    return fail(A2I2A_ERR_PARAM, "strength %g: must be between 0 and 1", c->strength);
  int h = H / factor, w = W / factor;
  size_t nl = (size_t)L * h * w;
  int cfg = c->guidance > 1.0;
  if (cfg && !uncond) return fail(A2I2A_ERR_INTERNAL, "guidance > 1 needs the unconditional embedding");
  int nctx = CLIP_CTX;

  sched *s = NULL;
  a2i2a_status st = sched_new(&c->sched, &s);
  if (st) return st;
  if ((st = sched_set_timesteps(s, c->steps))) goto out_sched;
  int init_timestep, t_start;
  sched_img2img_range(c->steps, c->strength, &init_timestep, &t_start);
  int count = sched_count(s);
  if (init_timestep < 1 || t_start >= count) {
    st = fail(A2I2A_ERR_PARAM,
              "steps x strength = %d x %g < 1: nothing to denoise (raise --steps or --strength)", c->steps,
              c->strength);
    goto out_sched;
  }
  const double *ts = sched_timesteps(s);
  int iters = count - t_start;

  float *mean = xmalloc(nl * sizeof(float), "latents"), *logvar = xmalloc(nl * sizeof(float), "latents");
  float *x = xmalloc(nl * sizeof(float), "latents"), *eps = xmalloc(nl * sizeof(float), "latents");
  /* with guidance the UNet sees the batch [uncond, cond]: the latents twice, both contexts */
  int nb = cfg ? 2 : 1, dctx = unet_context_dim(mdl->unet);
  float *xin = xmalloc(nb * nl * sizeof(float), "latents"), *out2 = xmalloc(nb * nl * sizeof(float), "latents");
  float *ctx2 = xmalloc((size_t)nb * nctx * dctx * sizeof(float), "prompt embeddings");
  float *decoded = io && io->decoded ? io->decoded : xmalloc((size_t)IC * H * W * sizeof(float), "decoded picture");
  a2i2a_job *job = io ? io->job : NULL;
  taesd *pv_taesd = io ? io->preview_taesd : NULL;
  int previews = job_wants_preview(job), decoded_previews = previews && (job->cb.preview_vae_every > 0 || pv_taesd);
  float *pv_x0 = previews ? xmalloc(nl * sizeof(float), "preview") : NULL;
  uint8_t *pv_rgb = previews ? xmalloc(decoded_previews ? (size_t)3 * H * W : (size_t)3 * h * w, "preview") : NULL;
  if (!mean || !logvar || !x || !eps || !xin || !out2 || !ctx2 || !decoded || (previews && (!pv_x0 || !pv_rgb))) {
    st = A2I2A_ERR_NOMEM;
    goto out;
  }

  if (cfg) memcpy(ctx2, uncond, (size_t)nctx * dctx * sizeof(float));
  memcpy(ctx2 + (size_t)(nb - 1) * nctx * dctx, cond, (size_t)nctx * dctx * sizeof(float));

  /* the prompts are encoded by now: the text encoder's pages can go */
  sd_model_release(&mdl->m, SD_TEXT);

  /* 3. the posterior's sample (draw #1), scaled; TAESD's latents are the UNet's as they are */
  float sf = c->taesd ? 1.0f : vae_scaling_factor(mdl->vae);
  if (c->taesd) {
    if ((st = taesd_encode(c->taesd, image, H, W, x))) goto out;
  } else {
    if ((st = c->low_memory ? vae_encode_tiled(mdl->vae, image, H, W, mean, logvar, VAE_TILE, VAE_TILE_OVERLAP)
                            : vae_encode(mdl->vae, image, H, W, mean, logvar)))
      goto out;
    if ((st = sd_noise_draw(noise, eps, nl))) goto out;
    vae_sample(x, mean, logvar, eps, nl);
    for (size_t i = 0; i < nl; i++) x[i] = sf * x[i];
  }
  /* the encoder's pages and the kernels' scratch at the picture's full size go before the UNet
   * comes in (the decoder's pages were not read yet) */
  if (!c->taesd) sd_model_release(&mdl->m, SD_VAE);
  /* the scratch in both modes: kept, the encode's buffers at the picture's full size sit beside
   * the UNet's weights (SD 1.5 at 512x512: 1.85 GB peak, against 1.69 GB released); it lives in
   * pages of its own (kernels.c), so freeing and regrowing it every job leaves a long-lived
   * caller's heap as it was (studio_load) */
  a2i2a_release_scratch();
  unet_set_resident_weights(mdl->unet, c->low_memory ? 0 : UNET_RESIDENT_BYTES);

  /* 4. noise at the first timestep (draw #2) */
  if ((st = sd_noise_draw(noise, eps, nl))) goto out;
  sched_add_noise(s, x, eps, ts[t_start], x, nl);
  if (io && io->latents_start) memcpy(io->latents_start, x, nl * sizeof(float));

  /* 5. denoise */
  float g = (float)c->guidance;
  job_stage(job, "painting", NULL, iters);
  for (int k = 0; k < iters; k++) {
    if ((st = job_check(job))) goto out;
    double t = ts[t_start + k];
    sched_scale_model_input(s, t, x, xin, nl);
    float tb[2] = {(float)t, (float)t};
    if (cfg) {
      memcpy(xin + nl, xin, nl * sizeof(float));
      if ((st = unet_forward_batch(mdl->unet, 2, xin, h, w, tb, ctx2, nctx, out2))) goto out;
      sd_cfg_combine(out2, out2 + nl, g, eps, nl);
    } else {
      if ((st = unet_forward_batch(mdl->unet, 1, xin, h, w, tb, ctx2, nctx, eps))) goto out;
    }
    if (previews &&
        (st = send_preview(mdl, c->low_memory, pv_taesd, job, s, t, xin, eps, h, w, k + 1, iters, pv_x0, pv_rgb,
                              decoded)))
      goto out;
    if ((st = sched_step(s, eps, t, x, x, NULL, noise, nl))) goto out;
    job_step(job, k + 1);
  }
  if ((st = job_check(job))) goto out;
  if (io && io->final_latents) memcpy(io->final_latents, x, nl * sizeof(float));

  /* 6. decode the unscaled latents, without the UNet's pages next to the decoder's activations */
  sd_model_release(&mdl->m, SD_UNET);
  if (c->low_memory) { /* nor its buffers and scratch */
    unet_release_buffers(mdl->unet);
    a2i2a_release_scratch();
  }
  if (c->taesd) {
    if ((st = taesd_decode(c->taesd, x, h, w, decoded))) goto out;
  } else {
    for (size_t i = 0; i < nl; i++) x[i] = x[i] / sf;
    if ((st = decode_latents(mdl, c->low_memory, x, h, w, decoded))) goto out;
  }
  sd_image_to_unit(decoded, H, W, out_hwc);

out:
  if (c->taesd) taesd_release(c->taesd);
  if (pv_taesd) taesd_release(pv_taesd);
  free(mean), free(logvar), free(x), free(eps), free(xin), free(out2), free(ctx2), free(pv_x0), free(pv_rgb);
  if (!(io && io->decoded)) free(decoded);
out_sched:
  sched_free(s);
  return st;
}

/* ------------------------------------------------------------------------ memory */

static double file_bytes(const st_file *f) { return f ? (double)f->map_size : 0; }

double sd_i2i_memory_estimate(const struct a2i2a_model *mdl, int H, int W, int low_memory) {
  /* weights are mapped: they count once they are paged in; streamed, about a tenth of the UNet's
   * (its largest blocks) is in at a time */
  double weights = 0;
  int nfiles = mdl->m.layout == SD_LAYOUT_LDM ? 1 : SD_NPARTS;
  for (int p = 0; p < nfiles; p++) weights += file_bytes(&mdl->m.file[p]);
  if (low_memory) {
    double unet_bytes = 0;
    const st_file *f = &mdl->m.file[mdl->m.layout == SD_LAYOUT_LDM ? 0 : SD_UNET];
    for (int i = 0; i < f->n; i++)
      if (mdl->m.layout != SD_LAYOUT_LDM || !strncmp(f->tensors[i].name, "model.diffusion_model.", 22))
        unet_bytes += (double)f->tensors[i].nbytes;
    weights -= 0.9 * unet_bytes;
  }
  /* the VAE at full resolution: about three activations of the widest full-resolution block
   * (twice conv_out's input width) plus the convolution's column scratch */
  const st_tensor *co = sd_tensor(&mdl->m, SD_VAE, mdl->m.layout == SD_LAYOUT_LDM
                                                       ? "first_stage_model.decoder.conv_out.weight"
                                                       : "decoder.conv_out.weight");
  double cf = co && co->ndim == 4 ? (double)co->shape[1] : 128;
  double hw = (double)H * W, tile = 8.0 * VAE_TILE, vhw = low_memory ? fmin(H, tile) * fmin(W, tile) : hw;
  double vae = 3.0 * 2.0 * cf * vhw * 4.0 + 9.0 * 2.0 * cf * vhw * 4.0 / 8.0;
  /* the UNet at 1/8: a few dozen activations of its first width for each of the two images of
   * a guided batch, and the encoder's input */
  double c0 = unet_get_config(mdl->unet)->block_out_channels[0];
  double unet = 2.0 * 64.0 * 4.0 * c0 * hw / 64.0;
  return weights + vae + unet + 3.0 * hw * 4.0 * 4.0 + 64.0 * 1048576.0;
}
