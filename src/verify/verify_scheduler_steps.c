/* schedulers_steps: every step trace of every setup. The setups (class, config, step count,
 * strength) come from schedulers.json next to the file; the traces from the safetensors. Each run
 * starts from our own x_init (txt2img: initial_noise × init_noise_sigma; img2img: add_noise at
 * the first timestep of the strength subset) and chains our own steps, fed the GIVEN
 * model_output. Steps that draw noise replay the recorded step_noise; the run is then repeated
 * with a torch generator seeded with step_generator_seed, which checks the draw order. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "sd/safetensors.h"
#include "sd/scheduler.h"
#include "verify/verify.h"

typedef struct {
  const st_file *f;
  const cJSON *manifest;
  const char *prefix; /* "<setup>.<run>." */
} run_ctx;

static float *load(const run_ctx *r, const char *what, size_t *numel) {
  char name[600];
  snprintf(name, sizeof name, "%s%s", r->prefix, what);
  const st_tensor *t = st_find(r->f, name);
  if (!t) return NULL;
  if (numel) *numel = t->numel;
  float *x = malloc(t->numel * sizeof(float) + 1);
  st_to_f32(t, x);
  return x;
}

static double tol_of(const run_ctx *r, const char *what, double fallback) {
  char name[600];
  snprintf(name, sizeof name, "%s%s", r->prefix, what);
  return verify_tolerance(r->manifest, name, fallback);
}

/* Runs the trace; returns the max abs error of prev_sample (and of scaled input / x0 through
 * the out-parameters). A failure to run is reported with verify_error and returns NAN. */
typedef struct {
  double x_init, scaled, prev, x0, tsteps;
  int has_x0;
} errs;

static double maxdiff(const float *a, const float *b, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; i++) {
    double d = fabs((double)a[i] - (double)b[i]);
    if (isnan(d)) return INFINITY;
    if (d > m) m = d;
  }
  return m;
}

static int run_trace(const run_ctx *r, const sched_config *cfg, const cJSON *run, int img2img, sd_noise *noise,
                     errs *e) {
  memset(e, 0, sizeof *e);
  int n = (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(run, "num_inference_steps"));
  sched *s;
  if (sched_new(cfg, &s)) return -1;
  if (sched_set_timesteps(s, n)) {
    sched_free(s);
    return -1;
  }
  size_t nx = 0, nsteps_numel = 0, nt = 0;
  float *ref_t = load(r, "timesteps", &nt);
  float *x_init_ref = load(r, "x_init", &nx);
  float *mo = load(r, "model_output", &nsteps_numel);
  float *scaled_ref = load(r, "scaled_input", NULL);
  float *prev_ref = load(r, "prev_sample", NULL);
  float *x0_ref = load(r, "pred_original", NULL);
  float *x = malloc(nx * sizeof(float) + 1), *buf = malloc(nx * sizeof(float) + 1), *x0 = malloc(nx * sizeof(float) + 1);
  int ok = ref_t && x_init_ref && mo && scaled_ref && prev_ref && nx && nsteps_numel == nt * nx;
  if (!ok) {
    fail(A2I2A_ERR_FORMAT, "%s: trace tensors missing or inconsistent", r->prefix);
    goto done;
  }
  int start = 0, count = sched_count(s);
  const double *ts = sched_timesteps(s);
  if (img2img) {
    double strength = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(run, "strength"));
    sched_img2img_range(n, strength, NULL, &start);
    float *orig = load(r, "original", NULL), *an = load(r, "add_noise_noise", NULL);
    if (!orig || !an || start >= count) {
      free(orig), free(an);
      ok = 0;
      fail(A2I2A_ERR_FORMAT, "%s: img2img start tensors missing", r->prefix);
      goto done;
    }
    sched_add_noise(s, orig, an, ts[start], x, nx);
    free(orig), free(an);
  } else {
    float ins = sched_init_noise_sigma(s);
    float *in0 = load(r, "initial_noise", NULL);
    if (!in0) {
      ok = 0;
      fail(A2I2A_ERR_FORMAT, "%s: initial_noise missing", r->prefix);
      goto done;
    }
    for (size_t i = 0; i < nx; i++) x[i] = in0[i] * ins;
    free(in0);
  }
  e->x_init = maxdiff(x, x_init_ref, nx);
  if ((size_t)(count - start) != nt) e->tsteps = INFINITY;
  for (size_t k = 0; k < nt; k++) {
    double t = k + start < (size_t)count ? ts[k + start] : NAN;
    double d = fabs((double)(float)t - (double)ref_t[k]);
    if (isnan(d)) d = INFINITY;
    if (d > e->tsteps) e->tsteps = d;
    sched_scale_model_input(s, t, x, buf, nx);
    double ds = maxdiff(buf, scaled_ref + k * nx, nx);
    if (ds > e->scaled) e->scaled = ds;
    if (sched_step(s, mo + k * nx, t, x, x, x0, noise, nx)) {
      ok = 0;
      goto done;
    }
    double dp = maxdiff(x, prev_ref + k * nx, nx);
    if (dp > e->prev) e->prev = dp;
    if (x0_ref && sched_has_pred_original(s)) {
      e->has_x0 = 1;
      double dx = maxdiff(x0, x0_ref + k * nx, nx);
      if (dx > e->x0) e->x0 = dx;
    }
  }
done:
  free(ref_t), free(x_init_ref), free(mo), free(scaled_ref), free(prev_ref), free(x0_ref);
  free(x), free(buf), free(x0);
  sched_free(s);
  return ok ? 0 : -1;
}

static void verify_setup(verify_ctx *v, const char *stem, const st_file *f, const cJSON *manifest, const char *key,
                         const cJSON *sc) {
  char name[900];
  const char *cls = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(sc, "class"));
  sched_config cfg;
  if (!cls || sched_config_from_json(cJSON_GetObjectItemCaseSensitive(sc, "config"), cls, &cfg)) {
    snprintf(name, sizeof name, "%s.%s", stem, key);
    verify_error(v, name, cls ? a2i2a_last_error() : "no class");
    return;
  }
  const cJSON *runs = cJSON_GetObjectItemCaseSensitive(sc, "runs"), *run;
  cJSON_ArrayForEach(run, runs) {
    char prefix[256];
    snprintf(prefix, sizeof prefix, "%s.%s.", key, run->string);
    run_ctx r = {f, manifest, prefix};
    int img2img = cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(run, "strength"));
    double tol = tol_of(&r, "prev_sample", 1e-4);

    size_t nnoise = 0;
    float *step_noise = load(&r, "step_noise", &nnoise);
    sd_noise replay = {.replay = step_noise, .replay_len = step_noise ? nnoise : 0};
    errs e;
    snprintf(name, sizeof name, "%s.%s%s", stem, prefix, "prev_sample");
    if (run_trace(&r, &cfg, run, img2img, &replay, &e)) {
      verify_error(v, name, a2i2a_last_error());
      free(step_noise);
      continue;
    }
    snprintf(name, sizeof name, "%s.%stimesteps", stem, prefix);
    verify_line(v, name, e.tsteps, 0, e.tsteps == 0);
    snprintf(name, sizeof name, "%s.%sx_init", stem, prefix);
    verify_line(v, name, e.x_init, tol_of(&r, "x_init", tol), e.x_init <= tol_of(&r, "x_init", tol));
    snprintf(name, sizeof name, "%s.%sscaled_input", stem, prefix);
    verify_line(v, name, e.scaled, tol_of(&r, "scaled_input", tol), e.scaled <= tol_of(&r, "scaled_input", tol));
    snprintf(name, sizeof name, "%s.%sprev_sample", stem, prefix);
    verify_line(v, name, e.prev, tol, e.prev <= tol);
    if (e.has_x0) {
      double t0 = tol_of(&r, "pred_original", tol);
      snprintf(name, sizeof name, "%s.%spred_original", stem, prefix);
      verify_line(v, name, e.x0, t0, e.x0 <= t0);
    }
    /* all recorded draws consumed, no more */
    snprintf(name, sizeof name, "%s.%sstep_noise draws", stem, prefix);
    if (replay.pos != replay.replay_len) verify_error(v, name, "the sampler drew fewer noise tensors than recorded");

    if (step_noise) {
      char sn[600];
      snprintf(sn, sizeof sn, "%sstep_noise", prefix);
      const cJSON *meta = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(manifest, "tensors"), sn);
      const cJSON *seed = cJSON_GetObjectItemCaseSensitive(meta, "step_generator_seed");
      if (cJSON_IsNumber(seed)) {
        torch_rng g;
        rng_seed(&g, (uint64_t)seed->valuedouble);
        sd_noise seeded = {.rng = &g};
        snprintf(name, sizeof name, "%s.%sprev_sample (seeded)", stem, prefix);
        if (run_trace(&r, &cfg, run, img2img, &seeded, &e)) verify_error(v, name, a2i2a_last_error());
        else verify_line(v, name, e.prev, tol, e.prev <= tol);
      }
    }
    free(step_noise);
  }
}

void verify_scheduler_steps(verify_ctx *v, const char *json_path, const char *stem) {
  cJSON *manifest = verify_read_json(json_path);
  char path[4096];
  const char *slash = strrchr(json_path, '/');
  int dirlen = slash ? (int)(slash - json_path) : 1;
  snprintf(path, sizeof path, "%.*s/schedulers.json", dirlen, slash ? json_path : ".");
  cJSON *setups = manifest ? verify_read_json(path) : NULL;
  if (!manifest || !setups) {
    verify_error(v, stem, a2i2a_last_error());
    cJSON_Delete(manifest);
    return;
  }
  snprintf(path, sizeof path, "%.*s.safetensors", (int)(strlen(json_path) - 5), json_path);
  st_file f;
  if (st_open(path, &f)) {
    verify_error(v, stem, a2i2a_last_error());
    cJSON_Delete(manifest);
    cJSON_Delete(setups);
    return;
  }

  /* the training tables, exactly */
  const cJSON *all = cJSON_GetObjectItemCaseSensitive(setups, "schedulers"), *sc;
  const st_tensor *tb = st_find(&f, "sd15.betas"), *ta = st_find(&f, "sd15.alphas_cumprod");
  if (tb && ta && cJSON_GetArraySize(all) > 0) {
    sc = cJSON_GetArrayItem(all, 0);
    sched_config cfg;
    sched *s = NULL;
    const char *cls = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(sc, "class"));
    if (cls && !sched_config_from_json(cJSON_GetObjectItemCaseSensitive(sc, "config"), cls, &cfg) &&
        !sched_new(&cfg, &s) && (size_t)cfg.num_train_timesteps == tb->numel && tb->numel == ta->numel) {
      float *ref = malloc(tb->numel * sizeof(float));
      char name[256];
      st_to_f32(tb, ref);
      snprintf(name, sizeof name, "%s.sd15.betas", stem);
      verify_compare(v, name, sched_betas(s), ref, tb->numel, 0);
      st_to_f32(ta, ref);
      snprintf(name, sizeof name, "%s.sd15.alphas_cumprod", stem);
      verify_compare(v, name, sched_alphas_cumprod(s), ref, ta->numel, 0);
      free(ref);
    } else {
      verify_error(v, stem, "cannot build the training tables");
    }
    sched_free(s);
  }
  cJSON_ArrayForEach(sc, all) verify_setup(v, stem, &f, manifest, sc->string, sc);
  st_close(&f);
  cJSON_Delete(manifest);
  cJSON_Delete(setups);
}
