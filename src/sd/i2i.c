/* The public img2img API (include/a2i2a.h, i2i section): parameters, the model's name and
 * fingerprint, a run on an RGB buffer, and a run from a file to a PNG that records every setting
 * (Automatic1111's "parameters" text and our JSON). */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "a2i2a.h"
#include "chain/params.h"
#include "common/err.h"
#include "common/outfile.h"
#include "common/job.h"
#include "common/memory.h"
#include "common/sha256.h"
#include "hub/hub.h"
#include "image/image.h"
#include "sd/pipeline.h"
#include "sd/sd_image.h"

/* The notebook's prompts (demo_presentation.ipynb; fixtures tokenizer/prompts.json seed_*). */
#define NOTEBOOK_PROMPT                                                                                        \
  "caffeinated thoughts of a tired college student pulling their 2nd all nighter flying saucers and jellyfish " \
  "living forever spicy pumpkin coffee abstract image no concrete objects"
#define NOTEBOOK_NEGATIVE "no letters, no people, no recognizable objects"

a2i2a_i2i_params a2i2a_i2i_default_params(void) {
  a2i2a_i2i_params p = {
      .prompt = NOTEBOOK_PROMPT,
      .negative_prompt = NOTEBOOK_NEGATIVE,
      .strength = 0.9,
      .guidance = 2.5,
      .steps = 50,
      .sampler = "pndm",
      .spacing = NULL,
      .seed = 0,
      .clip_skip = 0,
      .width = 0,
      .height = 0,
  };
  return p;
}

a2i2a_status a2i2a_model_open(const char *path_or_repo, a2i2a_model **model) {
  if (!path_or_repo || !*path_or_repo)
    return fail(A2I2A_ERR_PARAM,
                "no model given: pass --model M or set A2I2A_MODEL ('a2i2a models list' shows them, "
                "'a2i2a models pull ORG/NAME' gets one)");
  return sd_pipeline_open(path_or_repo, model);
}

void a2i2a_model_close(a2i2a_model *model) {
  sd_pipeline_close(model);
  a2i2a_release_scratch();
}

const char *a2i2a_model_name(const a2i2a_model *model) { return model->m.name; }

a2i2a_status a2i2a_model_set_loras(a2i2a_model *model, const a2i2a_lora *loras, int n, a2i2a_job *job) {
  job_begin(job);
  if (!model) return job_end(job, fail(A2I2A_ERR_PARAM, "a2i2a_model_set_loras: no model"));
  return job_end(job, sd_lora_apply(model, loras, n, job));
}

/* ------------------------------------------------------------------------ SHA-256 cache */

static void cache_path(char *buf, size_t n) {
  const char *x = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
  if (x && *x) snprintf(buf, n, "%s/a2i2a", x);
  else snprintf(buf, n, "%s/.cache/a2i2a", home && *home ? home : ".");
}

static void mkdir_p(const char *dir) {
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s", dir);
  for (char *p = tmp + 1; *p; p++)
    if (*p == '/') {
      *p = 0;
      mkdir(tmp, 0755);
      *p = '/';
    }
  mkdir(tmp, 0755);
}

a2i2a_status a2i2a_model_sha256(a2i2a_model *model, char hex[65]) {
  if (model->sha256[0]) {
    memcpy(hex, model->sha256, 65);
    return A2I2A_OK;
  }
  const char *file = model->m.layout == SD_LAYOUT_LDM ? model->m.path : model->m.file[SD_UNET].path;
  char real[PATH_MAX];
  if (!realpath(file, real)) snprintf(real, sizeof real, "%s", file);
  struct stat sb;
  if (stat(real, &sb) != 0) return fail(A2I2A_ERR_IO, "%s: cannot stat (%s)", real, strerror(errno));
  long long size = (long long)sb.st_size, mtime = (long long)sb.st_mtim.tv_sec * 1000000000LL + sb.st_mtim.tv_nsec;
  char dir[4096], path[4200], line[PATH_MAX + 200];
  cache_path(dir, sizeof dir);
  snprintf(path, sizeof path, "%s/sha256.tsv", dir);
  FILE *f = fopen(path, "r");
  if (f) {
    while (fgets(line, sizeof line, f)) {
      long long s, t;
      char h[65];
      int off = 0;
      if (sscanf(line, "%lld\t%lld\t%64[0-9a-f]\t%n", &s, &t, h, &off) == 3 && off > 0 && s == size && t == mtime) {
        char *p = line + off;
        p[strcspn(p, "\n")] = 0;
        if (!strcmp(p, real) && strlen(h) == 64) {
          memcpy(hex, h, 65);
          memcpy(model->sha256, h, 65);
          fclose(f);
          return A2I2A_OK;
        }
      }
    }
    fclose(f);
  }
  a2i2a_status st = sha256_file(real, hex);
  if (st) return st;
  memcpy(model->sha256, hex, 65);
  /* best effort: a cache that cannot be written only costs time */
  mkdir_p(dir);
  if ((f = fopen(path, "a"))) {
    fprintf(f, "%lld\t%lld\t%s\t%s\n", size, mtime, hex, real);
    fclose(f);
  }
  return A2I2A_OK;
}

/* ------------------------------------------------------------------------ a run */

/* The working size: the requested one, or the picture's, each side rounded down to a
 * multiple of 8; with only one side given, the other keeps the aspect ratio. */
static a2i2a_status working_size(int w, int h, const a2i2a_i2i_params *p, int *W, int *H) {
  int tw = p->width, th = p->height; /* in range: check_params */
  if (tw && !th) th = (int)lround((double)h * tw / w);
  if (th && !tw) tw = (int)lround((double)w * th / h);
  if (!tw) tw = w, th = h;
  if (tw > I2I_MAX_SIDE || th > I2I_MAX_SIDE)
    return fail(A2I2A_ERR_LIMIT, "working size %dx%d: each side must be at most %d pixels (use --width/--height)",
                tw, th, I2I_MAX_SIDE);
  return sd_image_size(tw, th, W, H);
}

/* The working size, and whether the run fits in the memory available (before any work). */
static a2i2a_status preflight(const a2i2a_model *m, int w, int h, const a2i2a_i2i_params *p, int *W, int *H) {
  a2i2a_status st = working_size(w, h, p, W, H);
  if (st) return st;
  double need = sd_i2i_memory_estimate(m, *H, *W, p->low_memory), have = memory_available();
  if (have > 0 && need > have)
    return fail(A2I2A_ERR_NOMEM,
                "a %dx%d picture needs about %.0f MB of memory and %.0f MB are available: make it smaller "
                "(--width/--height)",
                *W, *H, need / 1048576.0, have / 1048576.0);
  return A2I2A_OK;
}

static a2i2a_status check_params(const a2i2a_i2i_params *p, const a2i2a_model *m, sd_i2i_config *c) {
  a2i2a_status st = params_check_i2i(p); /* the ranges of the parameters' table */
  if (st) return st;
  c->steps = p->steps;
  /* travel: (1 - alpha)·a + alpha·b, exact at both ends */
  c->strength = p->alpha > 0 && p->to_strength ? (1 - p->alpha) * p->strength + p->alpha * p->to_strength : p->strength;
  c->guidance = p->alpha > 0 && p->to_guidance ? (1 - p->alpha) * p->guidance + p->alpha * p->to_guidance : p->guidance;
  c->low_memory = p->low_memory;
  if ((st = sd_tile_axes(p->tile, &c->wrap))) return st;
  st = sched_config_for_sampler(m->m.scheduler_config, p->sampler ? p->sampler : "pndm", p->spacing, &c->sched);
  if (!st) st = sched_override_prediction(&c->sched, p->prediction);
  if (st) return st;
  /* diffusers would set up the scheduler only now; its refusals (LCM beyond its original
   * steps) come before any work */
  sched *s;
  if ((st = sched_new(&c->sched, &s))) return st;
  st = sched_set_timesteps(s, c->steps);
  sched_free(s);
  if (st) return st;
  if (sd_i2i_iterations(c) < 1)
    return fail(A2I2A_ERR_PARAM,
                "steps x strength = %d x %g < 1: no denoising step would run (raise --steps or --strength)",
                p->steps, c->strength);
  return A2I2A_OK;
}

/* The run's TAESD into c->taesd (NULL without one): opening it is what checks it. */
static a2i2a_status open_taesd(a2i2a_model *m, const a2i2a_i2i_params *p, sd_i2i_config *c) {
  c->taesd = NULL;
  return p->taesd ? sd_pipeline_taesd(m, p->taesd, &c->taesd) : A2I2A_OK;
}

/* The TAESD that decodes the previews (NULL: the projection), as the job's preview_mode says:
 * one the job names must open; madebyollin/taesd found in the cache only may not. */
static a2i2a_status preview_taesd(a2i2a_model *m, const sd_i2i_config *c, a2i2a_job *job, taesd **out) {
  *out = NULL;
  if (!job_wants_preview(job) || job->cb.preview_vae_every > 0) return A2I2A_OK;
  if (job->cb.preview_taesd) return sd_pipeline_taesd(m, job->cb.preview_taesd, out);
  if (job->cb.preview_mode == A2I2A_PREVIEW_LINEAR) return A2I2A_OK;
  if (c->taesd || job->cb.preview_mode != A2I2A_PREVIEW_AUTO) {
    *out = c->taesd;
    return A2I2A_OK;
  }
  static const char *const cached = "madebyollin/taesd"; /* SD 1.x and 2.x latents, the families we paint */
  char snap[4096];
  if (hub_snapshot(NULL, cached, snap, sizeof snap)) return A2I2A_OK;
  if (sd_pipeline_taesd(m, snap, out))
    job_log(job, A2I2A_LOG_WARNING, "previews: %s; they are the latent projection instead", a2i2a_last_error());
  return A2I2A_OK;
}

a2i2a_status sd_preview_check(struct a2i2a_model *m, const a2i2a_job *job) {
  taesd *t;
  return job_wants_preview(job) && job->cb.preview_taesd ? sd_pipeline_taesd(m, job->cb.preview_taesd, &t) : A2I2A_OK;
}

a2i2a_status sd_i2i_check(const a2i2a_model *m, const a2i2a_i2i_params *p, int w, int h, int *W, int *H) {
  sd_i2i_config c;
  a2i2a_status st = check_params(p, m, &c);
  /* the model keeps the TAESD it opens: a cache, not a change of the model */
  if (!st) st = open_taesd((a2i2a_model *)m, p, &c);
  return st ? st : working_size(w, h, p, W, H);
}

/* The lerp (1 - alpha)·from + alpha·(the embedding of text) into out (n floats), exact at both
 * ends. */
static a2i2a_status travel_embedding(a2i2a_model *m, const float *from, const char *text, const a2i2a_i2i_params *p,
                                     const char *what, float *out, size_t n, a2i2a_job *job) {
  const float *to;
  char label[64];
  snprintf(label, sizeof label, "the other %s", what);
  a2i2a_status st = sd_prompt_embedding(m, text, p->clip_skip, label, job, &to);
  if (st) return st;
  double a = p->alpha;
  for (size_t i = 0; i < n; i++) out[i] = a == 1 ? to[i] : (float)((1 - a) * from[i] + a * to[i]);
  return A2I2A_OK;
}

static a2i2a_status i2i(a2i2a_model *m, const uint8_t *rgb, int w, int h, const a2i2a_i2i_params *p, uint8_t **out,
                       int *out_w, int *out_h, a2i2a_job *job) {
  *out = NULL;
  sd_i2i_config c;
  a2i2a_status st = check_params(p, m, &c);
  if (!st) st = open_taesd(m, p, &c);
  if (st) return st;
  if (w < 1 || h < 1 || !rgb) return fail(A2I2A_ERR_PARAM, "empty picture (%dx%d)", w, h);
  sd_i2i_io io = {.job = job};
  if ((st = preview_taesd(m, &c, job, &io.preview_taesd))) return st;
  int W, H;
  if ((st = preflight(m, w, h, p, &W, &H))) return st;

  /* the picture at the working size, then diffusers' own preprocessing */
  image_u8 in = {w, h, 3, (uint8_t *)rgb}, rs = {0};
  const image_u8 *src = &in;
  if (W != w - w % 8 || H != h - h % 8) {
    if ((st = image_resize_lanczos(&in, W, H, &rs))) return st;
    src = &rs;
  }
  float *chw = NULL, *hwc = NULL, *travel_emb = NULL;
  const float *cond = NULL, *uncond = NULL;
  int PH, PW;
  st = sd_image_preprocess(src, &chw, &PH, &PW);
  image_free(&rs);
  if (st) return st;
  hwc = xmalloc((size_t)PH * PW * 3 * sizeof(float), "output picture");
  if (!hwc) {
    st = A2I2A_ERR_NOMEM;
    goto out;
  }
  if ((st = job_check(job))) goto out;
  job_stage(job, "prompt", NULL, 0);
  if ((st = sd_prompt_embedding(m, p->prompt, p->clip_skip, "prompt", job, &cond))) goto out;
  if (c.guidance > 1.0 && (st = sd_prompt_embedding(m, p->negative_prompt, p->clip_skip, "negative prompt", job, &uncond)))
    goto out;
  if (p->alpha > 0) { /* travel: the embeddings toward the other endpoint's */
    size_t ne = (size_t)CLIP_CTX * sd_context_dim(m);
    travel_emb = xmalloc(2 * ne * sizeof(float), "travelled embeddings");
    if (!travel_emb) {
      st = A2I2A_ERR_NOMEM;
      goto out;
    }
    if ((st = travel_embedding(m, cond, p->to_prompt ? p->to_prompt : p->prompt, p, "prompt", travel_emb, ne, job)))
      goto out;
    cond = travel_emb;
    if (uncond) {
      const char *to = p->to_negative_prompt ? p->to_negative_prompt : p->negative_prompt;
      if ((st = travel_embedding(m, uncond, to, p, "negative prompt", travel_emb + ne, ne, job))) goto out;
      uncond = travel_emb + ne;
    }
  }

  torch_rng g;
  rng_seed(&g, p->seed);
  torch_rng g_to;
  rng_seed(&g_to, p->to_seed);
  sd_noise noise = {.rng = &g, .to_rng = p->alpha > 0 ? &g_to : NULL, .alpha = p->alpha};
  st = sd_img2img(m, chw, PH, PW, cond, uncond, &c, &noise, &io, hwc);
  if (st) goto out;
  image_u8 res;
  if ((st = sd_image_to_u8(hwc, PH, PW, &res))) goto out;
  *out = res.px;
  *out_w = PW;
  *out_h = PH;
out:
  free(chw), free(hwc), free(travel_emb);
  return st;
}

a2i2a_status a2i2a_i2i(a2i2a_model *m, const uint8_t *rgb, int w, int h, const a2i2a_i2i_params *p, uint8_t **out,
                       int *out_w, int *out_h, a2i2a_job *job) {
  job_begin(job);
  double t0 = now_seconds();
  a2i2a_status st = i2i(m, rgb, w, h, p, out, out_w, out_h, job);
  job_time(job, i2i, t0);
  return job_end(job, st);
}

/* ------------------------------------------------------------------------ the PNG's record */

/* A1111 quotes a value holding a comma, colon or newline as a JSON string. */
static void put_value(char *buf, size_t n, size_t *len, const char *key, const char *v) {
  if (*len >= n) return;
  if (strpbrk(v, ",:\n\"")) {
    cJSON *s = cJSON_CreateString(v);
    char *q = cJSON_PrintUnformatted(s);
    *len += (size_t)snprintf(buf + *len, n - *len, ", %s: %s", key, q ? q : "\"\"");
    free(q);
    cJSON_Delete(s);
  } else {
    *len += (size_t)snprintf(buf + *len, n - *len, ", %s: %s", key, v);
  }
}

/* A TAESD's name in the records: ORG/NAME as given, else its folder's or file's name (no path:
 * the same settings give the same bytes wherever the files are). */
static const char *taesd_label(const char *path, char *buf, size_t n) {
  size_t len = strlen(path);
  while (len > 1 && path[len - 1] == '/') len--;
  size_t b = len;
  while (b > 0 && path[b - 1] != '/') b--;
  struct stat sb;
  if (stat(path, &sb) != 0) b = 0; /* ORG/NAME */
  snprintf(buf, n, "%.*s", (int)(len - b), path + b);
  return buf;
}

static char *infotext(const a2i2a_i2i_params *p, const char *sampler, const char *spacing, int W, int H,
                      const char *model, const char *sha, const sd_lora_set *loras,
                      const char *taesd_sha) {
  /* A1111 keeps the LoRA tags in the prompt and their hashes in "Lora hashes" */
  size_t extra = (size_t)loras->n * 600 + 1, n;
  char *tags = malloc(extra), *hashes = malloc(extra), *b = NULL, num[64];
  if (!tags || !hashes) goto out;
  sd_lora_prompt_suffix(loras, tags, extra);
  sd_lora_a1111_hashes(loras, hashes, extra);
  n = strlen(p->prompt ? p->prompt : "") + strlen(p->negative_prompt ? p->negative_prompt : "") + 2 * extra + 2048;
  if (!(b = malloc(n))) goto out;
  const char *prompt = p->prompt ? p->prompt : "";
  size_t len = (size_t)snprintf(b, n, "%s%s\nNegative prompt: %s\nSteps: %d", prompt, *prompt ? tags : tags + !!*tags,
                                p->negative_prompt ? p->negative_prompt : "", p->steps);
  put_value(b, n, &len, "Sampler", sched_a1111_sampler(sampler));
  snprintf(num, sizeof num, "%g", p->guidance);
  put_value(b, n, &len, "CFG scale", num);
  snprintf(num, sizeof num, "%llu", (unsigned long long)p->seed);
  put_value(b, n, &len, "Seed", num);
  snprintf(num, sizeof num, "%dx%d", W, H);
  put_value(b, n, &len, "Size", num);
  snprintf(num, sizeof num, "%.10s", sha);
  put_value(b, n, &len, "Model hash", num);
  put_value(b, n, &len, "Model", model);
  if (p->taesd) { /* as A1111 names the VAE it decoded with */
    char label[256];
    snprintf(num, sizeof num, "%.10s", taesd_sha);
    put_value(b, n, &len, "VAE hash", num);
    put_value(b, n, &len, "VAE", taesd_label(p->taesd, label, sizeof label));
  }
  snprintf(num, sizeof num, "%g", p->strength);
  put_value(b, n, &len, "Denoising strength", num);
  if (p->clip_skip > 1) {
    snprintf(num, sizeof num, "%d", p->clip_skip);
    put_value(b, n, &len, "Clip skip", num);
  }
  if (p->tile) put_value(b, n, &len, "Tiling", p->tile); /* A1111 says True: it tiles both ways */
  if (*hashes) put_value(b, n, &len, "Lora hashes", hashes);
  put_value(b, n, &len, "Timestep spacing", spacing);
  put_value(b, n, &len, "Model SHA256", sha);
  put_value(b, n, &len, "RNG", "torch CPU");
  snprintf(num, sizeof num, "a2i2a %s", a2i2a_version());
  put_value(b, n, &len, "Version", num);
out:
  free(tags), free(hashes);
  return b;
}

cJSON *sd_i2i_settings_json(struct a2i2a_model *m, const a2i2a_i2i_params *p, const char *spacing,
                            const char *input, int W, int H, const char *sha) {
  cJSON *j = cJSON_CreateObject();
  char seed[32];
  cJSON_AddStringToObject(j, "stage", "i2i");
  cJSON_AddStringToObject(j, "version", a2i2a_version());
  if (input) cJSON_AddStringToObject(j, "input", input);
  cJSON_AddStringToObject(j, "prompt", p->prompt ? p->prompt : "");
  cJSON_AddStringToObject(j, "negative_prompt", p->negative_prompt ? p->negative_prompt : "");
  snprintf(seed, sizeof seed, "%llu", (unsigned long long)p->seed); /* exact beyond 2^53 */
  cJSON_AddRawToObject(j, "seed", seed);
  cJSON_AddNumberToObject(j, "steps", p->steps);
  cJSON_AddNumberToObject(j, "strength", p->strength);
  cJSON_AddNumberToObject(j, "guidance", p->guidance);
  cJSON_AddStringToObject(j, "sampler", p->sampler ? p->sampler : "pndm");
  cJSON_AddStringToObject(j, "spacing", spacing);
  cJSON_AddNumberToObject(j, "clip_skip", p->clip_skip);
  cJSON_AddStringToObject(j, "prediction", p->prediction ? p->prediction : m->m.v_prediction ? "v" : "epsilon");
  cJSON_AddNumberToObject(j, "width", W);
  cJSON_AddNumberToObject(j, "height", H);
  if (p->tile) cJSON_AddStringToObject(j, "tile", p->tile); /* absent: untiled paintings keep their bytes */
  if (p->alpha > 0) { /* travel, likewise */
    cJSON *t = cJSON_AddObjectToObject(j, "travel");
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)p->to_seed);
    cJSON_AddNumberToObject(t, "alpha", p->alpha);
    cJSON_AddRawToObject(t, "to_seed", seed);
    cJSON_AddStringToObject(t, "to_prompt", p->to_prompt ? p->to_prompt : p->prompt ? p->prompt : "");
    cJSON_AddStringToObject(t, "to_negative_prompt", p->to_negative_prompt ? p->to_negative_prompt
                                                     : p->negative_prompt ? p->negative_prompt : "");
    cJSON_AddNumberToObject(t, "to_strength", p->to_strength ? p->to_strength : p->strength);
    cJSON_AddNumberToObject(t, "to_guidance", p->to_guidance ? p->to_guidance : p->guidance);
  }
  cJSON_AddStringToObject(j, "rng", "torch");
  cJSON_AddStringToObject(j, "model", a2i2a_model_name(m));
  cJSON_AddStringToObject(j, "model_sha256", sha);
  if (m->loras.n) { /* only then: paintings without LoRAs keep their bytes */
    cJSON *a = cJSON_AddArrayToObject(j, "loras");
    for (int i = 0; i < m->loras.n; i++) {
      cJSON *l = cJSON_CreateObject();
      cJSON_AddStringToObject(l, "name", m->loras.info[i].name);
      cJSON_AddStringToObject(l, "sha256", m->loras.info[i].sha256);
      cJSON_AddNumberToObject(l, "scale", m->loras.info[i].scale);
      cJSON_AddItemToArray(a, l);
    }
  }
  /* tiles change a large painting: say so (absent in the default mode, whose bytes stay) */
  if (p->low_memory) cJSON_AddTrueToObject(j, "low_memory");
  return j;
}

static a2i2a_status i2i_file(a2i2a_model *m, const char *image_path, const char *png_path,
                             const a2i2a_i2i_params *p, int force, a2i2a_job *job) {
  a2i2a_status st = png_name_check(png_path);
  if (!st) st = outfile_check(png_path, force);
  if (st) return st;
  sd_i2i_config c;
  if ((st = check_params(p, m, &c))) return st;
  image_u8 in = {0};
  /* the painting keeps what the picture said about itself (a spectrogram's "a2i2a" chunk,
   * Riffusion's eXIf: what the readings need) and gets its own settings beside it */
  png_meta meta;
  png_meta_init(&meta);
  if ((st = image_read(image_path, &in, &meta))) return png_meta_free(&meta), st;
  uint8_t *px = NULL;
  int W = 0, H = 0;
  char sha[65], taesd_sha[65] = "";
  /* refusals first, then the (cached) hash of a possibly multi-GB file, then the work */
  double t0 = now_seconds();
  if (!(st = preflight(m, in.w, in.h, p, &W, &H)) && !(p->taesd && (st = sd_taesd_sha256(m, p->taesd, taesd_sha)))) {
    job_stage(job, "fingerprint", a2i2a_model_name(m), 0);
    st = a2i2a_model_sha256(m, sha);
    job_time(job, hash, t0);
  }
  if (st) {
    image_free(&in);
    png_meta_free(&meta);
    return st;
  }
  t0 = now_seconds();
  st = i2i(m, in.px, in.w, in.h, p, &px, &W, &H, job);
  job_time(job, i2i, t0);
  if (st) {
    if (st != A2I2A_ERR_PARAM && st != A2I2A_ERR_NOMEM && st != A2I2A_ERR_LIMIT && st != A2I2A_ERR_CANCELLED)
      fail_prefix(image_path);
    image_free(&in);
    png_meta_free(&meta);
    return st;
  }
  const char *sampler = p->sampler ? p->sampler : "pndm";
  const char *spacing = sched_spacing_name(c.sched.spacing);
  char *info = infotext(p, sampler, spacing, W, H, a2i2a_model_name(m), sha, &m->loras, taesd_sha);
  /* no paths: the same painting from the same picture and settings gives the same bytes,
   * whether made by `i2i` or inside `run` */
  cJSON *j = sd_i2i_settings_json(m, p, spacing, NULL, W, H, sha);
  if (p->taesd) {
    char label[256];
    cJSON_AddStringToObject(j, "taesd", taesd_label(p->taesd, label, sizeof label));
    cJSON_AddStringToObject(j, "taesd_sha256", taesd_sha);
  }
  char *js = cJSON_PrintUnformatted(j);
  cJSON_Delete(j);
  image_u8 outimg = {W, H, 3, px};
  if (!info || !js) st = fail(A2I2A_ERR_NOMEM, "out of memory writing %s", png_path);
  else if (!(st = png_meta_set(&meta, SD_I2I_JSON_KEY, js)) && !(st = png_meta_set(&meta, "parameters", info)) &&
           !(st = job_check(job)))
    st = png_write(png_path, &outimg, &meta, force);
  free(info);
  free(js);
  png_meta_free(&meta);
  free(px);
  image_free(&in);
  return st;
}

a2i2a_status a2i2a_i2i_file(a2i2a_model *m, const char *image_path, const char *png_path,
                            const a2i2a_i2i_params *p, int force, a2i2a_job *job) {
  job_begin(job);
  return job_end(job, i2i_file(m, image_path, png_path, p, force, job));
}
