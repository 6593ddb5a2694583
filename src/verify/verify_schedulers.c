/* schedulers.json: for every setup, its resolved config (our class defaults), the timestep and
 * sigma tables for each step count, init_noise_sigma, the img2img strength tables and the
 * float-truncation cases. Everything is read from the file: the class, the config, the counts. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "sd/scheduler.h"
#include "verify/verify.h"

/* Distance in float32 ulps between two float32 values. */
static double ulps(float a, float b) {
  if (a == b) return 0;
  if (isnan(a) || isnan(b)) return INFINITY;
  int32_t ia, ib;
  memcpy(&ia, &a, 4);
  memcpy(&ib, &b, 4);
  if (ia < 0) ia = INT32_MIN - ia;
  if (ib < 0) ib = INT32_MIN - ib;
  return fabs((double)ia - (double)ib);
}

typedef struct {
  double max_abs;
  int bad;
} tally;

static void tally_num(tally *t, double got, double ref, double tol) {
  double d = fabs(got - ref);
  if (isnan(d)) d = INFINITY;
  if (d > t->max_abs) t->max_abs = d;
  if (!(d <= tol)) t->bad++;
}

/* A JSON list of numbers against n values; a length mismatch counts as a failure. */
static void tally_list(tally *t, const cJSON *list, const double *got, int n, int as_f32, double tol_ulps) {
  if (cJSON_GetArraySize(list) != n) {
    t->bad++;
    t->max_abs = INFINITY;
    return;
  }
  int i = 0;
  const cJSON *x;
  cJSON_ArrayForEach(x, list) {
    double ref = x->valuedouble, g = got[i++];
    if (as_f32) {
      double u = ulps((float)g, (float)ref);
      double d = fabs(g - ref);
      if (d > t->max_abs) t->max_abs = d;
      if (!(u <= tol_ulps)) t->bad++;
    } else {
      tally_num(t, g, ref, 0);
    }
  }
}

static void report(verify_ctx *v, const char *name, const tally *t, double tol) {
  verify_line(v, name, t->max_abs, tol, t->bad == 0);
}

/* The config fields we model against the fixture's fully resolved config. */
static int config_matches(const sched_config *c, const cJSON *cfg, char *why, size_t whylen) {
  const char *sp = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cfg, "timestep_spacing"));
  const char *pred = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cfg, "prediction_type"));
  const cJSON *so = cJSON_GetObjectItemCaseSensitive(cfg, "steps_offset");
  const cJSON *kar = cJSON_GetObjectItemCaseSensitive(cfg, "use_karras_sigmas");
  const cJSON *sa1 = cJSON_GetObjectItemCaseSensitive(cfg, "set_alpha_to_one");
  if (sp && strcmp(sp, sched_spacing_name(c->spacing)))
    return snprintf(why, whylen, "spacing %s, expected %s", sched_spacing_name(c->spacing), sp), 0;
  if (pred && strcmp(pred, c->prediction == PRED_V ? "v_prediction" : c->prediction == PRED_SAMPLE ? "sample" : "epsilon"))
    return snprintf(why, whylen, "prediction_type differs from %s", pred), 0;
  if (cJSON_IsNumber(so) && so->valueint != c->steps_offset)
    return snprintf(why, whylen, "steps_offset %d, expected %d", c->steps_offset, so->valueint), 0;
  if (cJSON_IsBool(kar) && cJSON_IsTrue(kar) != c->use_karras_sigmas)
    return snprintf(why, whylen, "use_karras_sigmas differs"), 0;
  if (cJSON_IsBool(sa1) && (c->kind == SCHED_DDIM || c->kind == SCHED_PNDM || c->kind == SCHED_LCM) &&
      cJSON_IsTrue(sa1) != c->set_alpha_to_one)
    return snprintf(why, whylen, "set_alpha_to_one differs"), 0;
  return 1;
}

/* One img2img table entry {init_timestep, t_start, timesteps?, latent_timestep,
 * num_inference_steps_returned} against ours on a scheduler already set to n steps. */
static void check_img2img_entry(tally *t, const sched *s, int n, double strength, const cJSON *e) {
  int it, ts;
  sched_img2img_range(n, strength, &it, &ts);
  const cJSON *j;
  if ((j = cJSON_GetObjectItemCaseSensitive(e, "init_timestep"))) tally_num(t, it, j->valuedouble, 0);
  if ((j = cJSON_GetObjectItemCaseSensitive(e, "t_start"))) tally_num(t, ts, j->valuedouble, 0);
  if ((j = cJSON_GetObjectItemCaseSensitive(e, "num_inference_steps_returned"))) tally_num(t, n - ts, j->valuedouble, 0);
  int count = sched_count(s);
  const double *tt = sched_timesteps(s);
  int m = ts < count ? count - ts : 0;
  if ((j = cJSON_GetObjectItemCaseSensitive(e, "timesteps"))) tally_list(t, j, tt + (m ? ts : 0), m, 1, 0);
  j = cJSON_GetObjectItemCaseSensitive(e, "latent_timestep");
  if (cJSON_IsArray(j)) {
    if (m > 0) tally_list(t, j, tt + ts, 1, 1, 0);
    else t->bad++;
  } else if (j && cJSON_IsNull(j) && m > 0) {
    t->bad++;
  }
}

static void verify_one(verify_ctx *v, const char *stem, const char *key, const cJSON *sc) {
  char name[256];
  const char *cls = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(sc, "class"));
  const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(sc, "config");
  snprintf(name, sizeof name, "%s.%s.config", stem, key);
  sched_config c;
  if (!cls || sched_config_from_json(cfg, cls, &c)) {
    verify_error(v, name, cls ? a2i2a_last_error() : "no class");
    return;
  }
  char why[256];
  if (config_matches(&c, cfg, why, sizeof why)) verify_line(v, name, 0, 0, 1);
  else verify_error(v, name, why);

  sched *s;
  if (sched_new(&c, &s)) {
    verify_error(v, name, a2i2a_last_error());
    return;
  }
  tally tt = {0}, ts = {0}, tn = {0}, ti = {0};
  int nsig = 0;
  const cJSON *sched_tab = cJSON_GetObjectItemCaseSensitive(sc, "schedule"), *e;
  cJSON_ArrayForEach(e, sched_tab) {
    int n = atoi(e->string);
    a2i2a_status st = sched_set_timesteps(s, n);
    if (cJSON_GetObjectItemCaseSensitive(e, "error")) {
      if (!st) tt.bad++;
      continue;
    }
    if (st) {
      tt.bad++;
      tt.max_abs = INFINITY;
      continue;
    }
    tally_list(&tt, cJSON_GetObjectItemCaseSensitive(e, "timesteps"), sched_timesteps(s), sched_count(s), 1, 0);
    const cJSON *sig = cJSON_GetObjectItemCaseSensitive(e, "sigmas");
    if (sig) {
      nsig++;
      const float *sf = sched_sigmas(s);
      int m = sched_count(s) + 1;
      double *sd = malloc(sizeof(double) * (size_t)m);
      for (int i = 0; i < m; i++) sd[i] = sf ? sf[i] : NAN;
      tally_list(&ts, sig, sd, m, 1, 1); /* exact, or 1 ulp (README §5.4) */
      free(sd);
    } else if (sched_sigmas(s)) {
      ts.bad++;
    }
    const cJSON *ins = cJSON_GetObjectItemCaseSensitive(e, "init_noise_sigma");
    if (cJSON_IsNumber(ins)) {
      double u = ulps(sched_init_noise_sigma(s), (float)ins->valuedouble);
      double d = fabs(sched_init_noise_sigma(s) - ins->valuedouble);
      if (d > tn.max_abs) tn.max_abs = d;
      if (u > 1) tn.bad++;
    }
  }
  snprintf(name, sizeof name, "%s.%s.timesteps", stem, key);
  report(v, name, &tt, 0);
  if (nsig) {
    snprintf(name, sizeof name, "%s.%s.sigmas (1 ulp)", stem, key);
    report(v, name, &ts, 0);
  }
  snprintf(name, sizeof name, "%s.%s.init_noise_sigma (1 ulp)", stem, key);
  report(v, name, &tn, 0);

  /* img2img[N][strength] and the float truncation cases */
  const cJSON *i2i = cJSON_GetObjectItemCaseSensitive(sc, "img2img");
  cJSON_ArrayForEach(e, i2i) {
    int n = atoi(e->string);
    if (sched_set_timesteps(s, n)) {
      ti.bad++;
      continue;
    }
    const cJSON *se;
    cJSON_ArrayForEach(se, e) check_img2img_entry(&ti, s, n, atof(se->string), se);
  }
  const cJSON *cases = cJSON_GetObjectItemCaseSensitive(sc, "img2img_float_truncation_cases");
  cJSON_ArrayForEach(e, cases) {
    int n = (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(e, "num_inference_steps"));
    double strength = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(e, "strength"));
    a2i2a_status st = sched_set_timesteps(s, n);
    if (cJSON_GetObjectItemCaseSensitive(e, "error")) {
      if (!st) ti.bad++;
      continue;
    }
    if (st) {
      ti.bad++;
      continue;
    }
    check_img2img_entry(&ti, s, n, strength, e);
  }
  snprintf(name, sizeof name, "%s.%s.img2img", stem, key);
  report(v, name, &ti, 0);
  sched_free(s);
}

void verify_schedulers(verify_ctx *v, const char *json_path, const char *stem) {
  cJSON *j = verify_read_json(json_path);
  if (!j) {
    verify_error(v, stem, a2i2a_last_error());
    return;
  }
  const cJSON *all = cJSON_GetObjectItemCaseSensitive(j, "schedulers"), *sc;
  if (!cJSON_IsObject(all)) verify_error(v, stem, "no 'schedulers' object");
  cJSON_ArrayForEach(sc, all) verify_one(v, stem, sc->string, sc);
  cJSON_Delete(j);
}
