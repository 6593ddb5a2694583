/* img2img_*: the full StableDiffusionImg2ImgPipeline runs. Everything comes from the case:
 * settings (model folder, prompts, steps, strength, guidance, seed, scheduler class and config),
 * shapes from the stored tensors, tolerances from the manifest. Four passes:
 *   text      our tokenizer on the settings' prompts against the stored ids, and the embeddings;
 *   teacher   per iteration, the UNet on the stored unet_input against unet_output, guidance on
 *             the stored outputs, and the scheduler fed the stored guided output and the stored
 *             previous latents (PNDM's and LMS's state built from those) against
 *             latents_after_step;
 *   recorded  end to end from init_image_uint8 with the recorded noise tensors in draw order;
 *   seeded    end to end from the seed alone through our torch generator.
 * The uint8 picture passes when no value is off by more than 1 level and at most 1 % are off.
 * A case of a folder of extensions (sd-ext) names no model: it runs on the folder's base model
 * (verify_ctx), its scheduler config that model's; its text comes from the settings when it
 * stores no ids and embeddings (then only the end-to-end passes run). A case whose stem ends in
 * _taesd runs with the folder's TAESD in place of the VAE (no posterior noise; its encoder's
 * output checked against vae_encoder_output). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "image/image.h"
#include "sd/pipeline.h"
#include "sd/safetensors.h"
#include "sd/sd_image.h"
#include "verify/verify.h"
#include "verify/verify_img2img.h"

typedef struct {
  verify_ctx *v;
  const char *stem;
  const cJSON *manifest;
  st_file f;
} icase;

static float *get(const icase *c, const char *name, size_t numel) {
  const st_tensor *t = st_find(&c->f, name);
  if (!t || (numel && t->numel != numel)) return NULL;
  float *p = malloc(t->numel * sizeof(float) + 1);
  if (p) st_to_f32(t, p);
  return p;
}

static size_t numel_of(const icase *c, const char *name) {
  const st_tensor *t = st_find(&c->f, name);
  return t ? t->numel : 0;
}

static void cmp(icase *c, const char *pass, const char *name, const float *got, const float *ref, size_t n,
                const char *tol_of, double fallback) {
  char label[512];
  snprintf(label, sizeof label, "%s.%s.%s", c->stem, pass, name);
  double tol = verify_tolerance(c->manifest, name, -1);
  if (tol < 0) tol = verify_tolerance(c->manifest, tol_of, fallback);
  if (!ref || !got) {
    verify_error(c->v, label, "tensor missing");
    return;
  }
  verify_compare(c->v, label, got, ref, n, tol);
}

/* the uint8 picture: at most 1 level off, on at most 1 % of the values */
static void cmp_u8(icase *c, const char *pass, const uint8_t *got, size_t n) {
  char label[512];
  snprintf(label, sizeof label, "%s.%s.output_uint8", c->stem, pass);
  const st_tensor *t = st_find(&c->f, "output_uint8");
  if (!t || t->dtype != ST_U8 || t->numel != n) {
    verify_error(c->v, label, "output_uint8 missing or of another size");
    return;
  }
  const uint8_t *ref = t->data;
  int maxd = 0;
  size_t off = 0;
  for (size_t i = 0; i < n; i++) {
    int d = abs((int)got[i] - (int)ref[i]);
    if (d > maxd) maxd = d;
    if (d) off++;
  }
  snprintf(label, sizeof label, "%s.%s.output_uint8 (%zu of %zu off, max 1%%)", c->stem, pass, off, n);
  verify_line(c->v, label, maxd, 1, maxd <= 1 && off * 100 <= n);
}

static const char *setting_str(const cJSON *s, const char *k) {
  return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, k));
}
static double setting_num(const cJSON *s, const char *k, double def) {
  const cJSON *j = cJSON_GetObjectItemCaseSensitive(s, k);
  return cJSON_IsNumber(j) ? j->valuedouble : def;
}

static void ids_of(const icase *c, const char *name, int ids[CLIP_CTX], int *ok) {
  const st_tensor *t = st_find(&c->f, name);
  if (!t || t->numel != CLIP_CTX || t->dtype != ST_I64) {
    *ok = 0;
    return;
  }
  for (int i = 0; i < CLIP_CTX; i++) {
    int64_t v;
    memcpy(&v, (const uint8_t *)t->data + 8 * i, 8);
    ids[i] = (int)v;
  }
}

typedef struct {
  const char *pass;
  sd_noise *noise;
} e2e;

static void run_end_to_end(icase *c, struct a2i2a_model *mdl, const sd_i2i_config *cfg, const float *cond,
                           const float *uncond, const char *pass, sd_noise *noise) {
  const st_tensor *it = st_find(&c->f, "init_image_uint8");
  char label[512];
  snprintf(label, sizeof label, "%s.%s", c->stem, pass);
  if (!it || it->ndim != 3 || it->shape[2] != 3 || it->dtype != ST_U8) {
    verify_error(c->v, label, "init_image_uint8 missing");
    return;
  }
  image_u8 img = {(int)it->shape[1], (int)it->shape[0], 3, (uint8_t *)it->data};
  float *chw = NULL;
  int H, W;
  if (sd_image_preprocess(&img, &chw, &H, &W)) {
    verify_error(c->v, label, a2i2a_last_error());
    return;
  }
  int factor, L, IC;
  if (cfg->taesd) taesd_dims(cfg->taesd, &factor, &L, &IC);
  else vae_dims(mdl->vae, &factor, &L, &IC);
  size_t nl = (size_t)L * (H / factor) * (W / factor), npx = (size_t)IC * H * W;
  float *ls = malloc(nl * 4), *fl = malloc(nl * 4), *dec = malloc(npx * 4), *outf = malloc(npx * 4);
  sd_i2i_io io = {.latents_start = ls, .final_latents = fl, .decoded = dec};
  if (cfg->taesd && !strcmp(pass, "recorded") && ls) { /* the encoder on the preprocessed picture */
    float *r = get(c, "vae_encoder_output", nl);
    if (taesd_encode(cfg->taesd, chw, H, W, ls)) verify_error(c->v, label, a2i2a_last_error());
    else cmp(c, pass, "vae_encoder_output", ls, r, nl, "latents_start", 1e-4);
    free(r);
  }
  if (sd_img2img(mdl, chw, H, W, cond, uncond, cfg, noise, &io, outf)) {
    verify_error(c->v, label, a2i2a_last_error());
  } else {
    float *r;
    if (!strcmp(pass, "recorded")) {
      r = get(c, "preprocessed_image", npx);
      cmp(c, pass, "preprocessed_image", chw, r, npx, "preprocessed_image", 0);
      free(r);
    }
    r = get(c, "latents_start", nl);
    cmp(c, pass, "latents_start", ls, r, nl, "latents_start", 1e-4);
    free(r);
    r = get(c, "final_latents", nl);
    cmp(c, pass, "final_latents", fl, r, nl, "final_latents", 1e-3);
    free(r);
    r = get(c, "decoded_image", npx);
    cmp(c, pass, "decoded_image", dec, r, npx, "decoded_image", 1e-4);
    free(r);
    r = get(c, "output_float", npx);
    cmp(c, pass, "output_float", outf, r, npx, "output_float", 5e-5);
    free(r);
    image_u8 u8 = {0};
    if (!sd_image_to_u8(outf, H, W, &u8)) cmp_u8(c, pass, u8.px, npx);
    image_free(&u8);
    if (noise->replay && noise->pos != noise->replay_len) {
      snprintf(label, sizeof label, "%s.%s.noise draws", c->stem, pass);
      verify_error(c->v, label, "fewer noise tensors drawn than recorded");
    }
  }
  free(ls), free(fl), free(dec), free(outf), free(chw);
}

void verify_img2img_end_to_end(verify_ctx *v, const char *stem, const cJSON *manifest, const st_file *f,
                               struct a2i2a_model *mdl, const sd_i2i_config *cfg, const float *cond,
                               const float *uncond, const char *pass, sd_noise *noise) {
  icase c = {.v = v, .stem = stem, .manifest = manifest, .f = *f};
  run_end_to_end(&c, mdl, cfg, cond, uncond, pass, noise);
}

/* embeds: [negative, prompt], each [nctx][hidden] */
static void run_teacher(icase *c, struct a2i2a_model *mdl, const sd_i2i_config *cfg, const float *embeds, int nctx) {
  size_t nsteps_in = numel_of(c, "unet_input"), nl = numel_of(c, "latents_start");
  const st_tensor *tt = st_find(&c->f, "timesteps");
  const st_tensor *lt = st_find(&c->f, "latents_start");
  char label[512];
  snprintf(label, sizeof label, "%s.teacher", c->stem);
  if (!tt || !lt || lt->ndim != 4 || !nl || tt->numel == 0 || nsteps_in != tt->numel * 2 * nl) {
    verify_error(c->v, label, "per-iteration tensors missing or inconsistent");
    return;
  }
  int n = (int)tt->numel, h = (int)lt->shape[2], w = (int)lt->shape[3];
  float *tsteps = get(c, "timesteps", 0), *uin = get(c, "unet_input", 0), *uout = get(c, "unet_output", 0);
  float *guided = get(c, "guided_model_output", (size_t)n * nl), *after = get(c, "latents_after_step", (size_t)n * nl);
  float *start = get(c, "latents_start", nl), *step_noise = get(c, "step_noise", 0);
  float *got = malloc((size_t)n * 2 * nl * sizeof(float)), *gg = malloc((size_t)n * nl * sizeof(float));
  float *lat = malloc((size_t)n * nl * sizeof(float)), *buf = malloc(nl * sizeof(float));
  sched *s = NULL;
  if (!tsteps || !uin || !uout || !guided || !after || !start || !got || !gg || !lat || !buf) {
    verify_error(c->v, label, "cannot load the per-iteration tensors");
    goto done;
  }
  /* the UNet on every stored input, batch [uncond, cond] = embeds [negative, prompt] */
  for (int i = 0; i < n; i++) {
    float tt[2] = {tsteps[i], tsteps[i]};
    if (unet_forward_batch(mdl->unet, 2, uin + (size_t)i * 2 * nl, h, w, tt, embeds, nctx, got + (size_t)i * 2 * nl)) {
      verify_error(c->v, label, a2i2a_last_error());
      goto done;
    }
  }
  cmp(c, "teacher", "unet_output", got, uout, (size_t)n * 2 * nl, "final_latents", 1e-3);
  for (int i = 0; i < n; i++)
    sd_cfg_combine(uout + (size_t)i * 2 * nl, uout + ((size_t)i * 2 + 1) * nl, (float)cfg->guidance, gg + (size_t)i * nl,
                   nl);
  cmp(c, "teacher", "guided_model_output", gg, guided, (size_t)n * nl, "guided_model_output", 1e-6);

  /* the scheduler on the stored guided outputs and the stored previous latents */
  size_t nn = numel_of(c, "step_noise");
  sd_noise replay = {.replay = step_noise, .replay_len = step_noise ? nn : 0};
  if (sched_new(&cfg->sched, &s) || sched_set_timesteps(s, cfg->steps)) {
    verify_error(c->v, label, a2i2a_last_error());
    goto done;
  }
  int t_start;
  sched_img2img_range(cfg->steps, cfg->strength, NULL, &t_start);
  const double *ts = sched_timesteps(s);
  int bad_t = sched_count(s) - t_start != n;
  for (int i = 0; i < n && !bad_t; i++) {
    if ((float)ts[t_start + i] != tsteps[i]) bad_t = 1;
    const float *x = i == 0 ? start : after + (size_t)(i - 1) * nl;
    sched_scale_model_input(s, ts[t_start + i], x, buf, nl);
    /* the UNet's input is the scaled latents (both batch halves) */
    if (i == 0) {
      snprintf(label, sizeof label, "%s.teacher.unet_input[0]", c->stem);
      verify_compare(c->v, label, buf, uin, nl, verify_tolerance(c->manifest, "latents_start", 1e-4));
    }
    if (sched_step(s, guided + (size_t)i * nl, ts[t_start + i], x, lat + (size_t)i * nl, NULL, &replay, nl)) {
      snprintf(label, sizeof label, "%s.teacher", c->stem);
      verify_error(c->v, label, a2i2a_last_error());
      goto done;
    }
  }
  snprintf(label, sizeof label, "%s.teacher.timesteps", c->stem);
  verify_line(c->v, label, bad_t, 0, !bad_t);
  if (!bad_t) cmp(c, "teacher", "latents_after_step", lat, after, (size_t)n * nl, "final_latents", 1e-3);
done:
  sched_free(s);
  free(tsteps), free(uin), free(uout), free(guided), free(after), free(start), free(step_noise);
  free(got), free(gg), free(lat), free(buf);
}

/* Every pass of the case on one form of its model (c->stem labels the lines). */
static void run_model(icase *c, const cJSON *set, const sd_i2i_config *cfg, const char *model_path) {
  verify_ctx *v = c->v;
  const char *stem = c->stem;
  struct a2i2a_model *mdl = NULL;
  float *embeds = NULL, *mine = NULL;
  if (sd_pipeline_open(model_path, &mdl)) {
    verify_error(v, stem, a2i2a_last_error());
    goto done;
  }

  int hidden = sd_context_dim(mdl), ok = 1;
  size_t ne = (size_t)2 * CLIP_CTX * hidden;
  char label[512];
  if (!st_find(&c->f, "prompt_ids")) { /* no text tensors: the settings' prompts, end to end only */
    const char *neg = setting_str(set, "negative_prompt");
    mine = malloc(ne * sizeof(float));
    if (!mine || sd_encode_prompt(mdl, neg ? neg : "", 0, mine, NULL) ||
        sd_encode_prompt(mdl, setting_str(set, "prompt"), 0, mine + (size_t)CLIP_CTX * hidden, NULL)) {
      verify_error(v, stem, mine ? a2i2a_last_error() : "out of memory");
      goto done;
    }
    goto end_to_end;
  }
  /* text: ids from the prompts, embeddings [negative, prompt] */
  int ids_p[CLIP_CTX], ids_n[CLIP_CTX], my_p[CLIP_CTX], my_n[CLIP_CTX], dropped;
  ids_of(c, "prompt_ids", ids_p, &ok);
  ids_of(c, "negative_prompt_ids", ids_n, &ok);
  snprintf(label, sizeof label, "%s.text.prompt_ids", stem);
  if (!ok || tokenizer_encode(mdl->tok, setting_str(set, "prompt"), my_p, &dropped) ||
      tokenizer_encode(mdl->tok, setting_str(set, "negative_prompt") ? setting_str(set, "negative_prompt") : "", my_n,
                       &dropped)) {
    verify_error(v, label, ok ? a2i2a_last_error() : "ids missing");
    goto done;
  }
  int diff = memcmp(ids_p, my_p, sizeof ids_p) != 0 || memcmp(ids_n, my_n, sizeof ids_n) != 0;
  verify_line(v, label, diff, 0, !diff);
  embeds = get(c, "prompt_embeds", ne);
  mine = malloc(ne * sizeof(float));
  if (!embeds || !mine || clip_encode(mdl->clip, ids_n, 0, mine) ||
      clip_encode(mdl->clip, ids_p, 0, mine + (size_t)CLIP_CTX * hidden)) {
    verify_error(v, stem, embeds ? a2i2a_last_error() : "prompt_embeds missing or of another width");
    goto done;
  }
  cmp(c, "text", "prompt_embeds", mine, embeds, ne, "prompt_embeds", 5e-5);

  run_teacher(c, mdl, cfg, embeds, CLIP_CTX);

end_to_end:;
  /* end to end, recorded noise in draw order: VAE sample (not with TAESD), add_noise, then the steps' */
  size_t n1 = numel_of(c, "vae_sample_noise"), n2 = numel_of(c, "img2img_noise"), n3 = numel_of(c, "step_noise");
  float *rec = malloc((n1 + n2 + n3 + 1) * sizeof(float));
  float *a = n1 ? get(c, "vae_sample_noise", 0) : NULL, *b = get(c, "img2img_noise", 0),
        *s3 = n3 ? get(c, "step_noise", 0) : NULL;
  if (rec && (a || cfg->taesd) && b && (!n3 || s3)) {
    if (cfg->taesd) n1 = 0;
    if (n1) memcpy(rec, a, n1 * 4);
    memcpy(rec + n1, b, n2 * 4);
    if (n3) memcpy(rec + n1 + n2, s3, n3 * 4);
    sd_noise replay = {.replay = rec, .replay_len = n1 + n2 + n3};
    run_end_to_end(c, mdl, cfg, mine + (size_t)CLIP_CTX * hidden, mine, "recorded", &replay);
  } else {
    verify_error(v, stem, "recorded noise tensors missing");
  }
  free(rec), free(a), free(b), free(s3);

  /* end to end from the seed */
  const cJSON *seed = cJSON_GetObjectItemCaseSensitive(set, "seed");
  if (cJSON_IsNumber(seed)) {
    torch_rng g;
    rng_seed(&g, (uint64_t)seed->valuedouble);
    sd_noise seeded = {.rng = &g};
    run_end_to_end(c, mdl, cfg, mine + (size_t)CLIP_CTX * hidden, mine, "seeded", &seeded);
  } else {
    verify_skip(v, stem, "no seed in the settings");
  }

done:
  free(embeds);
  free(mine);
  sd_pipeline_close(mdl);
}

void verify_img2img(verify_ctx *v, const char *json_path, const char *stem) {
  icase c = {.v = v, .stem = stem};
  cJSON *manifest = verify_read_json(json_path);
  if (!manifest) {
    verify_error(v, stem, a2i2a_last_error());
    return;
  }
  c.manifest = manifest;
  char path[4096];
  snprintf(path, sizeof path, "%.*s.safetensors", (int)(strlen(json_path) - 5), json_path);
  if (st_open(path, &c.f)) {
    verify_error(v, stem, a2i2a_last_error());
    cJSON_Delete(manifest);
    return;
  }
  const cJSON *set = cJSON_GetObjectItemCaseSensitive(manifest, "settings");
  const char *model = setting_str(set, "model"), *cls = setting_str(set, "scheduler_class");
  sd_i2i_config cfg = {
      .steps = (int)setting_num(set, "num_inference_steps", 0),
      .strength = setting_num(set, "strength", -1),
      .guidance = setting_num(set, "guidance_scale", 0),
  };
  const cJSON *sched_json = cJSON_GetObjectItemCaseSensitive(set, "scheduler_config");
  cJSON *base_sched = NULL;
  if (!model && v->base_model && !sched_json) { /* an extension's case: its base model's scheduler */
    snprintf(path, sizeof path, "%s/scheduler/scheduler_config.json", v->base_model);
    if (!sd_read_json(path, &base_sched)) sched_json = base_sched;
  }
  size_t sl = strlen(stem);
  int with_taesd = sl > 6 && !strcmp(stem + sl - 6, "_taesd");
  taesd *t = NULL;
  if ((!model && !v->base_model) || !cls || cfg.steps < 1 || cfg.strength < 0) {
    verify_error(v, stem, "settings incomplete (model, scheduler_class, num_inference_steps, strength)");
  } else if (sched_config_from_json(sched_json, cls, &cfg.sched)) {
    verify_error(v, stem, a2i2a_last_error());
  } else if (with_taesd && (!v->taesd || taesd_open(v->taesd, &t))) {
    verify_error(v, stem, v->taesd ? a2i2a_last_error() : "no TAESD: models.json names none (taesd.folder)");
  } else if (!model) {
    cfg.taesd = t;
    run_model(&c, set, &cfg, v->base_model);
  } else {
    cfg.taesd = t;
    /* diffusers folders only: a single file lacks the tiny text encoder's config */
    verify_form forms[8];
    int nforms = verify_model_forms(v, model, 1, forms, 8);
    char label[256];
    for (int i = 0; i < nforms; i++) {
      if (forms[i].extra) snprintf(label, sizeof label, "%s[%s]", stem, forms[i].name);
      else snprintf(label, sizeof label, "%s", stem);
      c.stem = label;
      run_model(&c, set, &cfg, forms[i].path);
    }
    if (!nforms) {
      snprintf(path, sizeof path, "%s/%s: the case's model folder is missing", v->dir, model);
      verify_error(v, stem, path);
    }
  }
  taesd_free(t);
  cJSON_Delete(base_sched);
  st_close(&c.f);
  cJSON_Delete(manifest);
}
