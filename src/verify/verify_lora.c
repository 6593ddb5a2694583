/* LoRA cases (shared/fixtures/sd-ext): the base model is models.json → base / base_model (relative
 * to the fixtures folder), the LoRA file and its scale come from the case or from models.json →
 * lora.
 *   lora_*               the merged weights (one layer of each kind), the text encoder on the
 *                        stored ids and the UNet on the stored inputs, with the LoRA merged; the
 *                        UNet without it against output_without_lora (the LoRA changed something);
 *   img2img_*_lora       the whole run with the LoRA merged: recorded noise and seeded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "sd/pipeline.h"
#include "verify/verify.h"
#include "verify/verify_img2img.h"

/* The base model's folder and the fixture's LoRA file and golden scale, from models.json. */
static int lora_fixture(verify_ctx *v, const char *stem, char *model, size_t nm, char *lora, size_t nl, double *scale) {
  char path[4200];
  snprintf(path, sizeof path, "%s/models.json", v->dir);
  cJSON *j = verify_read_json(path);
  const char *base = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "base"));
  const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "base_model"));
  const cJSON *l = cJSON_GetObjectItemCaseSensitive(j, "lora");
  const char *file = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(l, "file"));
  const cJSON *s = cJSON_GetObjectItemCaseSensitive(l, "golden_scale");
  int ok = base && name && file && cJSON_IsNumber(s);
  if (ok) {
    snprintf(model, nm, "%s/%s/%s", v->dir, base, name);
    snprintf(lora, nl, "%s/%s", v->dir, file);
    *scale = s->valuedouble;
  } else {
    verify_error(v, stem, j ? "models.json lacks base, base_model or lora.file / lora.golden_scale" : a2i2a_last_error());
  }
  cJSON_Delete(j);
  return ok;
}

/* The model with the LoRA merged (NULL after reporting the error). */
static struct a2i2a_model *open_with_lora(verify_ctx *v, const char *stem, const char *model, const char *lora,
                                          double scale) {
  struct a2i2a_model *mdl = NULL;
  a2i2a_lora l = {.path = lora, .scale = scale};
  if (sd_pipeline_open(model, &mdl) || sd_lora_apply(mdl, &l, 1, NULL)) {
    verify_error(v, stem, a2i2a_last_error());
    sd_pipeline_close(mdl);
    return NULL;
  }
  return mdl;
}

static float *load(const st_file *f, const char *name, size_t numel) { return st_load_f32(f, name, numel); }

static void check_merged(verify_ctx *v, const char *stem, struct a2i2a_model *mdl, const st_file *f) {
  char label[600];
  for (int i = 0; i < f->n; i++) {
    const st_tensor *ref = &f->tensors[i];
    if (strncmp(ref->name, "merged.", 7)) continue;
    const char *name = ref->name + 7;
    const st_tensor *t = NULL;
    if (!strncmp(name, "unet.", 5)) t = sd_tensor(&mdl->m, SD_UNET, name + 5);
    else if (!strncmp(name, "text_encoder.", 13)) t = sd_tensor(&mdl->m, SD_TEXT, name + 13);
    snprintf(label, sizeof label, "%s.%s", stem, ref->name);
    if (!t || t->numel != ref->numel) {
      verify_error(v, label, "no such weight of that size in the model");
      continue;
    }
    float *got = malloc(t->numel * sizeof(float)), *want = load(f, ref->name, ref->numel);
    if (got && want) {
      st_to_f32(t, got);
      /* float32 sums of rank terms: a few ulps of weights below 1 */
      verify_compare(v, label, got, want, t->numel, 1e-6);
    } else {
      verify_error(v, label, "out of memory");
    }
    free(got), free(want);
  }
}

static void check_text(verify_ctx *v, const char *stem, const cJSON *manifest, struct a2i2a_model *mdl,
                       const st_file *f) {
  char label[600];
  snprintf(label, sizeof label, "%s.text.last_hidden_state", stem);
  const st_tensor *ids = st_find(f, "text.input_ids");
  int hidden = sd_context_dim(mdl);
  if (!ids || ids->ndim != 2 || ids->shape[1] != CLIP_CTX || ids->dtype != ST_I64) {
    verify_error(v, label, "text.input_ids missing");
    return;
  }
  int nb = (int)ids->shape[0];
  size_t n = (size_t)nb * CLIP_CTX * hidden;
  float *want = load(f, "text.last_hidden_state", n), *got = malloc(n * sizeof(float));
  int ok = want && got;
  for (int b = 0; b < nb && ok; b++) {
    int tok[CLIP_CTX];
    for (int i = 0; i < CLIP_CTX; i++) {
      int64_t x;
      memcpy(&x, (const uint8_t *)ids->data + 8 * ((size_t)b * CLIP_CTX + i), 8);
      tok[i] = (int)x;
    }
    ok = !clip_encode(mdl->clip, tok, 0, got + (size_t)b * CLIP_CTX * hidden);
  }
  if (ok) verify_compare(v, label, got, want, n, verify_tolerance(manifest, "text.last_hidden_state", 5e-5));
  else verify_error(v, label, want ? a2i2a_last_error() : "text.last_hidden_state missing or of another width");
  free(want), free(got);
}

/* The UNet on the stored batch against ref_name (output, or output_without_lora). */
static void check_unet(verify_ctx *v, const char *stem, const cJSON *manifest, struct a2i2a_model *mdl,
                       const st_file *f, const char *ref_name) {
  char label[600];
  snprintf(label, sizeof label, "%s.%s", stem, ref_name);
  const st_tensor *x = st_find(f, "unet.sample"), *ts = st_find(f, "unet.timesteps"),
                  *ctx = st_find(f, "unet.encoder_hidden_states");
  if (!x || !ts || !ctx || x->ndim != 4 || ctx->ndim != 3 || ts->numel != (size_t)x->shape[0] ||
      ts->dtype != ST_I64 || x->shape[0] > UNET_MAX_BATCH) {
    verify_error(v, label, "unet.sample, unet.timesteps or unet.encoder_hidden_states missing");
    return;
  }
  int nb = (int)x->shape[0], h = (int)x->shape[2], w = (int)x->shape[3];
  float *xs = load(f, "unet.sample", 0), *cs = load(f, "unet.encoder_hidden_states", 0);
  float *want = load(f, ref_name, x->numel), *got = malloc(x->numel * sizeof(float)), t[UNET_MAX_BATCH];
  for (int b = 0; b < nb; b++) {
    int64_t k;
    memcpy(&k, (const uint8_t *)ts->data + 8 * b, 8);
    t[b] = (float)k;
  }
  if (!xs || !cs || !want || !got)
    verify_error(v, label, "tensors missing or of another size");
  else if (unet_forward_batch(mdl->unet, nb, xs, h, w, t, cs, (int)ctx->shape[1], got))
    verify_error(v, label, a2i2a_last_error());
  else
    verify_compare(v, label, got, want, x->numel, verify_tolerance(manifest, "unet.output", 1e-4));
  free(xs), free(cs), free(want), free(got);
}

/* The case's base model, LoRA and scale, its manifest and its tensors (0 after reporting). */
static int open_case(verify_ctx *v, const char *json_path, const char *stem, char model[4400], char lora[4400],
                     double *scale, cJSON **manifest, st_file *f) {
  char path[4096];
  memset(f, 0, sizeof *f);
  *manifest = NULL;
  if (!lora_fixture(v, stem, model, 4400, lora, 4400, scale)) return 0;
  *manifest = verify_read_json(json_path);
  snprintf(path, sizeof path, "%.*s.safetensors", (int)(strlen(json_path) - 5), json_path);
  if (!*manifest || st_open(path, f)) {
    verify_error(v, stem, a2i2a_last_error());
    cJSON_Delete(*manifest);
    return 0;
  }
  return 1;
}

void verify_lora(verify_ctx *v, const char *json_path, const char *stem) {
  char model[4400], lora[4400];
  double scale;
  cJSON *manifest;
  st_file f;
  if (!open_case(v, json_path, stem, model, lora, &scale, &manifest, &f)) return;
  /* the case names its LoRA and scale; models.json's are the fallback */
  const char *file = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(manifest, "lora_file"));
  const cJSON *s = cJSON_GetObjectItemCaseSensitive(manifest, "lora_scale");
  if (file) snprintf(lora, sizeof lora, "%s/%s", v->dir, file);
  if (cJSON_IsNumber(s)) scale = s->valuedouble;
  struct a2i2a_model *mdl = open_with_lora(v, stem, model, lora, scale);
  if (mdl) {
    check_merged(v, stem, mdl, &f);
    check_text(v, stem, manifest, mdl, &f);
    check_unet(v, stem, manifest, mdl, &f, "unet.output");
    /* and without it: the checkpoint's weights are back */
    if (sd_lora_apply(mdl, NULL, 0, NULL)) verify_error(v, stem, a2i2a_last_error());
    else check_unet(v, stem, manifest, mdl, &f, "unet.output_without_lora");
  }
  sd_pipeline_close(mdl);
  st_close(&f);
  cJSON_Delete(manifest);
}

void verify_img2img_lora(verify_ctx *v, const char *json_path, const char *stem) {
  char model[4400], lora[4400];
  double scale;
  cJSON *manifest;
  st_file f;
  if (!open_case(v, json_path, stem, model, lora, &scale, &manifest, &f)) return;
  const cJSON *set = cJSON_GetObjectItemCaseSensitive(manifest, "settings");
  const cJSON *steps = cJSON_GetObjectItemCaseSensitive(set, "num_inference_steps"),
              *strength = cJSON_GetObjectItemCaseSensitive(set, "strength"),
              *guidance = cJSON_GetObjectItemCaseSensitive(set, "guidance_scale"),
              *seed = cJSON_GetObjectItemCaseSensitive(set, "seed");
  const char *cls = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(set, "scheduler_class"));
  struct a2i2a_model *mdl = NULL;
  float *cond = NULL, *uncond = NULL, *rec = NULL, *a = NULL, *b = NULL;
  if (!cJSON_IsNumber(steps) || !cJSON_IsNumber(strength) || !cJSON_IsNumber(guidance) || !cJSON_IsNumber(seed) || !cls) {
    verify_error(v, stem, "settings incomplete (num_inference_steps, strength, guidance_scale, seed, scheduler_class)");
    goto done;
  }
  if (!(mdl = open_with_lora(v, stem, model, lora, scale))) goto done;
  /* the scheduler as the base model's folder configures it */
  sd_i2i_config cfg = {.steps = steps->valueint, .strength = strength->valuedouble, .guidance = guidance->valuedouble};
  size_t ne = (size_t)CLIP_CTX * sd_context_dim(mdl);
  cond = malloc(ne * sizeof(float));
  uncond = malloc(ne * sizeof(float));
  const char *prompt = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(set, "prompt"));
  const char *negative = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(set, "negative_prompt"));
  if (!cond || !uncond || sched_config_from_json(mdl->m.scheduler_config, cls, &cfg.sched) ||
      sd_encode_prompt(mdl, prompt ? prompt : "", 0, cond, NULL) ||
      sd_encode_prompt(mdl, negative ? negative : "", 0, uncond, NULL)) {
    verify_error(v, stem, a2i2a_last_error());
    goto done;
  }
  /* recorded noise in draw order: the VAE's sample, then add_noise's (PNDM draws no more) */
  size_t n1 = 0, n2 = 0;
  const st_tensor *t1 = st_find(&f, "vae_sample_noise"), *t2 = st_find(&f, "img2img_noise");
  if (t1) n1 = t1->numel;
  if (t2) n2 = t2->numel;
  a = load(&f, "vae_sample_noise", 0);
  b = load(&f, "img2img_noise", 0);
  rec = malloc((n1 + n2 + 1) * sizeof(float));
  if (a && b && rec) {
    memcpy(rec, a, n1 * sizeof(float));
    memcpy(rec + n1, b, n2 * sizeof(float));
    sd_noise replay = {.replay = rec, .replay_len = n1 + n2};
    verify_img2img_end_to_end(v, stem, manifest, &f, mdl, &cfg, cond, uncond, "recorded", &replay);
  } else {
    verify_error(v, stem, "recorded noise tensors missing");
  }
  torch_rng g;
  rng_seed(&g, (uint64_t)seed->valuedouble);
  sd_noise seeded = {.rng = &g};
  verify_img2img_end_to_end(v, stem, manifest, &f, mdl, &cfg, cond, uncond, "seeded", &seeded);
done:
  free(cond), free(uncond), free(rec), free(a), free(b);
  sd_pipeline_close(mdl);
  st_close(&f);
  cJSON_Delete(manifest);
}
