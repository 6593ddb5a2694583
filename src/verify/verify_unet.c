/* unet_* cases (README §4.3): every case "<c>.sample" in the golden file is run through the UNet
 * one batch element at a time and compared with "<c>.output" (and "<c>.time_proj",
 * "<c>.time_embedding" where stored), with the manifest's tolerances. The model is the folder
 * the manifest's config names (_name_or_path "tiny-sd1/unet" -> DIR/tiny-sd1), and also its other
 * forms where they exist (verify_model_forms: DIR/tiny-sd1.safetensors, those of --model-dir). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "sd/model.h"
#include "sd/safetensors.h"
#include "sd/unet.h"
#include "verify/verify.h"

static float *load(const st_file *f, const char *c, const char *what, size_t *numel) {
  char name[256];
  snprintf(name, sizeof name, "%s.%s", c, what);
  const st_tensor *t = st_find(f, name);
  if (!t) return NULL;
  float *p = malloc(t->numel * sizeof(float));
  if (p) st_to_f32(t, p);
  if (numel) *numel = t->numel;
  return p;
}

static void run_case(verify_ctx *v, const cJSON *man, const st_file *g, unet *u, const char *label, const char *c) {
  char name[512], key[256];
  const st_tensor *ts = NULL;
  snprintf(key, sizeof key, "%s.sample", c);
  ts = st_find(g, key);
  snprintf(key, sizeof key, "%s.encoder_hidden_states", c);
  const st_tensor *te = st_find(g, key);
  snprintf(key, sizeof key, "%s.output", c);
  const st_tensor *to = st_find(g, key);
  snprintf(name, sizeof name, "%s.%s.output", label, c);
  if (!ts || !te || !to || ts->ndim != 4 || te->ndim != 3 || to->numel != ts->numel || te->shape[0] != ts->shape[0]) {
    verify_error(v, name, "the case lacks sample/encoder_hidden_states/output or their shapes disagree");
    return;
  }
  int B = (int)ts->shape[0], C = (int)ts->shape[1], H = (int)ts->shape[2], W = (int)ts->shape[3];
  int nctx = (int)te->shape[1], dctx = (int)te->shape[2];
  const unet_config *cfg = unet_get_config(u);
  if (C != cfg->in_channels || dctx != unet_context_dim(u) || cfg->out_channels != C) {
    verify_error(v, name, "the case's shapes do not fit the model");
    return;
  }
  size_t nt = 0;
  float *x = load(g, c, "sample", NULL), *ctx = load(g, c, "encoder_hidden_states", NULL);
  float *ref = load(g, c, "output", NULL), *t = load(g, c, "timesteps", &nt);
  float *got = malloc(sizeof(float) * ts->numel);
  if (!x || !ctx || !ref || !t || !got || (int)nt != B) {
    verify_error(v, name, "cannot read the case's tensors");
    goto done;
  }
  size_t per = (size_t)C * H * W;
  for (int b = 0; b < B; b++)
    if (unet_forward(u, x + b * per, H, W, t[b], ctx + (size_t)b * nctx * dctx, nctx, got + b * per)) {
      verify_error(v, name, a2i2a_last_error());
      goto done;
    }
  snprintf(key, sizeof key, "%s.output", c);
  verify_compare(v, name, got, ref, ts->numel, verify_tolerance(man, key, 5e-5));
  /* the same case as one batch, the way classifier-free guidance runs it */
  if (B > 1 && B <= UNET_MAX_BATCH) {
    if (unet_forward_batch(u, B, x, H, W, t, ctx, nctx, got)) {
      verify_error(v, name, a2i2a_last_error());
      goto done;
    }
    snprintf(name, sizeof name, "%s.%s.output_as_one_batch", label, c);
    verify_compare(v, name, got, ref, ts->numel, verify_tolerance(man, key, 5e-5));
  }

  /* time features and time MLP, where the case stores them */
  int c0 = cfg->block_out_channels[0], td = cfg->time_embed_dim;
  size_t np = 0, ne = 0;
  float *rp = load(g, c, "time_proj", &np), *re = load(g, c, "time_embedding", &ne);
  if (rp && np == (size_t)B * c0) {
    float *p = malloc(sizeof(float) * np);
    for (int b = 0; b < B; b++) unet_time_embedding(u, t[b], p + (size_t)b * c0, NULL);
    snprintf(name, sizeof name, "%s.%s.time_proj", label, c);
    snprintf(key, sizeof key, "%s.time_proj", c);
    /* cos/sin of the same float32 products: within about 1 ulp of values <= 1 */
    verify_compare(v, name, p, rp, np, verify_tolerance(man, key, 2.5e-7));
    free(p);
  }
  if (re && ne == (size_t)B * td) {
    float *e = malloc(sizeof(float) * ne);
    for (int b = 0; b < B; b++) unet_time_embedding(u, t[b], NULL, e + (size_t)b * td);
    snprintf(name, sizeof name, "%s.%s.time_embedding", label, c);
    snprintf(key, sizeof key, "%s.time_embedding", c);
    verify_compare(v, name, e, re, ne, verify_tolerance(man, key, 1e-5));
    free(e);
  }
  free(rp);
  free(re);
done:
  free(x);
  free(ctx);
  free(ref);
  free(t);
  free(got);
}

static void run_model(verify_ctx *v, const cJSON *man, const st_file *g, const char *model_path, const char *label) {
  sd_model m;
  unet *u = NULL;
  if (sd_model_open(model_path, &m)) {
    verify_error(v, label, a2i2a_last_error());
    return;
  }
  if (unet_load(&u, &m)) {
    verify_error(v, label, a2i2a_last_error());
    sd_model_close(&m);
    return;
  }
  const st_tensor *tf = st_find(g, "time_freqs");
  int nf = 0;
  const float *freqs = unet_time_freqs(u, &nf);
  if (tf && tf->numel == (size_t)nf) {
    float *ref = malloc(sizeof(float) * tf->numel);
    st_to_f32(tf, ref);
    char name[512];
    snprintf(name, sizeof name, "%s.time_freqs", label);
    verify_compare(v, name, freqs, ref, tf->numel, 0); /* bit-exact: torch's own float32 exp */
    free(ref);
  }
  for (int i = 0; i < g->n; i++) {
    const char *tn = g->tensors[i].name;
    size_t len = strlen(tn);
    if (len > 7 && !strcmp(tn + len - 7, ".sample")) {
      char c[128];
      snprintf(c, sizeof c, "%.*s", (int)(len - 7), tn);
      run_case(v, man, g, u, label, c);
    }
  }
  unet_free(u);
  sd_model_close(&m);
}

void verify_unet(verify_ctx *v, const char *json_path, const char *stem) {
  cJSON *man = verify_read_json(json_path);
  if (!man) {
    verify_error(v, stem, a2i2a_last_error());
    return;
  }
  char path[4096], model[256];
  snprintf(path, sizeof path, "%.*s.safetensors", (int)(strlen(json_path) - 5), json_path);
  const cJSON *np = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(man, "config"), "_name_or_path");
  st_file g;
  if (!cJSON_IsString(np) || !*np->valuestring) {
    verify_error(v, stem, "the manifest's config does not name its model (_name_or_path)");
    cJSON_Delete(man);
    return;
  }
  /* "tiny-sd1/unet" -> "tiny-sd1" */
  snprintf(model, sizeof model, "%.*s", (int)strcspn(np->valuestring, "/"), np->valuestring);
  if (st_open(path, &g)) {
    verify_error(v, stem, a2i2a_last_error());
    cJSON_Delete(man);
    return;
  }
  char label[256];
  verify_form forms[8];
  int nforms = verify_model_forms(v, model, 0, forms, 8);
  for (int i = 0; i < nforms; i++) {
    snprintf(label, sizeof label, "%s[%s]", stem, forms[i].name);
    run_model(v, man, &g, forms[i].path, label);
  }
  if (!nforms) {
    char why[4700];
    snprintf(why, sizeof why, "model %s not found in %s", model, v->dir);
    verify_skip(v, stem, why);
  }
  st_close(&g);
  cJSON_Delete(man);
}
