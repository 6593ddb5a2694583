/* diffusers 0.25.1 schedulers (README §7.5). Scalars that torch keeps as 0-dim float32 tensors
 * are floats here and every tensor expression is evaluated in torch's order, so the traces
 * match the reference to a few ulp; numpy's float64 parts (sigma tables, LMS coefficients,
 * Karras sigmas) are doubles. */
#include "sd/scheduler.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/registry.h"
#include "sd/model.h"

/* ------------------------------------------------------------------------ noise source */

a2i2a_status sd_noise_draw(sd_noise *ns, float *out, size_t n) {
  if (ns && ns->replay) {
    if (ns->pos + n > ns->replay_len)
      return fail(A2I2A_ERR_INTERNAL, "recorded noise exhausted at draw %d (%zu values needed, %zu left)",
                  ns->draws + 1, n, ns->replay_len - ns->pos);
    memcpy(out, ns->replay + ns->pos, n * sizeof *out);
    ns->pos += n;
  } else if (ns && ns->rng && ns->to_rng && ns->alpha != 0) {
    float *to = malloc(n * sizeof *to);
    if (!to) return fail(A2I2A_ERR_NOMEM, "out of memory (%zu MB of noise)", (n * sizeof *to) >> 20);
    rng_randn(ns->rng, out, n);
    rng_randn(ns->to_rng, to, n);
    sd_slerp(out, to, out, n, ns->alpha);
    free(to);
  } else if (ns && ns->rng) {
    rng_randn(ns->rng, out, n);
  } else {
    return fail(A2I2A_ERR_INTERNAL, "a sampler step needs noise but no generator was given");
  }
  ns->draws++;
  return A2I2A_OK;
}

void sd_slerp(const float *a, const float *b, float *out, size_t n, double t) {
  if (t == 0 || t == 1) { /* the endpoints themselves, bit for bit */
    if (out != (t == 0 ? a : b)) memmove(out, t == 0 ? a : b, n * sizeof *out);
    return;
  }
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < n; i++) ab += (double)a[i] * b[i], aa += (double)a[i] * a[i], bb += (double)b[i] * b[i];
  double dot = aa > 0 && bb > 0 ? ab / sqrt(aa * bb) : 1, wa = 1 - t, wb = t;
  if (fabs(dot) <= 0.9995) {
    double theta = acos(dot), s = sin(theta);
    wa = sin((1 - t) * theta) / s, wb = sin(t * theta) / s;
  }
  for (size_t i = 0; i < n; i++) out[i] = (float)(wa * a[i] + wb * b[i]);
}

/* ------------------------------------------------------------------------ configuration */

/* One sampler: its diffusers class, Automatic1111's name for it, and whether it forces Karras
 * sigmas; the JSON of its registry entry is made from the same tokens. Adding a sampler: a row
 * here, and its step where the class is implemented. */
#define SAMPLER(name, description, cls, a1111, karras)                                                  \
  {{name, description, "{\"class\": \"" cls "\", \"a1111\": \"" a1111 "\", \"karras_sigmas\": " #karras "}"}, \
   cls, a1111, karras}

static const struct {
  a2i2a_entry entry;
  const char *cls, *a1111;
  int karras;
} samplers[] = {
    SAMPLER("pndm", "PNDM (PLMS): the notebook's and SD 1.5's own", "PNDMScheduler", "PLMS", false),
    SAMPLER("ddim", "DDIM: deterministic", "DDIMScheduler", "DDIM", false),
    SAMPLER("euler", "Euler (SD-Turbo, with --spacing trailing)", "EulerDiscreteScheduler", "Euler", false),
    SAMPLER("euler-a", "Euler ancestral: fresh noise at every step", "EulerAncestralDiscreteScheduler", "Euler a",
            false),
    SAMPLER("lms", "linear multistep", "LMSDiscreteScheduler", "LMS", false),
    SAMPLER("dpm++2m", "DPM-Solver++ 2M (Riffusion's preset)", "DPMSolverMultistepScheduler", "DPM++ 2M", false),
    SAMPLER("dpm++2m-karras", "DPM-Solver++ 2M with Karras sigmas", "DPMSolverMultistepScheduler", "DPM++ 2M Karras",
            true),
    SAMPLER("lcm", "latent consistency, for LCM models (few steps, at most their original 50)", "LCMScheduler", "LCM",
            false),
};
const registry_table sched_sampler_registry = REGISTRY_TABLE("samplers", "sampler", samplers, NULL);

static const struct {
  a2i2a_entry entry;
  sched_spacing spacing;
} spacings[] = {
    {{"leading", "steps counted up from t = 0 (DDIM's and PNDM's default)", "{}"}, SPACING_LEADING},
    {{"linspace", "steps spread evenly over the whole range (Euler's, LMS's, DPM++'s default)", "{}"}, SPACING_LINSPACE},
    {{"trailing", "steps counted down from the last training step (SD-Turbo)", "{}"}, SPACING_TRAILING},
};
const registry_table sched_spacing_registry = REGISTRY_TABLE("spacings", "timestep spacing", spacings, NULL);

static const struct {
  a2i2a_entry entry;
  sched_prediction prediction;
} predictions[] = {
    {{"epsilon", "the model predicts the noise (SD 1.x, SD 2.x-base, SD-Turbo)", "{}"}, PRED_EPSILON},
    {{"v", "the model predicts v (SD 2.x at 768)", "{}"}, PRED_V},
};
const registry_table sched_prediction_registry = REGISTRY_TABLE(NULL, "prediction", predictions, NULL);

const char *sched_class_of_sampler(const char *sampler) {
  int i = registry_index(&sched_sampler_registry, sampler);
  return i < 0 ? NULL : samplers[i].cls;
}

const char *sched_a1111_sampler(const char *sampler) {
  int i = registry_index(&sched_sampler_registry, sampler);
  return i < 0 ? sampler : samplers[i].a1111;
}

a2i2a_status sched_parse_spacing(const char *name, sched_spacing *out) {
  if (!name || !*name) {
    *out = SPACING_DEFAULT;
    return A2I2A_OK;
  }
  int i = registry_index(&sched_spacing_registry, name);
  if (i < 0) return registry_unknown(&sched_spacing_registry, name);
  *out = spacings[i].spacing;
  return A2I2A_OK;
}

const char *sched_spacing_name(sched_spacing s) {
  for (int i = 0; i < sched_spacing_registry.count; i++)
    if (spacings[i].spacing == s) return spacings[i].entry.name;
  return "default";
}

/* A config key as from_config sees it: absent when listed in _use_default_values. */
static const cJSON *cfg_item(const cJSON *cfg, const char *key) {
  if (!cfg) return NULL;
  const cJSON *defaults = cJSON_GetObjectItemCaseSensitive(cfg, "_use_default_values");
  const cJSON *d;
  cJSON_ArrayForEach(d, defaults) if (cJSON_IsString(d) && !strcmp(d->valuestring, key)) return NULL;
  const cJSON *it = cJSON_GetObjectItemCaseSensitive(cfg, key);
  return cJSON_IsNull(it) ? NULL : it;
}

/* A number within its bounds (docs/reliability.md): sd_config_value's check and message. */
static a2i2a_status cfg_bounded(const cJSON *cfg, const char *key, double def, double lo, double hi, int whole,
                                double *out) {
  return sd_config_value(cfg_item(cfg, key), "scheduler config", key, def, lo, hi, whole, out);
}

static int cfg_bool(const cJSON *cfg, const char *key, int def) {
  const cJSON *it = cfg_item(cfg, key);
  return cJSON_IsBool(it) ? cJSON_IsTrue(it) : def;
}

static const char *cfg_str(const cJSON *cfg, const char *key, const char *def) {
  const cJSON *it = cfg_item(cfg, key);
  return cJSON_IsString(it) ? it->valuestring : def;
}

a2i2a_status sched_config_from_json(const cJSON *cfg, const char *cls, sched_config *o) {
  memset(o, 0, sizeof *o);
  /* the defaults of each class's __init__ in diffusers 0.25.1 */
  double beta_start = 0.0001, beta_end = 0.02;
  const char *beta_schedule = "linear", *spacing = "leading";
  int set_alpha_to_one = 0, clip_sample = 0;
  if (!strcmp(cls, "PNDMScheduler")) {
    o->kind = SCHED_PNDM;
  } else if (!strcmp(cls, "DDIMScheduler")) {
    o->kind = SCHED_DDIM;
    set_alpha_to_one = 1;
    clip_sample = 1;
  } else if (!strcmp(cls, "EulerDiscreteScheduler")) {
    o->kind = SCHED_EULER;
    spacing = "linspace";
  } else if (!strcmp(cls, "EulerAncestralDiscreteScheduler")) {
    o->kind = SCHED_EULER_A;
    spacing = "linspace";
  } else if (!strcmp(cls, "LMSDiscreteScheduler")) {
    o->kind = SCHED_LMS;
    spacing = "linspace";
  } else if (!strcmp(cls, "DPMSolverMultistepScheduler")) {
    o->kind = SCHED_DPMPP;
    spacing = "linspace";
  } else if (!strcmp(cls, "LCMScheduler")) {
    o->kind = SCHED_LCM;
    beta_start = 0.00085;
    beta_end = 0.012;
    beta_schedule = "scaled_linear";
    set_alpha_to_one = 1;
  } else {
    char names[256];
    return fail(A2I2A_ERR_UNSUPPORTED, "scheduler class %s is not implemented (samplers: %s)", cls,
                registry_names(&sched_sampler_registry, names, sizeof names));
  }
  double T, offset;
  a2i2a_status st;
  if ((st = cfg_bounded(cfg, "num_train_timesteps", 1000, 2, 100000, 1, &T)) ||
      (st = cfg_bounded(cfg, "beta_start", beta_start, 0, 1, 0, &o->beta_start)) ||
      (st = cfg_bounded(cfg, "beta_end", beta_end, 0, 1, 0, &o->beta_end)) ||
      (st = cfg_bounded(cfg, "steps_offset", 0, 0, T, 1, &offset)) ||
      (st = cfg_bounded(cfg, "clip_sample_range", 1.0, 1e-6, 1e6, 0, &o->clip_sample_range)))
    return st;
  o->num_train_timesteps = (int)T;
  o->steps_offset = (int)offset;
  beta_schedule = cfg_str(cfg, "beta_schedule", beta_schedule);
  if (!strcmp(beta_schedule, "scaled_linear")) o->beta_schedule = BETAS_SCALED_LINEAR;
  else if (!strcmp(beta_schedule, "linear")) o->beta_schedule = BETAS_LINEAR;
  else if (!strcmp(beta_schedule, "squaredcos_cap_v2")) o->beta_schedule = BETAS_COSINE;
  else return fail(A2I2A_ERR_UNSUPPORTED, "scheduler config: beta_schedule '%s' is not implemented", beta_schedule);
  if (cfg_item(cfg, "trained_betas"))
    return fail(A2I2A_ERR_UNSUPPORTED, "scheduler config: trained_betas are not implemented");
  o->set_alpha_to_one = cfg_bool(cfg, "set_alpha_to_one", set_alpha_to_one);
  o->skip_prk_steps = cfg_bool(cfg, "skip_prk_steps", 0);
  const char *pred = cfg_str(cfg, "prediction_type", "epsilon");
  if (!strcmp(pred, "epsilon")) o->prediction = PRED_EPSILON;
  else if (!strcmp(pred, "v_prediction")) o->prediction = PRED_V;
  else if (!strcmp(pred, "sample")) o->prediction = PRED_SAMPLE;
  else return fail(A2I2A_ERR_UNSUPPORTED, "scheduler config: prediction_type '%s' is not implemented", pred);
  if (o->kind == SCHED_PNDM && o->prediction == PRED_SAMPLE)
    return fail(A2I2A_ERR_UNSUPPORTED, "PNDM does not support prediction_type 'sample'");
  if ((st = sched_parse_spacing(cfg_str(cfg, "timestep_spacing", spacing), &o->spacing))) return st;
  if (o->spacing == SPACING_DEFAULT) sched_parse_spacing(spacing, &o->spacing);
  o->clip_sample = cfg_bool(cfg, "clip_sample", clip_sample);
  if (o->kind != SCHED_DDIM && o->kind != SCHED_LCM) o->clip_sample = 0; /* others ignore it */
  if ((o->kind == SCHED_DDIM || o->kind == SCHED_LCM || o->kind == SCHED_DPMPP) && cfg_bool(cfg, "thresholding", 0))
    return fail(A2I2A_ERR_UNSUPPORTED, "scheduler config: thresholding is not implemented");
  if (cfg_bool(cfg, "rescale_betas_zero_snr", 0))
    return fail(A2I2A_ERR_UNSUPPORTED, "scheduler config: rescale_betas_zero_snr is not implemented");
  o->use_karras_sigmas = 0;
  if (o->kind == SCHED_EULER || o->kind == SCHED_LMS || o->kind == SCHED_DPMPP)
    o->use_karras_sigmas = cfg_bool(cfg, "use_karras_sigmas", 0);
  if (o->kind == SCHED_EULER) {
    if (strcmp(cfg_str(cfg, "interpolation_type", "linear"), "linear"))
      return fail(A2I2A_ERR_UNSUPPORTED, "scheduler config: interpolation_type other than 'linear' is not implemented");
    if (cfg_item(cfg, "sigma_min") || cfg_item(cfg, "sigma_max"))
      return fail(A2I2A_ERR_UNSUPPORTED, "scheduler config: sigma_min/sigma_max are not implemented");
    if (strcmp(cfg_str(cfg, "timestep_type", "discrete"), "discrete"))
      return fail(A2I2A_ERR_UNSUPPORTED, "scheduler config: timestep_type other than 'discrete' is not implemented");
  }
  if (o->kind == SCHED_DPMPP) {
    double order;
    if ((st = cfg_bounded(cfg, "solver_order", 2, 1, 2, 1, &order))) return st;
    o->solver_order = (int)order;
    o->lower_order_final = cfg_bool(cfg, "lower_order_final", 1);
    o->euler_at_final = cfg_bool(cfg, "euler_at_final", 0);
    if (strcmp(cfg_str(cfg, "algorithm_type", "dpmsolver++"), "dpmsolver++") ||
        strcmp(cfg_str(cfg, "solver_type", "midpoint"), "midpoint") || o->solver_order < 1 || o->solver_order > 2 ||
        cfg_bool(cfg, "use_lu_lambdas", 0) || cfg_item(cfg, "variance_type"))
      return fail(A2I2A_ERR_UNSUPPORTED,
                  "scheduler config: only DPM-Solver++ (dpmsolver++, midpoint, order 1 or 2) is implemented");
    const cJSON *lmc = cfg_item(cfg, "lambda_min_clipped");
    if (cJSON_IsNumber(lmc) && isfinite(lmc->valuedouble))
      return fail(A2I2A_ERR_UNSUPPORTED, "scheduler config: lambda_min_clipped is not implemented");
  }
  if (o->kind == SCHED_LCM) {
    double orig;
    if ((st = cfg_bounded(cfg, "original_inference_steps", 50, 1, T, 1, &orig)) ||
        (st = cfg_bounded(cfg, "timestep_scaling", 10.0, 0, 1e6, 0, &o->timestep_scaling)))
      return st;
    o->original_inference_steps = (int)orig;
  }
  return A2I2A_OK;
}

a2i2a_status sched_config_for_sampler(const cJSON *cfg, const char *sampler, const char *spacing, sched_config *out) {
  int i = registry_index(&sched_sampler_registry, sampler);
  if (i < 0) return registry_unknown(&sched_sampler_registry, sampler);
  sched_spacing sp = SPACING_DEFAULT;
  a2i2a_status st = sched_parse_spacing(spacing, &sp);
  if (st) return st;
  st = sched_config_from_json(cfg, samplers[i].cls, out);
  if (st) return st;
  if (samplers[i].karras) out->use_karras_sigmas = 1;
  if (sp != SPACING_DEFAULT) out->spacing = sp;
  return A2I2A_OK;
}

a2i2a_status sched_parse_prediction(const char *name, sched_prediction *out) {
  int i = registry_index(&sched_prediction_registry, name);
  if (i < 0) return registry_unknown(&sched_prediction_registry, name);
  if (out) *out = predictions[i].prediction;
  return A2I2A_OK;
}

a2i2a_status sched_override_prediction(sched_config *c, const char *name) {
  return name ? sched_parse_prediction(name, &c->prediction) : A2I2A_OK;
}

/* ------------------------------------------------------------------------ training tables */

struct sched {
  sched_config cfg;
  int T;
  float *betas, *alphas_cumprod;
  float final_alpha_cumprod;
  /* the schedule */
  int n;          /* num_inference_steps as given to set_timesteps (DPM: len(timesteps)) */
  int count;      /* entries in timesteps */
  double *timesteps;
  float *sigmas;  /* count + 1 */
  float init_noise_sigma;
  /* step state */
  int step_index; /* -1: not yet looked up */
  int counter;    /* PNDM */
  size_t nelem;   /* size of the history buffers */
  float *hist[4]; /* PNDM ets / LMS derivatives / DPM model_outputs, newest last */
  int nhist;
  float *cur_sample;
  int have_cur_sample;
  int lower_order_nums; /* DPM */
};

/* torch.linspace(start, end, n) in float32, CPU (README §7.5): the vectorised body fills chunks
 * of 8 from a base computed with one rounding; the scalar tail computes each value the same way. */
static void torch_linspace_f32(float s, float e, int n, float *x) {
  float step = (e - s) / (float)(n - 1);
  int halfway = n / 2;
  for (int c = 0; c < n; c += 8) {
    float base = c < halfway ? fmaf(step, (float)c, s) : fmaf(-step, (float)(n - 1 - c), e);
    for (int k = 0; k < 8 && c + k < n; k++) x[c + k] = base + (float)k * step;
  }
}

static a2i2a_status make_tables(sched *s) {
  const sched_config *c = &s->cfg;
  int T = s->T;
  s->betas = xmalloc((size_t)T * sizeof(float), "scheduler tables");
  s->alphas_cumprod = xmalloc((size_t)T * sizeof(float), "scheduler tables");
  if (!s->betas || !s->alphas_cumprod) return A2I2A_ERR_NOMEM;
  if (c->beta_schedule == BETAS_SCALED_LINEAR) {
    torch_linspace_f32((float)sqrt(c->beta_start), (float)sqrt(c->beta_end), T, s->betas);
    for (int i = 0; i < T; i++) s->betas[i] = s->betas[i] * s->betas[i];
  } else if (c->beta_schedule == BETAS_LINEAR) {
    torch_linspace_f32((float)c->beta_start, (float)c->beta_end, T, s->betas);
  } else { /* squaredcos_cap_v2: betas_for_alpha_bar in double, max_beta 0.999 */
    for (int i = 0; i < T; i++) {
      double t1 = (double)i / T, t2 = (double)(i + 1) / T;
      double a1 = cos((t1 + 0.008) / 1.008 * M_PI / 2), a2 = cos((t2 + 0.008) / 1.008 * M_PI / 2);
      double b = 1 - (a2 * a2) / (a1 * a1);
      s->betas[i] = (float)(b < 0.999 ? b : 0.999);
    }
  }
  /* torch's CPU cumprod accumulates in double */
  double acc = 1.0;
  for (int i = 0; i < T; i++) {
    acc *= (double)(1.0f - s->betas[i]);
    s->alphas_cumprod[i] = (float)acc;
  }
  s->final_alpha_cumprod = c->set_alpha_to_one ? 1.0f : s->alphas_cumprod[0];
  return A2I2A_OK;
}

a2i2a_status sched_new(const sched_config *cfg, sched **out) {
  *out = NULL;
  sched *s = xcalloc(1, sizeof *s, "scheduler");
  if (!s) return A2I2A_ERR_NOMEM;
  s->cfg = *cfg;
  s->T = cfg->num_train_timesteps;
  s->step_index = -1;
  a2i2a_status st = make_tables(s);
  if (st) {
    sched_free(s);
    return st;
  }
  *out = s;
  return A2I2A_OK;
}

static void free_state(sched *s) {
  for (int i = 0; i < 4; i++) free(s->hist[i]), s->hist[i] = NULL;
  free(s->cur_sample);
  s->cur_sample = NULL;
  s->nelem = 0;
  s->nhist = 0;
  s->have_cur_sample = 0;
}

void sched_free(sched *s) {
  if (!s) return;
  free_state(s);
  free(s->betas);
  free(s->alphas_cumprod);
  free(s->timesteps);
  free(s->sigmas);
  free(s);
}

const sched_config *sched_cfg(const sched *s) { return &s->cfg; }
const float *sched_betas(const sched *s) { return s->betas; }
const float *sched_alphas_cumprod(const sched *s) { return s->alphas_cumprod; }
int sched_count(const sched *s) { return s->count; }
const double *sched_timesteps(const sched *s) { return s->timesteps; }
const float *sched_sigmas(const sched *s) { return s->sigmas; }
float sched_init_noise_sigma(const sched *s) { return s->init_noise_sigma; }
int sched_has_pred_original(const sched *s) { return s->cfg.kind != SCHED_PNDM && s->cfg.kind != SCHED_DPMPP; }

/* ------------------------------------------------------------------------ set_timesteps */

/* np.linspace(0, stop, num) in float64: i·(stop/(num−1)), the last value exactly stop. */
static double np_linspace(double stop, int num, int i) {
  if (num == 1) return 0.0;
  if (i == num - 1) return stop;
  return (double)i * (stop / (double)(num - 1));
}

/* np.arange(start, 0, -step) in float64 as numpy fills it: start + i·((start − step) − start). */
static int np_arange_down(double start, double step, double *out, int max) {
  int len = (int)ceil((0.0 - start) / -step);
  if (len > max) len = max;
  double delta = (start - step) - start;
  for (int i = 0; i < len; i++) out[i] = i == 0 ? start : i == 1 ? start - step : start + (double)i * delta;
  return len;
}

/* The sigma table of the Euler family and DPM: ((1 − ᾱ)/ᾱ)^0.5 computed on the float32 tensor. */
static float train_sigma(const sched *s, int i) {
  float a = s->alphas_cumprod[i];
  return sqrtf((1.0f - a) / a);
}

/* np.interp(t, arange(T), sigmas) */
static double interp_sigma(const sched *s, double t) {
  if (t <= 0) return train_sigma(s, 0);
  if (t >= s->T - 1) return train_sigma(s, s->T - 1);
  int j = (int)floor(t);
  double y0 = train_sigma(s, j), y1 = train_sigma(s, j + 1);
  if (t == (double)j) return y0;
  double slope = (y1 - y0) / 1.0;
  return slope * (t - (double)j) + y0;
}

/* Karras et al. (2022) sigmas between the training σ_min and σ_max, ρ = 7. */
static void karras_sigmas(const sched *s, int n, double *out) {
  double smin = train_sigma(s, 0), smax = train_sigma(s, s->T - 1), rho = 7.0;
  double min_inv = pow(smin, 1 / rho), max_inv = pow(smax, 1 / rho);
  for (int i = 0; i < n; i++) {
    double ramp = np_linspace(1.0, n, i);
    out[i] = pow(max_inv + ramp * (min_inv - max_inv), rho);
  }
}

/* _sigma_to_t: log-σ interpolation on the float32 log table. */
static double sigma_to_t(const sched *s, double sigma) {
  double log_sigma = log(sigma > 1e-10 ? sigma : 1e-10);
  int T = s->T, low = 0;
  /* cumsum(dists >= 0).argmax(): the last index whose log σ is <= log_sigma (table increasing) */
  int last = -1;
  for (int i = 0; i < T; i++)
    if (log_sigma - (double)logf(train_sigma(s, i)) >= 0) last = i;
  low = last < 0 ? 0 : last;
  if (low > T - 2) low = T - 2;
  double lo = logf(train_sigma(s, low)), hi = logf(train_sigma(s, low + 1));
  double w = (lo - log_sigma) / (lo - hi);
  if (w < 0) w = 0;
  if (w > 1) w = 1;
  return (1 - w) * low + w * (low + 1);
}

static a2i2a_status alloc_schedule(sched *s, int count) {
  free(s->timesteps);
  free(s->sigmas);
  s->sigmas = NULL;
  s->count = count;
  s->timesteps = xcalloc((size_t)count + 1, sizeof(double), "schedule");
  if (!s->timesteps) return A2I2A_ERR_NOMEM;
  return A2I2A_OK;
}

/* Integer timesteps of PNDM, DDIM: ascending (PNDM) or descending (DDIM) as diffusers builds them. */
static void int_timesteps_desc(const sched *s, int n, double *t) {
  int T = s->T;
  if (s->cfg.spacing == SPACING_LINSPACE) {
    for (int i = 0; i < n; i++) t[n - 1 - i] = rint(np_linspace(T - 1, n, i));
  } else if (s->cfg.spacing == SPACING_LEADING) {
    int ratio = T / n;
    for (int i = 0; i < n; i++) t[n - 1 - i] = (double)(i * ratio) + s->cfg.steps_offset;
  } else {
    double *a = malloc(sizeof(double) * (size_t)(n + 2));
    int len = np_arange_down(T, (double)T / n, a, n + 1);
    for (int i = 0; i < n; i++) t[i] = (i < len ? rint(a[i]) : 0) - 1;
    free(a);
  }
}

a2i2a_status sched_set_timesteps(sched *s, int n) {
  const sched_config *c = &s->cfg;
  int T = s->T;
  if (n < 1) return fail(A2I2A_ERR_PARAM, "the number of steps must be at least 1 (got %d)", n);
  if (n > T)
    return fail(A2I2A_ERR_PARAM, "%d steps: more than the scheduler's %d training timesteps", n, T);
  free_state(s);
  s->step_index = -1;
  s->counter = 0;
  s->lower_order_nums = 0;
  s->n = n;
  s->init_noise_sigma = 1.0f;
  a2i2a_status st;
  switch (c->kind) {
  case SCHED_PNDM: {
    /* _timesteps ascending; PLMS order: [t0, t1, t1, t2, ..., t_{n-1}] descending */
    double *asc = malloc(sizeof(double) * (size_t)n);
    if (!asc) return fail(A2I2A_ERR_NOMEM, "out of memory");
    int_timesteps_desc(s, n, asc);
    for (int i = 0; i < n / 2; i++) {
      double x = asc[i];
      asc[i] = asc[n - 1 - i];
      asc[n - 1 - i] = x;
    }
    int count = n == 1 ? 1 : n + 1;
    if ((st = alloc_schedule(s, count))) return free(asc), st;
    /* concat(_t[:-1], _t[-2:-1], _t[-1:]) reversed */
    int k = 0;
    double *tmp = s->timesteps;
    for (int i = 0; i < n - 1; i++) tmp[k++] = asc[i];
    if (n >= 2) tmp[k++] = asc[n - 2];
    tmp[k++] = asc[n - 1];
    for (int i = 0; i < k / 2; i++) {
      double x = tmp[i];
      tmp[i] = tmp[k - 1 - i];
      tmp[k - 1 - i] = x;
    }
    free(asc);
    break;
  }
  case SCHED_DDIM:
    if ((st = alloc_schedule(s, n))) return st;
    int_timesteps_desc(s, n, s->timesteps);
    break;
  case SCHED_LCM: {
    int orig = c->original_inference_steps;
    if (orig > T) return fail(A2I2A_ERR_PARAM, "LCM: original_inference_steps %d exceeds %d training timesteps", orig, T);
    int k = T / orig, norig = orig; /* strength 1.0 */
    int skipping = norig / n;
    if (skipping < 1)
      return fail(A2I2A_ERR_PARAM,
                  "LCM: %d steps is more than its %d original steps (use at most %d steps)", n, norig, norig);
    if (n > orig) return fail(A2I2A_ERR_PARAM, "LCM: %d steps is more than its %d original steps", n, orig);
    if ((st = alloc_schedule(s, n))) return st;
    for (int i = 0; i < n; i++) {
      /* np.linspace(0, len, num=n, endpoint=False) floored, into the reversed k·(1..orig) − 1 */
      int idx = (int)floor((double)i * ((double)norig / (double)n));
      s->timesteps[i] = (double)(k * (norig - idx)) - 1;
    }
    break;
  }
  case SCHED_EULER:
  case SCHED_EULER_A:
  case SCHED_LMS: {
    if ((st = alloc_schedule(s, n))) return st;
    double *t = s->timesteps;
    if (c->spacing == SPACING_LINSPACE) {
      for (int i = 0; i < n; i++) {
        double v = np_linspace(T - 1, n, i);
        t[n - 1 - i] = (double)(float)v; /* np.linspace(..., dtype=np.float32) */
      }
    } else if (c->spacing == SPACING_LEADING) {
      int ratio = T / n;
      for (int i = 0; i < n; i++) t[n - 1 - i] = (double)(i * ratio) + c->steps_offset;
    } else {
      double *a = malloc(sizeof(double) * (size_t)(n + 2));
      if (!a) return fail(A2I2A_ERR_NOMEM, "out of memory");
      int len = np_arange_down(T, (double)T / n, a, n + 1);
      for (int i = 0; i < n; i++) t[i] = (i < len ? rint(a[i]) : 0) - 1;
      free(a);
    }
    s->sigmas = xmalloc(sizeof(float) * (size_t)(n + 1), "schedule");
    if (!s->sigmas) return A2I2A_ERR_NOMEM;
    double *sg = malloc(sizeof(double) * (size_t)n);
    if (!sg) return fail(A2I2A_ERR_NOMEM, "out of memory");
    for (int i = 0; i < n; i++) sg[i] = interp_sigma(s, t[i]);
    if (c->use_karras_sigmas) {
      /* Euler/LMS: Karras between the interpolated schedule's ends, timesteps from the sigmas */
      double smax = sg[0], smin = sg[n - 1], rho = 7.0;
      double min_inv = pow(smin, 1 / rho), max_inv = pow(smax, 1 / rho);
      for (int i = 0; i < n; i++) {
        sg[i] = pow(max_inv + np_linspace(1.0, n, i) * (min_inv - max_inv), rho);
        t[i] = (double)(float)sigma_to_t(s, sg[i]);
      }
    }
    for (int i = 0; i < n; i++) s->sigmas[i] = (float)sg[i];
    s->sigmas[n] = 0.0f;
    free(sg);
    float smax = 0;
    for (int i = 0; i <= n; i++)
      if (s->sigmas[i] > smax) smax = s->sigmas[i];
    s->init_noise_sigma =
        (c->spacing == SPACING_LINSPACE || c->spacing == SPACING_TRAILING) ? smax : sqrtf(smax * smax + 1.0f);
    break;
  }
  case SCHED_DPMPP: {
    if ((st = alloc_schedule(s, n))) return st;
    double *t = s->timesteps;
    int last = T; /* lambda_min_clipped = -inf clips nothing */
    if (c->spacing == SPACING_LINSPACE) {
      for (int i = 0; i < n; i++) t[i] = rint(np_linspace(last - 1, n + 1, n - i));
    } else if (c->spacing == SPACING_LEADING) {
      int ratio = last / (n + 1);
      for (int i = 0; i < n; i++) t[i] = (double)((n - i) * ratio) + c->steps_offset;
    } else {
      double *a = malloc(sizeof(double) * (size_t)(n + 2));
      if (!a) return fail(A2I2A_ERR_NOMEM, "out of memory");
      int len = np_arange_down(last, (double)T / n, a, n + 1);
      for (int i = 0; i < n; i++) t[i] = (i < len ? rint(a[i]) : 0) - 1;
      free(a);
    }
    s->sigmas = xmalloc(sizeof(float) * (size_t)(n + 1), "schedule");
    if (!s->sigmas) return A2I2A_ERR_NOMEM;
    if (c->use_karras_sigmas) {
      double *sg = malloc(sizeof(double) * (size_t)n);
      if (!sg) return fail(A2I2A_ERR_NOMEM, "out of memory");
      karras_sigmas(s, n, sg);
      for (int i = 0; i < n; i++) {
        t[i] = rint(sigma_to_t(s, sg[i]));
        s->sigmas[i] = (float)sg[i];
      }
      s->sigmas[n] = s->sigmas[n - 1];
      free(sg);
    } else {
      for (int i = 0; i < n; i++) s->sigmas[i] = (float)interp_sigma(s, t[i]);
      s->sigmas[n] = train_sigma(s, 0); /* this version ends at σ(t=0), not 0 */
    }
    s->init_noise_sigma = 1.0f;
    break;
  }
  }
  return A2I2A_OK;
}

void sched_img2img_range(int n, double strength, int *init_timestep, int *t_start) {
  double x = (double)n * strength;
  int it = x >= (double)n ? n : (int)x; /* int() truncates */
  if (it < 0) it = 0;
  int ts = n - it;
  if (ts < 0) ts = 0;
  if (init_timestep) *init_timestep = it;
  if (t_start) *t_start = ts;
}

/* ------------------------------------------------------------------------ lookups */

/* _init_step_index / index_for_timestep: the second occurrence when the timestep repeats
 * (DPM: the last index when absent). */
static int index_for_timestep(const sched *s, double t) {
  int first = -1, second = -1;
  for (int i = 0; i < s->count; i++)
    if ((float)s->timesteps[i] == (float)t || s->timesteps[i] == t) {
      if (first < 0) first = i;
      else if (second < 0) second = i;
    }
  if (second >= 0) return second;
  if (first >= 0) return first;
  return s->count - 1;
}

static float alpha_at(const sched *s, long t) {
  if (t < 0) return s->final_alpha_cumprod;
  if (t >= s->T) t = s->T - 1;
  return s->alphas_cumprod[t];
}

/* ------------------------------------------------------------------------ add_noise, scale */

void sched_add_noise(const sched *s, const float *x0, const float *noise, double t, float *x, size_t n) {
  switch (s->cfg.kind) {
  case SCHED_PNDM:
  case SCHED_DDIM:
  case SCHED_LCM: {
    float a = alpha_at(s, (long)t);
    float sa = sqrtf(a), sb = sqrtf(1.0f - a);
    for (size_t i = 0; i < n; i++) x[i] = sa * x0[i] + sb * noise[i];
    break;
  }
  case SCHED_EULER:
  case SCHED_EULER_A:
  case SCHED_LMS: {
    float sigma = s->sigmas[index_for_timestep(s, t)];
    for (size_t i = 0; i < n; i++) x[i] = x0[i] + noise[i] * sigma;
    break;
  }
  case SCHED_DPMPP: {
    float sigma = s->sigmas[index_for_timestep(s, t)];
    float alpha_t = 1.0f / sqrtf(sigma * sigma + 1.0f), sigma_t = sigma * alpha_t;
    for (size_t i = 0; i < n; i++) x[i] = alpha_t * x0[i] + sigma_t * noise[i];
    break;
  }
  }
}

void sched_scale_model_input(sched *s, double t, const float *in, float *out, size_t n) {
  switch (s->cfg.kind) {
  case SCHED_EULER:
  case SCHED_EULER_A:
  case SCHED_LMS: {
    if (s->step_index < 0) s->step_index = index_for_timestep(s, t);
    float sigma = s->sigmas[s->step_index];
    float d = sqrtf(sigma * sigma + 1.0f);
    for (size_t i = 0; i < n; i++) out[i] = in[i] / d;
    break;
  }
  default:
    if (out != in) memcpy(out, in, n * sizeof *out);
  }
}

/* ------------------------------------------------------------------------ steps */

static a2i2a_status ensure_state(sched *s, size_t n) {
  if (s->nelem == n) return A2I2A_OK;
  free_state(s);
  for (int i = 0; i < 4; i++) {
    s->hist[i] = xmalloc(n * sizeof(float), "sampler state");
    if (!s->hist[i]) return A2I2A_ERR_NOMEM;
  }
  s->cur_sample = xmalloc(n * sizeof(float), "sampler state");
  if (!s->cur_sample) return A2I2A_ERR_NOMEM;
  s->nelem = n;
  return A2I2A_OK;
}

/* appends to the history (keeping the last `keep`), newest last */
static void push_hist(sched *s, const float *x, int keep) {
  if (s->nhist == keep) {
    float *old = s->hist[0];
    for (int i = 0; i < keep - 1; i++) s->hist[i] = s->hist[i + 1];
    s->hist[keep - 1] = old;
    s->nhist--;
  }
  memcpy(s->hist[s->nhist++], x, s->nelem * sizeof(float));
}

/* PNDM formula (9): x_prev from x at t, model output e. */
static void pndm_prev_sample(const sched *s, const float *sample, long t, long prev_t, const float *e, float *out,
                             size_t n) {
  float a_t = alpha_at(s, t), a_prev = alpha_at(s, prev_t);
  float b_t = 1.0f - a_t, b_prev = 1.0f - a_prev;
  float sample_coeff = sqrtf(a_prev / a_t);
  float denom = a_t * sqrtf(b_prev) + sqrtf(a_t * b_t * a_prev);
  float diff = a_prev - a_t;
  float sa = sqrtf(a_t), sb = sqrtf(b_t);
  for (size_t i = 0; i < n; i++) {
    float mo = e[i];
    if (s->cfg.prediction == PRED_V) mo = sa * mo + sb * sample[i];
    out[i] = sample_coeff * sample[i] - diff * mo / denom;
  }
}

static a2i2a_status step_pndm(sched *s, const float *mo, double tt, const float *sample, float *prev, size_t n) {
  long t = (long)tt;
  long ratio = s->T / s->n;
  long prev_t = t - ratio;
  if (s->counter != 1) push_hist(s, mo, 4);
  else {
    prev_t = t;
    t = t + ratio;
  }
  if (t >= s->T) return fail(A2I2A_ERR_INTERNAL, "PNDM: timestep %ld out of range", t);
  /* the combined model output goes into a scratch row of its own */
  float *comb = malloc(n * sizeof(float));
  if (!comb) return fail(A2I2A_ERR_NOMEM, "out of memory in the sampler");
  const float *x = sample;
  /* len(ets): one per step except the second */
  int ne = s->counter == 0 ? 1 : s->counter;
  float **h = s->hist;
  int k = s->nhist;
  if (ne == 1 && s->counter == 0) {
    memcpy(comb, mo, n * sizeof(float));
    memcpy(s->cur_sample, sample, n * sizeof(float));
    s->have_cur_sample = 1;
  } else if (ne == 1 && s->counter == 1) {
    for (size_t i = 0; i < n; i++) comb[i] = (mo[i] + h[k - 1][i]) / 2.0f;
    x = s->cur_sample;
  } else if (ne == 2) {
    for (size_t i = 0; i < n; i++) comb[i] = (3.0f * h[k - 1][i] - h[k - 2][i]) / 2.0f;
  } else if (ne == 3) {
    for (size_t i = 0; i < n; i++) comb[i] = (23.0f * h[k - 1][i] - 16.0f * h[k - 2][i] + 5.0f * h[k - 3][i]) / 12.0f;
  } else {
    const float c = (float)(1.0 / 24.0);
    for (size_t i = 0; i < n; i++)
      comb[i] = c * (55.0f * h[k - 1][i] - 59.0f * h[k - 2][i] + 37.0f * h[k - 3][i] - 9.0f * h[k - 4][i]);
  }
  pndm_prev_sample(s, x, t, prev_t, comb, prev, n);
  if (ne == 1 && s->counter == 1) s->have_cur_sample = 0;
  free(comb);
  s->counter++;
  return A2I2A_OK;
}

static void clip_x0(const sched *s, float *x0, size_t n) {
  if (!s->cfg.clip_sample) return;
  float r = (float)s->cfg.clip_sample_range;
  for (size_t i = 0; i < n; i++) x0[i] = x0[i] < -r ? -r : x0[i] > r ? r : x0[i];
}

static a2i2a_status step_ddim(sched *s, const float *mo, double tt, const float *sample, float *prev, float *x0out,
                              size_t n) {
  long t = (long)tt, prev_t = t - s->T / s->n;
  float a_t = alpha_at(s, t), a_prev = alpha_at(s, prev_t);
  float b_t = 1.0f - a_t;
  float sa = sqrtf(a_t), sb = sqrtf(b_t);
  float sa_prev = sqrtf(a_prev), dir = sqrtf(1.0f - a_prev - 0.0f);
  for (size_t i = 0; i < n; i++) {
    float x0, eps;
    if (s->cfg.prediction == PRED_EPSILON) {
      x0 = (sample[i] - sb * mo[i]) / sa;
      eps = mo[i];
    } else if (s->cfg.prediction == PRED_V) {
      x0 = sa * sample[i] - sb * mo[i];
      eps = sa * mo[i] + sb * sample[i];
    } else {
      x0 = mo[i];
      eps = (sample[i] - sa * x0) / sb;
    }
    if (s->cfg.clip_sample) {
      float r = (float)s->cfg.clip_sample_range;
      x0 = x0 < -r ? -r : x0 > r ? r : x0;
      if (s->cfg.prediction != PRED_V) eps = (sample[i] - sa * x0) / sb; /* diffusers re-derives eps */
    }
    if (x0out) x0out[i] = x0;
    prev[i] = sa_prev * x0 + dir * eps;
  }
  return A2I2A_OK;
}

static a2i2a_status step_lcm(sched *s, const float *mo, double tt, const float *sample, float *prev, float *x0out,
                             sd_noise *noise, size_t n) {
  if (s->step_index < 0) s->step_index = index_for_timestep(s, tt);
  long t = (long)tt;
  int pi = s->step_index + 1;
  long prev_t = pi < s->count ? (long)s->timesteps[pi] : t;
  float a_t = alpha_at(s, t), a_prev = alpha_at(s, prev_t);
  float b_t = 1.0f - a_t, b_prev = 1.0f - a_prev;
  float st = (float)t * (float)s->cfg.timestep_scaling;
  const float sd2 = 0.25f; /* sigma_data = 0.5 */
  float c_skip = sd2 / (st * st + sd2);
  float c_out = st / sqrtf(st * st + sd2);
  float sa = sqrtf(a_t), sb = sqrtf(b_t);
  float *den = x0out ? x0out : malloc(n * sizeof(float));
  if (!den) return fail(A2I2A_ERR_NOMEM, "out of memory in the sampler");
  for (size_t i = 0; i < n; i++) {
    float x0;
    if (s->cfg.prediction == PRED_EPSILON) x0 = (sample[i] - sb * mo[i]) / sa;
    else if (s->cfg.prediction == PRED_V) x0 = sa * sample[i] - sb * mo[i];
    else x0 = mo[i];
    den[i] = x0;
  }
  clip_x0(s, den, n);
  for (size_t i = 0; i < n; i++) den[i] = c_out * den[i] + c_skip * sample[i];
  a2i2a_status st2 = A2I2A_OK;
  if (s->step_index != s->n - 1) {
    float sap = sqrtf(a_prev), sbp = sqrtf(b_prev);
    st2 = sd_noise_draw(noise, prev, n); /* prev may alias sample: sample is no longer needed */
    if (!st2)
      for (size_t i = 0; i < n; i++) prev[i] = sap * den[i] + sbp * prev[i];
  } else {
    memcpy(prev, den, n * sizeof(float));
  }
  if (!x0out) free(den);
  s->step_index++;
  return st2;
}

static a2i2a_status step_euler(sched *s, const float *mo, double t, const float *sample, float *prev, float *x0out,
                               sd_noise *noise, size_t n) {
  if (s->step_index < 0) s->step_index = index_for_timestep(s, t);
  float sigma = s->sigmas[s->step_index];
  /* s_churn = 0: gamma = 0, but the noise is drawn anyway */
  float *eps = malloc(n * sizeof(float));
  if (!eps) return fail(A2I2A_ERR_NOMEM, "out of memory in the sampler");
  a2i2a_status st = sd_noise_draw(noise, eps, n);
  free(eps);
  if (st) return st;
  float sigma_hat = sigma * (0.0f + 1.0f);
  float dt = s->sigmas[s->step_index + 1] - sigma_hat;
  float c1 = -sigma / sqrtf(sigma * sigma + 1.0f), c2 = sigma * sigma + 1.0f;
  for (size_t i = 0; i < n; i++) {
    float x0;
    if (s->cfg.prediction == PRED_EPSILON) x0 = sample[i] - sigma_hat * mo[i];
    else if (s->cfg.prediction == PRED_V) x0 = mo[i] * c1 + sample[i] / c2;
    else x0 = mo[i];
    float d = (sample[i] - x0) / sigma_hat;
    if (x0out) x0out[i] = x0;
    prev[i] = sample[i] + d * dt;
  }
  s->step_index++;
  return A2I2A_OK;
}

static a2i2a_status step_euler_a(sched *s, const float *mo, double t, const float *sample, float *prev,
                                 float *x0out, sd_noise *noise, size_t n) {
  if (s->step_index < 0) s->step_index = index_for_timestep(s, t);
  float sigma = s->sigmas[s->step_index];
  float sf = sigma, st = s->sigmas[s->step_index + 1];
  float sigma_up = sqrtf(st * st * (sf * sf - st * st) / (sf * sf));
  float sigma_down = sqrtf(st * st - sigma_up * sigma_up);
  float dt = sigma_down - sigma;
  float c1 = -sigma / sqrtf(sigma * sigma + 1.0f), c2 = sigma * sigma + 1.0f;
  float *z = malloc(n * sizeof(float));
  if (!z) return fail(A2I2A_ERR_NOMEM, "out of memory in the sampler");
  for (size_t i = 0; i < n; i++) {
    float x0;
    if (s->cfg.prediction == PRED_EPSILON) x0 = sample[i] - sigma * mo[i];
    else if (s->cfg.prediction == PRED_V) x0 = mo[i] * c1 + sample[i] / c2;
    else x0 = mo[i];
    float d = (sample[i] - x0) / sigma;
    if (x0out) x0out[i] = x0;
    prev[i] = sample[i] + d * dt;
  }
  a2i2a_status r = sd_noise_draw(noise, z, n);
  if (!r)
    for (size_t i = 0; i < n; i++) prev[i] = prev[i] + z[i] * sigma_up;
  free(z);
  s->step_index++;
  return r;
}

/* ∫_{a}^{b} Π_{k≠j} (τ − σ_k)/(σ_j − σ_k) dτ: a cubic at most, so 3-point Gauss–Legendre is exact. */
static double lms_coefficient(const sched *s, int order, int t, int j) {
  static const double gx[3] = {-0.7745966692414834, 0.0, 0.7745966692414834};
  static const double gw[3] = {5.0 / 9.0, 8.0 / 9.0, 5.0 / 9.0};
  double a = s->sigmas[t], b = s->sigmas[t + 1], sum = 0;
  for (int q = 0; q < 3; q++) {
    double tau = 0.5 * (b - a) * gx[q] + 0.5 * (a + b), prod = 1.0;
    for (int k = 0; k < order; k++) {
      if (k == j) continue;
      prod *= (tau - (double)s->sigmas[t - k]) / ((double)s->sigmas[t - j] - (double)s->sigmas[t - k]);
    }
    sum += gw[q] * prod;
  }
  return 0.5 * (b - a) * sum;
}

static a2i2a_status step_lms(sched *s, const float *mo, double t, const float *sample, float *prev, float *x0out,
                             size_t n) {
  const int max_order = 4;
  if (s->step_index < 0) s->step_index = index_for_timestep(s, t);
  float sigma = s->sigmas[s->step_index];
  float c1 = -sigma / sqrtf(sigma * sigma + 1.0f), c2 = sigma * sigma + 1.0f;
  float *d = malloc(n * sizeof(float));
  if (!d) return fail(A2I2A_ERR_NOMEM, "out of memory in the sampler");
  for (size_t i = 0; i < n; i++) {
    float x0;
    if (s->cfg.prediction == PRED_EPSILON) x0 = sample[i] - sigma * mo[i];
    else if (s->cfg.prediction == PRED_V) x0 = mo[i] * c1 + sample[i] / c2;
    else x0 = mo[i];
    if (x0out) x0out[i] = x0;
    d[i] = (sample[i] - x0) / sigma;
  }
  push_hist(s, d, max_order);
  free(d);
  /* diffusers takes the order from the step index, not from the history it has: in img2img
   * the first step already uses the order-4 coefficient of the newest derivative */
  int order = s->step_index + 1 < max_order ? s->step_index + 1 : max_order;
  float coeff[4];
  for (int j = 0; j < order; j++) coeff[j] = (float)lms_coefficient(s, order, s->step_index, j);
  int terms = order < s->nhist ? order : s->nhist;
  for (size_t i = 0; i < n; i++) {
    float acc = 0.0f;
    for (int j = 0; j < terms; j++) acc = acc + coeff[j] * s->hist[s->nhist - 1 - j][i];
    prev[i] = sample[i] + acc;
  }
  s->step_index++;
  return A2I2A_OK;
}

static void dpm_alpha_sigma(float sigma, float *alpha_t, float *sigma_t) {
  *alpha_t = 1.0f / sqrtf(sigma * sigma + 1.0f);
  *sigma_t = sigma * *alpha_t;
}

static a2i2a_status step_dpmpp(sched *s, const float *mo, double t, const float *sample, float *prev, size_t n) {
  if (s->step_index < 0) s->step_index = index_for_timestep(s, t);
  int si = s->step_index, len = s->count;
  int lower_final = si == len - 1 && (s->cfg.euler_at_final || (s->cfg.lower_order_final && len < 15));
  /* convert_model_output: the data prediction x0 */
  float a_s0, s_s0;
  dpm_alpha_sigma(s->sigmas[si], &a_s0, &s_s0);
  float *x0 = malloc(n * sizeof(float));
  if (!x0) return fail(A2I2A_ERR_NOMEM, "out of memory in the sampler");
  for (size_t i = 0; i < n; i++) {
    if (s->cfg.prediction == PRED_EPSILON) x0[i] = (sample[i] - s_s0 * mo[i]) / a_s0;
    else if (s->cfg.prediction == PRED_V) x0[i] = a_s0 * sample[i] - s_s0 * mo[i];
    else x0[i] = mo[i];
  }
  push_hist(s, x0, 2);
  free(x0);
  float a_t, s_t;
  dpm_alpha_sigma(s->sigmas[si + 1], &a_t, &s_t);
  float lambda_t = logf(a_t) - logf(s_t), lambda_s0 = logf(a_s0) - logf(s_s0);
  float h = lambda_t - lambda_s0;
  float k1 = s_t / s_s0, k2 = a_t * (expf(-h) - 1.0f);
  const float *m0 = s->hist[s->nhist - 1];
  if (s->cfg.solver_order == 1 || s->lower_order_nums < 1 || lower_final) {
    for (size_t i = 0; i < n; i++) prev[i] = k1 * sample[i] - k2 * m0[i];
  } else {
    const float *m1 = s->hist[s->nhist - 2];
    float a_s1, s_s1;
    dpm_alpha_sigma(s->sigmas[si - 1], &a_s1, &s_s1);
    float lambda_s1 = logf(a_s1) - logf(s_s1);
    float h0 = lambda_s0 - lambda_s1;
    float r0 = h0 / h;
    float inv_r0 = 1.0f / r0;
    for (size_t i = 0; i < n; i++) {
      float D1 = inv_r0 * (m0[i] - m1[i]);
      prev[i] = k1 * sample[i] - k2 * m0[i] - 0.5f * k2 * D1;
    }
  }
  if (s->lower_order_nums < s->cfg.solver_order) s->lower_order_nums++;
  s->step_index++;
  return A2I2A_OK;
}

a2i2a_status sched_step(sched *s, const float *mo, double t, const float *sample, float *prev, float *x0,
                        sd_noise *noise, size_t n) {
  if (!s->timesteps) return fail(A2I2A_ERR_INTERNAL, "sampler step before set_timesteps");
  a2i2a_status st = ensure_state(s, n);
  if (st) return st;
  switch (s->cfg.kind) {
  case SCHED_PNDM: return step_pndm(s, mo, t, sample, prev, n);
  case SCHED_DDIM: return step_ddim(s, mo, t, sample, prev, x0, n);
  case SCHED_LCM: return step_lcm(s, mo, t, sample, prev, x0, noise, n);
  case SCHED_EULER: return step_euler(s, mo, t, sample, prev, x0, noise, n);
  case SCHED_EULER_A: return step_euler_a(s, mo, t, sample, prev, x0, noise, n);
  case SCHED_LMS: return step_lms(s, mo, t, sample, prev, x0, n);
  case SCHED_DPMPP: return step_dpmpp(s, mo, t, sample, prev, n);
  }
  return fail(A2I2A_ERR_INTERNAL, "unknown sampler");
}
