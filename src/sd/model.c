/* Opening a Stable Diffusion checkpoint in the layouts people have: a diffusers folder, a
 * single file in the original LDM naming, or ORG/NAME in the Hugging Face cache. Weights are
 * .safetensors or PyTorch checkpoints (.bin, .ckpt, .pt, .pth: read by torch_file.c, which runs
 * nothing); a folder with both uses the safetensors. Tensors stay memory-mapped in their
 * stored dtype; nothing is converted here.
 *
 * Family (SD 1.x / 2.x) and prediction type:
 *  - diffusers: the text encoder's hidden_act (OpenCLIP ViT-H, SD 2.x, uses "gelu"; OpenAI CLIP
 *    ViT-L, SD 1.x, "quick_gelu"), falling back to its hidden_size / the UNet's
 *    cross_attention_dim (1024 = SD 2.x); prediction_type from scheduler_config.json
 *    (absent = epsilon, as in diffusers).
 *  - LDM single file: SD 2.x has the OpenCLIP text encoder under cond_stage_model.model.*,
 *    SD 1.x the transformers one under cond_stage_model.transformer.*, else the UNet's context
 *    width (attn2.to_k input, 1024 = SD 2.x). The prediction type is not in the weights: the
 *    default is v-prediction for SD 2.x (the 768-pixel 2.0/2.1 models most people use; the
 *    512-pixel "base" models are epsilon) and epsilon for SD 1.x. */
#include "sd/model.h"
#include "common/err.h"
#include "hub/hub.h"
#include "sd/torch_file.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *part_dir[SD_NPARTS] = {"unet", "vae", "text_encoder"};

static int is_dir(const char *p) {
  struct stat s;
  return stat(p, &s) == 0 && S_ISDIR(s.st_mode);
}
static int is_file(const char *p) {
  struct stat s;
  return stat(p, &s) == 0 && S_ISREG(s.st_mode);
}

static const char *base_name(const char *p) {
  static _Thread_local char buf[256];
  size_t n = strlen(p);
  while (n > 1 && p[n - 1] == '/') n--;
  size_t b = n;
  while (b > 0 && p[b - 1] != '/') b--;
  snprintf(buf, sizeof buf, "%.*s", (int)(n - b), p + b);
  return buf;
}

a2i2a_status sd_read_json(const char *path, cJSON **out) {
  *out = NULL;
  FILE *f = fopen(path, "rb");
  if (!f) return fail(A2I2A_ERR_MODEL, "%s: cannot open", path);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  if (n < 0 || n > (16 << 20)) {
    fclose(f);
    return fail(A2I2A_ERR_FORMAT, "%s: not a config file (size %ld)", path, n);
  }
  char *buf = malloc((size_t)n + 1);
  size_t got = buf ? fread(buf, 1, (size_t)n, f) : 0;
  fclose(f);
  if (!buf || got != (size_t)n) {
    free(buf);
    return fail(A2I2A_ERR_IO, "%s: cannot read", path);
  }
  buf[n] = 0;
  *out = cJSON_Parse(buf);
  free(buf);
  if (!*out || !cJSON_IsObject(*out)) {
    cJSON_Delete(*out);
    *out = NULL;
    return fail(A2I2A_ERR_FORMAT, "%s: not a valid JSON object", path);
  }
  return A2I2A_OK;
}

static const char *json_str(const cJSON *o, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

a2i2a_status sd_config_value(const cJSON *v, const char *where, const char *key, double dflt, double lo, double hi,
                             int whole, double *out) {
  double x = dflt;
  if (cJSON_IsNumber(v)) x = v->valuedouble;
  else if (cJSON_IsBool(v)) x = cJSON_IsTrue(v);
  else if (v && !cJSON_IsNull(v)) return fail(A2I2A_ERR_MODEL, "%s: %s is not a number", where, key);
  if (!(x >= lo && x <= hi) || (whole && x != floor(x)))
    return fail(A2I2A_ERR_MODEL, "%s: %s: %.10g is not a %s in [%.10g, %.10g]", where, key, x,
                whole ? "whole number" : "number", lo, hi);
  *out = x;
  return A2I2A_OK;
}

a2i2a_status sd_config_int(const cJSON *cfg, const char *where, const char *key, int dflt, int lo, int hi, int *out) {
  double x;
  a2i2a_status st = sd_config_value(cJSON_GetObjectItemCaseSensitive(cfg, key), where, key, dflt, lo, hi, 1, &x);
  if (!st) *out = (int)x;
  return st;
}

a2i2a_status sd_config_ints(const cJSON *cfg, const char *where, const char *key, int n, int dflt, int lo, int hi,
                            int *out) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, key);
  double x;
  a2i2a_status st;
  if (!cJSON_IsArray(v)) {
    if ((st = sd_config_value(v, where, key, dflt, lo, hi, 1, &x))) return st;
    for (int i = 0; i < n; i++) out[i] = (int)x;
    return A2I2A_OK;
  }
  if (cJSON_GetArraySize(v) != n)
    return fail(A2I2A_ERR_MODEL, "%s: %s must be a number or a list of %d numbers", where, key, n);
  for (int i = 0; i < n; i++) {
    const cJSON *e = cJSON_GetArrayItem(v, i);
    char name[96];
    snprintf(name, sizeof name, "%s[%d]", key, i);
    if (!cJSON_IsNumber(e)) return fail(A2I2A_ERR_MODEL, "%s: %s is not a number", where, name);
    if ((st = sd_config_value(e, where, name, 0, lo, hi, 1, &x))) return st;
    out[i] = (int)x;
  }
  return A2I2A_OK;
}

/* ------------------------------------------------------------------ diffusers folder */

static a2i2a_status open_diffusers(const char *dir, sd_model *m) {
  char p[4200];
  for (int part = 0; part < SD_NPARTS; part++) {
    snprintf(p, sizeof p, "%s/%s", dir, part_dir[part]);
    if (!is_dir(p))
      return fail(A2I2A_ERR_MODEL, "%s: not a complete diffusers model: the %s/ folder is missing", dir,
                  part_dir[part]);
    /* safetensors first, the fp16 variants after the full ones (diffusers' order) */
    static const char *names[] = {"diffusion_pytorch_model.safetensors", "model.safetensors",
                                  "diffusion_pytorch_model.fp16.safetensors", "model.fp16.safetensors",
                                  "diffusion_pytorch_model.bin", "pytorch_model.bin",
                                  "diffusion_pytorch_model.fp16.bin", "pytorch_model.fp16.bin"};
    int found = 0;
    for (size_t i = 0; i < sizeof names / sizeof *names && !found; i++) {
      snprintf(p, sizeof p, "%s/%s/%s", dir, part_dir[part], names[i]);
      if (is_file(p)) found = 1;
    }
    if (!found)
      return fail(A2I2A_ERR_MODEL,
                  "%s/%s: no weights (diffusion_pytorch_model.safetensors, model.safetensors or their .bin forms)",
                  dir, part_dir[part]);
    a2i2a_status st = weights_open(p, &m->file[part]);
    if (st) return st;
    snprintf(p, sizeof p, "%s/%s/config.json", dir, part_dir[part]);
    if (!is_file(p)) return fail(A2I2A_ERR_MODEL, "%s: missing (every diffusers part has a config.json)", p);
    if ((st = sd_read_json(p, &m->config[part]))) return st;
  }
  snprintf(p, sizeof p, "%s/scheduler/scheduler_config.json", dir);
  if (is_file(p)) {
    a2i2a_status st = sd_read_json(p, &m->scheduler_config);
    if (st) return st;
  }
  snprintf(p, sizeof p, "%s/tokenizer/vocab.json", dir);
  char q[4200];
  snprintf(q, sizeof q, "%s/tokenizer/merges.txt", dir);
  if (is_file(p) && is_file(q)) snprintf(m->tokenizer_dir, sizeof m->tokenizer_dir, "%s/tokenizer", dir);

  const cJSON *te = m->config[SD_TEXT], *un = m->config[SD_UNET];
  const char *act = json_str(te, "hidden_act");
  int hidden, ctx;
  snprintf(p, sizeof p, "%s/text_encoder/config.json", dir);
  snprintf(q, sizeof q, "%s/unet/config.json", dir);
  a2i2a_status st = sd_config_int(te, p, "hidden_size", 0, 0, SD_MAX_WIDTH, &hidden);
  if (!st) st = sd_config_int(un, q, "cross_attention_dim", 0, 0, SD_MAX_WIDTH, &ctx);
  if (st) return st;
  if (hidden == 1024 || ctx == 1024) m->family = 2;
  else if (hidden == 768 || ctx == 768) m->family = 1;
  else m->family = act && strcmp(act, "gelu") == 0 ? 2 : 1;
  const char *pred = json_str(m->scheduler_config, "prediction_type");
  m->v_prediction = pred && strcmp(pred, "v_prediction") == 0;
  return A2I2A_OK;
}

/* ------------------------------------------------------------------ single file */

static int has_prefix_key(const st_file *f, const char *prefix) {
  /* tensors are sorted by name: binary search for the first name >= prefix */
  int lo = 0, hi = f->n;
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    if (strcmp(f->tensors[mid].name, prefix) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo < f->n && strncmp(f->tensors[lo].name, prefix, strlen(prefix)) == 0;
}

/* The scheduler config diffusers ships with SD 1.5 (PNDM) and SD 2.1 (DDIM). */
static cJSON *default_scheduler(int family, int v_prediction) {
  cJSON *c = cJSON_CreateObject();
  cJSON_AddStringToObject(c, "_class_name", family == 2 ? "DDIMScheduler" : "PNDMScheduler");
  cJSON_AddNumberToObject(c, "beta_end", 0.012);
  cJSON_AddStringToObject(c, "beta_schedule", "scaled_linear");
  cJSON_AddNumberToObject(c, "beta_start", 0.00085);
  cJSON_AddFalseToObject(c, "clip_sample");
  cJSON_AddNumberToObject(c, "num_train_timesteps", 1000);
  if (family == 2 || v_prediction)
    cJSON_AddStringToObject(c, "prediction_type", v_prediction ? "v_prediction" : "epsilon");
  cJSON_AddFalseToObject(c, "set_alpha_to_one");
  cJSON_AddTrueToObject(c, "skip_prk_steps");
  cJSON_AddNumberToObject(c, "steps_offset", 1);
  cJSON_AddNullToObject(c, "trained_betas");
  return c;
}

static a2i2a_status open_single(const char *path, sd_model *m) {
  a2i2a_status st = weights_open(path, &m->file[0]);
  if (st) return st;
  const st_file *f = &m->file[0];
  if (has_prefix_key(f, "conditioner.embedders."))
    return fail(A2I2A_ERR_UNSUPPORTED, "%s: an SDXL checkpoint; only SD 1.x and 2.x are supported", path);
  if (!has_prefix_key(f, "model.diffusion_model."))
    return fail(A2I2A_ERR_MODEL,
                "%s: not a Stable Diffusion checkpoint in the LDM naming (no model.diffusion_model.* UNet "
                "weights)",
                path);
  if (!has_prefix_key(f, "first_stage_model."))
    return fail(A2I2A_ERR_MODEL, "%s: the checkpoint has no VAE (first_stage_model.* weights)", path);
  if (has_prefix_key(f, "cond_stage_model.model.")) m->family = 2;
  else if (has_prefix_key(f, "cond_stage_model.transformer.")) m->family = 1;
  else
    return fail(A2I2A_ERR_MODEL,
                "%s: the checkpoint has no text encoder (cond_stage_model.transformer.* or "
                "cond_stage_model.model.* weights)",
                path);
  const st_tensor *k = st_find(f, "model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight");
  if (k && k->ndim == 2 && k->shape[1] == 1024) m->family = 2;
  m->v_prediction = m->family == 2;
  for (int p = 1; p < SD_NPARTS; p++) m->file[p] = m->file[0]; /* aliases: closed once */
  m->scheduler_config = default_scheduler(m->family, m->v_prediction);
  return A2I2A_OK;
}

/* ------------------------------------------------------------------ open / close */

a2i2a_status sd_model_open(const char *path_or_repo, sd_model *m) {
  memset(m, 0, sizeof *m);
  const char *p = path_or_repo;
  a2i2a_status st;
  if (!p || !*p) return fail(A2I2A_ERR_PARAM, "no model given");
  struct stat s;
  if (stat(p, &s) == 0) {
    snprintf(m->path, sizeof m->path, "%s", p);
    snprintf(m->name, sizeof m->name, "%s", base_name(p));
    if (S_ISDIR(s.st_mode)) {
      m->layout = SD_LAYOUT_DIFFUSERS;
      st = open_diffusers(p, m);
    } else {
      m->layout = SD_LAYOUT_LDM;
      st = open_single(p, m);
    }
  } else if (hub_repo_valid(p)) {
    char snap[4096];
    if ((st = hub_snapshot(NULL, p, snap, sizeof snap))) return st;
    snprintf(m->path, sizeof m->path, "%s", snap);
    snprintf(m->name, sizeof m->name, "%s", p);
    m->layout = SD_LAYOUT_DIFFUSERS;
    char idx[4200];
    snprintf(idx, sizeof idx, "%s/model_index.json", snap);
    if (!is_file(idx))
      return fail(A2I2A_ERR_MODEL, "%s: the cached snapshot %s is not a diffusers pipeline (no model_index.json)",
                  p, snap);
    st = open_diffusers(snap, m);
  } else {
    return fail(A2I2A_ERR_IO, "%s: no such file or folder", p);
  }
  if (st) sd_model_close(m);
  return st;
}

void sd_model_close(sd_model *m) {
  int nfiles = m->layout == SD_LAYOUT_LDM ? 1 : SD_NPARTS;
  for (int p = 0; p < nfiles; p++) st_close(&m->file[p]);
  for (int p = 0; p < SD_NPARTS; p++) {
    cJSON_Delete(m->config[p]);
    m->config[p] = NULL;
  }
  cJSON_Delete(m->scheduler_config);
  m->scheduler_config = NULL;
  memset(m->file, 0, sizeof m->file);
}

const st_tensor *sd_tensor(const sd_model *m, sd_part part, const char *name) {
  if (part < 0 || part >= SD_NPARTS) return NULL;
  return st_find(&m->file[m->layout == SD_LAYOUT_LDM ? 0 : part], name);
}

void sd_model_describe(const sd_model *m, char *buf, size_t n) {
  /* the UNet's storage dtype and parameter count */
  size_t params = 0, by[3] = {0, 0, 0};
  const st_file *f = &m->file[m->layout == SD_LAYOUT_LDM ? 0 : SD_UNET];
  for (int i = 0; i < f->n; i++) {
    const st_tensor *t = &f->tensors[i];
    if (m->layout == SD_LAYOUT_LDM && strncmp(t->name, "model.diffusion_model.", 22)) continue;
    params += t->numel;
    if (t->dtype == ST_F32) by[0] += t->numel;
    else if (t->dtype == ST_F16) by[1] += t->numel;
    else if (t->dtype == ST_BF16) by[2] += t->numel;
  }
  const char *dt = by[1] >= by[0] && by[1] >= by[2] ? "F16" : by[2] > by[0] ? "BF16" : "F32";
  char size[32];
  if (params >= 1000000) snprintf(size, sizeof size, "%.0fM", params / 1e6);
  else snprintf(size, sizeof size, "%zu", params);
  snprintf(buf, n, "%s: %s, SD %d.x (%s text encoder), %s prediction%s, UNet %s parameters in %s", m->name,
           m->layout == SD_LAYOUT_LDM ? "single-file checkpoint (LDM naming)" : "diffusers folder", m->family,
           m->family == 2 ? "OpenCLIP" : "CLIP", m->v_prediction ? "v" : "epsilon",
           m->layout == SD_LAYOUT_LDM ? " (default for the family: not stored in the file)" : "", size, dt);
}

void sd_model_release(const sd_model *m, sd_part part) {
  const st_file *f = &m->file[part];
  if (!f->map || !f->map_size) return;
  const uint8_t *lo = (const uint8_t *)f->map, *hi = lo + f->map_size;
  if (m->layout == SD_LAYOUT_LDM) {
    /* one file for all parts: the span of this part's tensors (pages at its edges that it shares
     * with a neighbour are dropped too, harmlessly) */
    static const char *prefix[SD_NPARTS] = {"model.diffusion_model.", "first_stage_model.", "cond_stage_model."};
    size_t np = strlen(prefix[part]);
    const uint8_t *a = NULL, *b = NULL;
    for (int i = 0; i < f->n; i++) {
      const st_tensor *t = &f->tensors[i];
      const uint8_t *p = t->data;
      /* a copy of a strided PyTorch view lies outside the mapping: never dropped */
      if (strncmp(t->name, prefix[part], np) || !t->nbytes || p < lo || p >= hi) continue;
      if (!a || p < a) a = p;
      if (!b || p + t->nbytes > b) b = p + t->nbytes;
    }
    if (!a) return;
    lo = a;
    hi = b;
  }
  sd_release_pages(f->map, f->map_size, lo, (size_t)(hi - lo));
}

void sd_release_pages(const void *map, size_t map_size, const void *p, size_t n) {
  const uint8_t *lo = map, *a = p;
  /* only the read-only mapping: a weight elsewhere (a LoRA's merge, a strided view's copy) is
   * the process's own memory, which MADV_DONTNEED would zero */
  if (!map || !p || !n || a < lo || a >= lo + map_size) return;
  uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
  uintptr_t start = (uintptr_t)a & ~(page - 1), end = ((uintptr_t)a + n + page - 1) & ~(page - 1);
  uintptr_t map_end = ((uintptr_t)lo + map_size + page - 1) & ~(page - 1);
  if (end > map_end) end = map_end;
  if (end > start) madvise((void *)start, end - start, MADV_DONTNEED);
}
