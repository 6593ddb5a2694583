/* vae_*: the VAE against the reference, from every form of the case's model found
 * (verify_model_forms): the diffusers folder <model>/, the single file <model>.safetensors, and
 * those of --model-dir.
 * The model is the case config's _name_or_path ("<model>/vae"); shapes come from the stored
 * tensors. Encode is checked from the stored image, decode from the stored latent (teacher
 * forcing), the posterior helpers from the stored moments and noise. */
#include "verify/verify.h"
#include "common/err.h"
#include "sd/safetensors.h"
#include "sd/vae.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  verify_ctx *v;
  const cJSON *manifest;
  const st_file *golden;
  const char *label; /* "<stem>[<layout>]" */
} vcase;

static const st_tensor *tensor(const vcase *c, const char *name, int ndim) {
  const st_tensor *t = st_find(c->golden, name);
  return t && t->ndim == ndim && t->dtype == ST_F32 ? t : NULL;
}

static float *load(const st_tensor *t) {
  float *p = malloc(t->numel * sizeof(float));
  if (p) st_to_f32(t, p);
  return p;
}

/* Compares against the stored tensor if the case has it. tol_of: whose tolerance applies
 * (the tensor's own, else the named sibling's, else fallback). */
static void check(vcase *c, const char *name, const float *got, const char *tol_of, double fallback) {
  const st_tensor *t = st_find(c->golden, name);
  if (!t) return;
  float *ref = load(t);
  double tol = verify_tolerance(c->manifest, name, -1);
  if (tol < 0) tol = verify_tolerance(c->manifest, tol_of, fallback);
  char label[512];
  snprintf(label, sizeof label, "%s.%s", c->label, name);
  if (ref) verify_compare(c->v, label, got, ref, t->numel, tol);
  free(ref);
}

/* Values of any size (clamp_test reaches e^10): error relative to max(1, |ref|). */
static void check_scaled(vcase *c, const char *name, const float *got, double tol) {
  const st_tensor *t = st_find(c->golden, name);
  if (!t) return;
  float *ref = load(t);
  if (!ref) return;
  double m = 0;
  int nan = 0;
  for (size_t i = 0; i < t->numel; i++) {
    double d = fabs((double)got[i] - ref[i]) / fmax(1.0, fabs((double)ref[i]));
    if (isnan(d)) nan = 1;
    else if (d > m) m = d;
  }
  char label[512];
  snprintf(label, sizeof label, "%s.%s (rel)", c->label, name);
  verify_line(c->v, label, nan ? NAN : m, tol, !nan && m <= tol);
  free(ref);
}

static void run_posterior(vcase *c) {
  const st_tensor *mt = tensor(c, "clamp_test.moments", 4), *nt = tensor(c, "clamp_test.noise", 4);
  if (!mt || !nt || mt->shape[1] % 2 || nt->numel * 2 != mt->numel) return;
  size_t n = nt->numel;
  float *mom = load(mt), *noise = load(nt), *logvar = malloc(n * 4), *std = malloc(n * 4), *zero = calloc(n, 4),
        *sample = malloc(n * 4), *one = malloc(n * 4);
  if (mom && noise && logvar && std && zero && sample && one) {
    memcpy(logvar, mom + n, n * 4);
    vae_clamp_logvar(logvar, n);
    for (size_t i = 0; i < n; i++) one[i] = 1;
    vae_sample(std, zero, logvar, one, n); /* std = exp(logvar/2) */
    vae_sample(sample, mom, logvar, noise, n);
    /* float32 rounding of exp() on values up to e^10: 1e-6 relative */
    check_scaled(c, "clamp_test.logvar", logvar, 1e-6);
    check_scaled(c, "clamp_test.std", std, 1e-6);
    check_scaled(c, "clamp_test.sample", sample, 1e-6);
  }
  free(mom), free(noise), free(logvar), free(std), free(zero), free(sample), free(one);
}

static void run_layout(vcase *c, const char *model_path) {
  sd_model m;
  vae *vae = NULL;
  if (sd_model_open(model_path, &m)) {
    verify_error(c->v, c->label, a2i2a_last_error());
    return;
  }
  if (vae_load(&vae, &m)) {
    verify_error(c->v, c->label, a2i2a_last_error());
    sd_model_close(&m);
    return;
  }
  const st_tensor *img = tensor(c, "image", 4), *lm = tensor(c, "latent_mean", 4);
  int f, lc, ic;
  vae_dims(vae, &f, &lc, &ic);
  if (img && lm && (img->shape[0] != 1 || lm->shape[0] != 1 || img->shape[1] != ic || lm->shape[1] != lc ||
                    lm->shape[2] * f != img->shape[2] || lm->shape[3] * f != img->shape[3])) {
    verify_error(c->v, c->label, "the case's image/latent shapes do not fit the model's VAE");
  } else if (img) {
    int H = (int)img->shape[2], W = (int)img->shape[3];
    const st_tensor *ref_mean = lm;
    size_t n = ref_mean ? ref_mean->numel : 0;
    float *x = load(img), *mean = n ? malloc(n * 4) : NULL, *logvar = n ? malloc(n * 4) : NULL,
          *std = n ? malloc(n * 4) : NULL, *sample = n ? malloc(n * 4) : NULL;
    if (!mean || !x || !logvar || !std || !sample) verify_skip(c->v, c->label, "no latent_mean to compare encode with");
    else if (vae_encode(vae, x, H, W, mean, logvar)) verify_error(c->v, c->label, a2i2a_last_error());
    else {
      check(c, "latent_mean", mean, "latent_mean", 5e-5);
      check(c, "latent_logvar", logvar, "latent_mean", 5e-5);
      const st_tensor *nt = tensor(c, "noise", 4);
      float *one = malloc(n * 4), *zero = calloc(n, 4);
      if (one && zero) {
        for (size_t i = 0; i < n; i++) one[i] = 1;
        vae_sample(std, zero, logvar, one, n);
        check(c, "latent_std", std, "latent_mean", 5e-5);
        if (nt && nt->numel == n) {
          float *noise = load(nt);
          vae_sample(sample, mean, logvar, noise, n);
          check(c, "latent_sample", sample, "latent_mean", 5e-5);
          free(noise);
        }
      }
      free(one), free(zero);
    }
    free(x), free(mean), free(logvar), free(std), free(sample);
  }
  /* decode from the stored latents (teacher forcing) */
  static const char *dec[][2] = {{"latent_mean", "decoded_from_mean"}, {"latent_sample", "decoded_from_sample"}};
  for (int d = 0; d < 2; d++) {
    const st_tensor *lt = tensor(c, dec[d][0], 4), *out = tensor(c, dec[d][1], 4);
    if (!lt || !out || lt->shape[0] != 1 || out->shape[0] != 1) continue;
    int h = (int)lt->shape[2], w = (int)lt->shape[3], f, lc, ic;
    vae_dims(vae, &f, &lc, &ic);
    if (lt->shape[1] != lc || out->shape[1] != ic || out->shape[2] != (int64_t)h * f || out->shape[3] != (int64_t)w * f) {
      verify_error(c->v, c->label, "the case's latent/image shapes do not fit the model's VAE");
      continue;
    }
    float *z = load(lt), *im = malloc(out->numel * 4);
    if (z && im) {
      if (vae_decode(vae, z, h, w, im)) verify_error(c->v, c->label, a2i2a_last_error());
      else check(c, dec[d][1], im, "decoded_from_mean", 1e-4);
    }
    free(z), free(im);
  }
  vae_free(vae);
  sd_model_close(&m);
}

void verify_vae(verify_ctx *v, const char *json_path, const char *stem) {
  cJSON *manifest = verify_read_json(json_path);
  if (!manifest) {
    verify_error(v, stem, a2i2a_last_error());
    return;
  }
  /* the model: config._name_or_path is "<model>/vae" */
  const char *nop = cJSON_GetStringValue(
      cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(manifest, "config"), "_name_or_path"));
  char model[512] = "";
  if (nop) {
    snprintf(model, sizeof model, "%s", nop);
    char *slash = strrchr(model, '/');
    if (slash && !strcmp(slash, "/vae")) *slash = 0;
  }
  char path[4096];
  snprintf(path, sizeof path, "%.*s.safetensors", (int)(strlen(json_path) - 5), json_path);
  st_file golden;
  if (!model[0]) {
    verify_error(v, stem, "the case's config has no _name_or_path naming its model");
  } else if (st_open(path, &golden)) {
    verify_error(v, stem, a2i2a_last_error());
  } else {
    char label[300];
    vcase c = {v, manifest, &golden, label};
    snprintf(label, sizeof label, "%s", stem);
    run_posterior(&c);
    verify_form forms[8];
    int nforms = verify_model_forms(v, model, 0, forms, 8);
    for (int i = 0; i < nforms; i++) {
      snprintf(label, sizeof label, "%s[%s%s]", stem, forms[i].name, forms[i].folder ? "/" : "");
      run_layout(&c, forms[i].path);
    }
    if (!nforms) {
      snprintf(path, sizeof path, "model %s (folder or .safetensors) not found in %s", model, v->dir);
      verify_error(v, stem, path);
    }
    st_close(&golden);
  }
  cJSON_Delete(manifest);
}
