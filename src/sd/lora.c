/* Merging LoRA files into an open model (lora.h). Each layer of the model a LoRA may patch is
 * keyed by its kohya-ss name: "lora_unet_" or "lora_te_" and the diffusers / transformers module
 * path with every '.' made '_' (module names hold '_' themselves, so names are built from the
 * model's layers and looked up, never split). PEFT names are turned into that key. */
#include "sd/lora.h"

#include <cblas.h>
#include <errno.h>
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "common/err.h"
#include "common/job.h"
#include "common/sha256.h"
#include "sd/kernels.h"
#include "sd/pipeline.h"

/* ------------------------------------------------------------------------ the model's layers */

/* A weight a LoRA layer may patch: rows [row0, row0 + rows) of tensor t, each cols wide (an
 * OpenCLIP in_proj_weight holds q, k and v one above the other). */
typedef struct {
  char key[512];
  char label[512]; /* the model's tensor name, for messages */
  st_tensor *t;
  int64_t row0, rows, cols;
} target;

typedef struct {
  target *v;
  int n, cap;
} targets;

static int add_target(targets *ts, const char *key, const char *label, const st_tensor *t, int64_t row0, int64_t rows) {
  if (!t || t->ndim < 2 || !rows || t->numel % (size_t)t->shape[0] ||
      (t->dtype != ST_F32 && t->dtype != ST_F16 && t->dtype != ST_BF16))
    return 0;
  if (ts->n == ts->cap) {
    int cap = ts->cap ? 2 * ts->cap : 512;
    target *v = realloc(ts->v, (size_t)cap * sizeof *v);
    if (!v) return -1;
    ts->v = v, ts->cap = cap;
  }
  target *g = &ts->v[ts->n++];
  snprintf(g->key, sizeof g->key, "%s", key);
  snprintf(g->label, sizeof g->label, "%s", label);
  g->t = (st_tensor *)t; /* the model's own tensor table: the merge repoints its data */
  g->row0 = row0;
  g->rows = rows;
  g->cols = (int64_t)(t->numel / (size_t)t->shape[0]);
  return 0;
}

/* "lora_unet_" + module with '.' → '_' */
static void kohya_key(char *buf, size_t n, const char *prefix, const char *module) {
  int k = snprintf(buf, n, "%s", prefix);
  for (const char *p = module; *p && (size_t)k + 1 < n; p++) buf[k++] = *p == '.' ? '_' : *p;
  buf[k] = 0;
}

typedef struct {
  char **names;
  int n, cap;
} name_list;

static void collect_name(const char *name, size_t numel, void *arg) {
  (void)numel;
  name_list *l = arg;
  if (l->n == l->cap) {
    int cap = l->cap ? 2 * l->cap : 1024;
    char **v = realloc(l->names, (size_t)cap * sizeof *v);
    if (!v) return;
    l->names = v, l->cap = cap;
  }
  l->names[l->n] = strdup(name);
  if (l->names[l->n]) l->n++;
}

static void free_names(name_list *l) {
  for (int i = 0; i < l->n; i++) free(l->names[i]);
  free(l->names);
}

/* The UNet's weights: its tensor list in the diffusers naming paired with the list in the
 * model's own naming (the same order). */
static a2i2a_status unet_targets(const sd_model *m, targets *ts) {
  name_list dif = {0}, own = {0};
  a2i2a_status st = unet_list_tensor_names(m, 0, collect_name, &dif);
  if (!st) st = unet_list_tensor_names(m, m->layout == SD_LAYOUT_LDM, collect_name, &own);
  if (!st && dif.n != own.n) st = fail(A2I2A_ERR_NOMEM, "out of memory listing the UNet's weights");
  char module[512], key[512];
  for (int i = 0; i < dif.n && !st; i++) {
    size_t len = strlen(dif.names[i]);
    if (len < 8 || strcmp(dif.names[i] + len - 7, ".weight")) continue;
    snprintf(module, sizeof module, "%.*s", (int)(len - 7), dif.names[i]);
    kohya_key(key, sizeof key, "lora_unet_", module);
    const st_tensor *t = sd_tensor(m, SD_UNET, own.names[i]);
    if (t && add_target(ts, key, own.names[i], t, 0, t->shape[0]))
      st = fail(A2I2A_ERR_NOMEM, "out of memory listing the UNet's weights");
  }
  free_names(&dif);
  free_names(&own);
  return st;
}

/* The text encoder's attention and MLP weights in transformers' naming, wherever the model keeps
 * them: transformers' tensors under one of clip.c's prefixes, or OpenCLIP's resblocks (SD 2.x
 * single files), whose in_proj_weight stacks q, k and v. */
static a2i2a_status text_targets(const sd_model *m, targets *ts) {
  static const char *prefixes[] = {"text_model.", "", "cond_stage_model.transformer.text_model.",
                                   "cond_stage_model.transformer."};
  static const char *modules[] = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.out_proj",
                                  "mlp.fc1", "mlp.fc2"};
  char name[512], key[512], module[256];
  const char *prefix = NULL;
  for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes && !prefix; i++) {
    snprintf(name, sizeof name, "%sencoder.layers.0.self_attn.q_proj.weight", prefixes[i]);
    if (sd_tensor(m, SD_TEXT, name)) prefix = prefixes[i];
  }
  for (int layer = 0;; layer++) {
    int found = 0;
    for (int k = 0; k < 6; k++) {
      snprintf(module, sizeof module, "text_model.encoder.layers.%d.%s", layer, modules[k]);
      kohya_key(key, sizeof key, "lora_te_", module);
      const st_tensor *t = NULL;
      int64_t row0 = 0, rows = 0;
      if (prefix) {
        snprintf(name, sizeof name, "%sencoder.layers.%d.%s.weight", prefix, layer, modules[k]);
        t = sd_tensor(m, SD_TEXT, name);
        rows = t ? t->shape[0] : 0;
      } else {
        static const char *openclip[] = {"attn.in_proj_weight", "attn.in_proj_weight", "attn.in_proj_weight",
                                         "attn.out_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight"};
        snprintf(name, sizeof name, "cond_stage_model.model.transformer.resblocks.%d.%s", layer, openclip[k]);
        t = sd_tensor(m, SD_TEXT, name);
        rows = t ? t->shape[0] : 0;
        if (t && k < 3) rows /= 3, row0 = k * rows;
      }
      if (!t) continue;
      found = 1;
      if (add_target(ts, key, name, t, row0, rows)) return fail(A2I2A_ERR_NOMEM, "out of memory listing the text encoder");
    }
    if (!found) return A2I2A_OK;
  }
}

static int cmp_target(const void *a, const void *b) { return strcmp(((const target *)a)->key, ((const target *)b)->key); }

static const target *find_target(const targets *ts, const char *key) {
  target k;
  snprintf(k.key, sizeof k.key, "%s", key);
  return bsearch(&k, ts->v, (size_t)ts->n, sizeof *ts->v, cmp_target);
}

/* ------------------------------------------------------------------------ a LoRA file */

/* One layer of a LoRA file, matched to a model weight. */
typedef struct {
  const target *tg;
  const st_tensor *up, *down;
  int64_t rank;
  float factor; /* scale · alpha / rank */
  int order;    /* position in the list of all patches: keeps the LoRAs' order per weight */
} patch;

typedef struct {
  patch *v;
  int n, cap;
} patches;

static const char *shape_text(const st_tensor *t, int from, char *buf, size_t n) {
  size_t k = 0;
  buf[0] = 0;
  for (int d = from; d < t->ndim && k < n; d++)
    k += (size_t)snprintf(buf + k, n - k, "%s%lld", d > from ? "x" : "", (long long)t->shape[d]);
  return buf;
}

static int ends_with(const char *s, const char *suffix) {
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && !strcmp(s + a - b, suffix);
}

static int is_float(const st_tensor *t) { return t->dtype == ST_F32 || t->dtype == ST_F16 || t->dtype == ST_BF16; }

/* The LoRA layer's key from its base name (the tensor name before .lora_down.weight or
 * .lora_A.weight). */
static void layer_key(const char *base, int peft, char *key, size_t n) {
  if (!peft) {
    snprintf(key, n, "%s", base);
    return;
  }
  if (!strncmp(base, "base_model.model.", 17)) base += 17;
  if (!strncmp(base, "unet.", 5)) kohya_key(key, n, "lora_unet_", base + 5);
  else if (!strncmp(base, "text_encoder.", 13)) kohya_key(key, n, "lora_te_", base + 13);
  else kohya_key(key, n, "", base);
}

/* Whether tensor name tn is a layer's down half (*peft: in the diffusers/PEFT naming). */
static int is_down_tensor(const char *tn, int *peft) {
  *peft = ends_with(tn, ".lora_A.weight");
  return *peft || ends_with(tn, ".lora_down.weight");
}

int sd_lora_file_is_lora(const st_file *f) {
  int peft;
  for (int i = 0; i < f->n; i++)
    if (is_down_tensor(f->tensors[i].name, &peft)) return 1;
  return 0;
}

/* Matches every layer of file f (label names it) to the model's weights and checks its shapes;
 * adds the patches. No layer matching is an error, some: one warning. */
static a2i2a_status match_file(const st_file *f, const char *label, double scale, const targets *ts, patches *ps,
                               int *merged, a2i2a_job *job) {
  int layers = 0, matched = 0, unmatched = 0;
  char first[3][512] = {{0}}, base[512], name[600], key[512], s1[64], s2[64];
  for (int i = 0; i < f->n; i++) {
    const char *tn = f->tensors[i].name;
    int peft;
    if (!is_down_tensor(tn, &peft)) continue;
    layers++;
    snprintf(base, sizeof base, "%.*s", (int)(strlen(tn) - strlen(peft ? ".lora_A.weight" : ".lora_down.weight")), tn);
    const st_tensor *down = &f->tensors[i];
    snprintf(name, sizeof name, "%s.%s", base, peft ? "lora_B.weight" : "lora_up.weight");
    const st_tensor *up = st_find(f, name);
    if (!up) return fail(A2I2A_ERR_FORMAT, "%s: layer %s has %s but no %s", label, base, tn, name);
    snprintf(name, sizeof name, "%s.alpha", base);
    const st_tensor *alpha = st_find(f, name);
    if (!is_float(up) || !is_float(down) || (alpha && (!is_float(alpha) || alpha->numel != 1)))
      return fail(A2I2A_ERR_FORMAT, "%s: layer %s: the LoRA's tensors must be F16, BF16 or F32 (alpha one value)", label,
                  base);
    int64_t rank = down->shape[0];
    if (up->ndim < 2 || down->ndim < 2 || rank < 1 || up->shape[1] != rank || up->numel != (size_t)up->shape[0] * rank)
      return fail(A2I2A_ERR_FORMAT, "%s: layer %s: up %s and down %s do not make a low-rank pair", label, base,
                  shape_text(up, 0, s1, sizeof s1), shape_text(down, 0, s2, sizeof s2));
    layer_key(base, peft, key, sizeof key);
    const target *tg = find_target(ts, key);
    if (!tg) {
      if (unmatched < 3) snprintf(first[unmatched], sizeof first[0], "%s", base);
      unmatched++;
      continue;
    }
    int64_t out = up->shape[0], in = (int64_t)(down->numel / (size_t)rank);
    if (out != tg->rows || in != tg->cols) {
      char ms[64];
      if (tg->rows != tg->t->shape[0]) snprintf(ms, sizeof ms, "%lldx%lld (rows %lld.. of %s)", (long long)tg->rows,
                                                (long long)tg->cols, (long long)tg->row0, shape_text(tg->t, 0, s2, sizeof s2));
      else shape_text(tg->t, 0, ms, sizeof ms);
      return fail(A2I2A_ERR_MODEL,
                  "%s: layer %s is %lldx%s (out x in), the model's %s is %s: a LoRA for another model family", label,
                  base, (long long)out, shape_text(down, 1, s1, sizeof s1), tg->label, ms);
    }
    float a = (float)rank;
    if (alpha) st_to_f32(alpha, &a);
    if (ps->n == ps->cap) {
      int cap = ps->cap ? 2 * ps->cap : 512;
      patch *v = realloc(ps->v, (size_t)cap * sizeof *v);
      if (!v) return fail(A2I2A_ERR_NOMEM, "out of memory reading %s", label);
      ps->v = v, ps->cap = cap;
    }
    ps->v[ps->n] = (patch){tg, up, down, rank, (float)(scale * a / (double)rank), ps->n};
    ps->n++;
    matched++;
  }
  if (!layers)
    return fail(A2I2A_ERR_FORMAT, "%s: not a LoRA (no *.lora_down.weight / *.lora_up.weight or *.lora_A.weight / "
                                  "*.lora_B.weight tensors)",
                label);
  if (!matched)
    return fail(A2I2A_ERR_MODEL, "%s: none of the LoRA's %d layers matches a layer of the model (the first: %s)", label,
                layers, first[0]);
  *merged = matched;
  if (unmatched)
    job_log(job, A2I2A_LOG_WARNING, "%s: %d of %d LoRA layers match no layer of the model and are ignored: %s%s%s%s%s%s",
            label, unmatched, layers, first[0], unmatched > 1 ? ", " : "", first[1], unmatched > 2 ? ", " : "", first[2],
            unmatched > 3 ? ", ..." : "");
  return A2I2A_OK;
}

/* ------------------------------------------------------------------------ merging */

static uint16_t f32_to_bf16(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40); /* NaN stays NaN */
  u += 0x7fffu + ((u >> 16) & 1); /* round to nearest even, as torch */
  return (uint16_t)(u >> 16);
}

/* float32 → the tensor's dtype, both rounding to nearest even as torch does (F16C in hardware),
 * split over the threads: the stores of a full-size merge are most of its time. */
static void store_as(const float *w, uint16_t *h, size_t n, st_dtype dt) {
  int nt = n < (1u << 16) ? 1 : a2i2a_get_threads();
#pragma omp parallel for num_threads(nt)
  for (int t = 0; t < nt; t++) {
    size_t i = n * t / nt & ~(size_t)7, e = t == nt - 1 ? n : n * (t + 1) / nt & ~(size_t)7;
    if (dt == ST_F16) {
      for (; i + 8 <= e; i += 8)
        _mm_storeu_si128((__m128i *)(h + i), _mm256_cvtps_ph(_mm256_loadu_ps(w + i), _MM_FROUND_TO_NEAREST_INT));
      for (; i < e; i++) h[i] = f32_to_f16(w[i]);
    } else {
      for (; i < e; i++) h[i] = f32_to_bf16(w[i]);
    }
  }
}

static int cmp_patch(const void *a, const void *b) {
  const patch *x = a, *y = b;
  if (x->tg->t != y->tg->t) return x->tg->t < y->tg->t ? -1 : 1;
  return x->order - y->order;
}

static const void *original_data(const sd_lora_set *s, const st_tensor *t) {
  for (int i = 0; i < s->npatches; i++)
    if (s->patch[i].t == t) return s->patch[i].orig;
  return t->data;
}

/* The merged copy of one tensor: its original values in float32, every patch added (in the
 * LoRAs' order), then stored back in its dtype. */
static void *merge_tensor(const st_tensor *t, const void *orig, const patch *p, int np, float *w) {
  st_tensor view = *t;
  weight wv;
  view.data = orig;
  weight_from_tensor(&wv, &view, 0); /* a float tensor: the caller matched it */
  weight_to_f32(&wv, w);
  for (int i = 0; i < np; i++) {
    const target *g = p[i].tg;
    int r = (int)p[i].rank;
    float *up = malloc(p[i].up->numel * sizeof(float)), *down = malloc(p[i].down->numel * sizeof(float));
    if (!up || !down) {
      free(up), free(down);
      return NULL;
    }
    st_to_f32(p[i].up, up);
    st_to_f32(p[i].down, down);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)g->rows, (int)g->cols, r, p[i].factor, up, r, down,
                (int)g->cols, 1.0f, w + g->row0 * g->cols, (int)g->cols);
    free(up), free(down);
  }
  if (t->dtype == ST_F32) {
    float *copy = malloc(t->numel * sizeof *copy);
    if (copy) memcpy(copy, w, t->numel * sizeof *copy);
    return copy;
  }
  uint16_t *h = malloc(t->numel * sizeof *h);
  if (h) store_as(w, h, t->numel, t->dtype);
  return h;
}

void sd_lora_set_free(sd_lora_set *s) {
  for (int i = 0; i < s->npatches; i++) {
    s->patch[i].t->data = s->patch[i].orig;
    free(s->patch[i].merged);
  }
  free(s->patch);
  free(s->info);
  memset(s, 0, sizeof *s);
}

/* ------------------------------------------------------------------------ the set */

static const char *stem_of(const char *path, char *buf, size_t n) {
  const char *b = strrchr(path, '/');
  b = b ? b + 1 : path;
  size_t len = strlen(b);
  if (ends_with(b, ".safetensors")) len -= 12;
  snprintf(buf, n, "%.*s", (int)len, b);
  return buf;
}

/* What identifies LoRA i of a job, and whether the model's set already is that list. */
static a2i2a_status describe(const a2i2a_lora *l, sd_lora_info *info) {
  memset(info, 0, sizeof *info);
  info->scale = l->scale;
  info->data = l->data;
  info->size = (long long)l->size;
  if (l->path) snprintf(info->path, sizeof info->path, "%s", l->path);
  stem_of(l->path ? l->path : "lora", info->name, sizeof info->name);
  if (l->data) return A2I2A_OK;
  if (!l->path || !*l->path) return fail(A2I2A_ERR_PARAM, "a LoRA with neither a path nor data");
  struct stat sb;
  if (stat(l->path, &sb) != 0) return fail(A2I2A_ERR_IO, "%s: cannot open the LoRA (%s)", l->path, strerror(errno));
  if (!S_ISREG(sb.st_mode)) return fail(A2I2A_ERR_IO, "%s: not a LoRA file", l->path);
  info->size = (long long)sb.st_size;
  info->mtime = (long long)sb.st_mtim.tv_sec * 1000000000LL + sb.st_mtim.tv_nsec;
  return A2I2A_OK;
}

static int same_set(const sd_lora_set *s, const sd_lora_info *info, int n) {
  if (s->n != n) return 0;
  for (int i = 0; i < n; i++) {
    const sd_lora_info *a = &s->info[i], *b = &info[i];
    /* a buffer may have changed in place: buffers always merge again */
    if (a->data || b->data || strcmp(a->path, b->path) || a->size != b->size || a->mtime != b->mtime ||
        a->scale != b->scale)
      return 0;
  }
  return 1;
}

static void hash_bytes(const uint8_t *p, size_t n, sd_lora_info *info) {
  sha256_ctx c;
  uint8_t d[32];
  char hex[65];
  sha256_init(&c);
  sha256_update(&c, p, n);
  sha256_final(&c, d);
  sha256_hex(d, info->sha256);
  /* A1111 (and kohya's sd-scripts) hash a .safetensors without its header, so that metadata edits
   * keep the hash */
  uint64_t hl = 0;
  if (n >= 8) memcpy(&hl, p, 8);
  size_t skip = n >= 8 && hl <= n - 8 ? (size_t)hl + 8 : 0;
  sha256_init(&c);
  sha256_update(&c, p + skip, n - skip);
  sha256_final(&c, d);
  sha256_hex(d, hex);
  snprintf(info->short_hash, sizeof info->short_hash, "%.12s", hex);
}

static a2i2a_status reload_networks(struct a2i2a_model *mdl) {
  clip_free(mdl->clip);
  unet_free(mdl->unet);
  mdl->clip = NULL;
  mdl->unet = NULL;
  a2i2a_status st = clip_load(&mdl->clip, &mdl->m);
  if (!st) st = unet_load(&mdl->unet, &mdl->m);
  return st;
}

a2i2a_status sd_lora_apply(struct a2i2a_model *mdl, const a2i2a_lora *loras, int n, a2i2a_job *job) {
  if (n < 0 || (n > 0 && !loras)) return fail(A2I2A_ERR_PARAM, "a LoRA list of %d entries without entries", n);
  sd_lora_info *info = n ? calloc((size_t)n, sizeof *info) : NULL;
  if (n && !info) return fail(A2I2A_ERR_NOMEM, "out of memory reading the LoRAs");
  a2i2a_status st = A2I2A_OK;
  for (int i = 0; i < n && !st; i++) {
    st = describe(&loras[i], &info[i]);
    if (!st && !(loras[i].scale >= -100 && loras[i].scale <= 100))
      st = fail(A2I2A_ERR_PARAM, "%s: LoRA scale %g is not in [-100, 100]", info[i].path[0] ? info[i].path : info[i].name,
                loras[i].scale);
  }
  if (st || same_set(&mdl->loras, info, n)) {
    free(info);
    return st;
  }
  if (n) job_stage(job, "lora", info[0].name, n);

  st_file *files = n ? calloc((size_t)n, sizeof *files) : NULL;
  void **maps = n ? calloc((size_t)n, sizeof *maps) : NULL;
  size_t *map_len = n ? calloc((size_t)n, sizeof *map_len) : NULL;
  targets ts = {0};
  patches ps = {0};
  float *scratch = NULL;
  sd_lora_set next = {.n = n, .info = info};
  if (n && (!files || !maps || !map_len)) st = fail(A2I2A_ERR_NOMEM, "out of memory reading the LoRAs");
  if (!st && n && !(st = unet_targets(&mdl->m, &ts)) && !(st = text_targets(&mdl->m, &ts)))
    qsort(ts.v, (size_t)ts.n, sizeof *ts.v, cmp_target);
  for (int i = 0; i < n && !st; i++) {
    const char *label = info[i].path[0] ? info[i].path : info[i].name;
    const uint8_t *bytes = loras[i].data;
    size_t len = loras[i].size;
    if (!bytes) {
      if ((st = st_map_file(info[i].path, &maps[i], &map_len[i]))) break;
      bytes = maps[i];
      len = map_len[i];
      info[i].size = (long long)len;
    }
    if (!bytes || !len) {
      st = fail(A2I2A_ERR_FORMAT, "%s: not a LoRA (an empty file)", label);
      break;
    }
    hash_bytes(bytes, len, &info[i]);
    if ((st = st_parse(bytes, len, label, &files[i]))) break;
    if ((st = match_file(&files[i], label, info[i].scale, &ts, &ps, &info[i].layers, job))) break;
    if ((st = job_check(job))) break;
  }

  /* the merged copies, from the checkpoint's values (not the previous set's) */
  if (!st && ps.n) {
    qsort(ps.v, (size_t)ps.n, sizeof *ps.v, cmp_patch);
    int distinct = 0;
    for (int i = 0; i < ps.n; i++) distinct += i == 0 || ps.v[i].tg->t != ps.v[i - 1].tg->t;
    size_t largest = 0;
    for (int i = 0; i < ps.n; i++)
      if (ps.v[i].tg->t->numel > largest) largest = ps.v[i].tg->t->numel;
    /* one float32 buffer for every tensor: page faults are a good part of a full-size merge */
    scratch = malloc(largest * sizeof *scratch);
    next.patch = calloc((size_t)distinct, sizeof *next.patch);
    if (!next.patch || !scratch) st = fail(A2I2A_ERR_NOMEM, "out of memory merging the LoRAs");
    for (int i = 0; i < ps.n && !st;) {
      int j = i;
      while (j < ps.n && ps.v[j].tg->t == ps.v[i].tg->t) j++;
      st_tensor *t = ps.v[i].tg->t;
      sd_lora_patch *lp = &next.patch[next.npatches++];
      lp->t = t;
      lp->orig = original_data(&mdl->loras, t);
      lp->merged = merge_tensor(t, lp->orig, ps.v + i, j - i, scratch);
      if (!lp->merged) st = fail(A2I2A_ERR_NOMEM, "out of memory merging the LoRAs into %s", ps.v[i].tg->label);
      if (!st) st = job_check(job);
      i = j;
    }
  }
  for (int i = 0; i < n; i++) {
    if (files) st_close(&files[i]);
    if (maps && maps[i]) munmap(maps[i], map_len[i]);
  }
  free(files), free(maps), free(map_len), free(ts.v), free(ps.v), free(scratch);
  if (st) {
    for (int i = 0; i < next.npatches; i++) free(next.patch[i].merged);
    free(next.patch);
    free(info);
    return st;
  }

  /* the switch: the checkpoint's weights back, the new set in, the networks' views renewed */
  sd_lora_set old = mdl->loras;
  for (int i = 0; i < old.npatches; i++) old.patch[i].t->data = old.patch[i].orig;
  for (int i = 0; i < next.npatches; i++) next.patch[i].t->data = next.patch[i].merged;
  mdl->loras = next;
  for (int i = 0; i < old.npatches; i++) free(old.patch[i].merged);
  free(old.patch);
  free(old.info);
  sd_forget_prompts(mdl); /* embeddings from the previous text encoder */
  st = reload_networks(mdl);
  if (st) {
    /* the views cannot be renewed: the model goes back to the checkpoint's weights */
    sd_lora_set_free(&mdl->loras);
    reload_networks(mdl);
  }
  return st;
}

/* ------------------------------------------------------------------------ prompts and records */

a2i2a_status sd_lora_prompt_tags(const char *prompt, char **stripped, char ***names, double **scales, int *n) {
  *stripped = NULL;
  *names = NULL;
  *scales = NULL;
  *n = 0;
  if (!prompt) prompt = "";
  char *out = malloc(strlen(prompt) + 1);
  if (!out) return fail(A2I2A_ERR_NOMEM, "out of memory reading the prompt");
  size_t k = 0;
  a2i2a_status st = A2I2A_OK;
  for (const char *p = prompt; *p && !st;) {
    const char *end = !strncmp(p, "<lora:", 6) ? strchr(p, '>') : NULL;
    if (!end) {
      out[k++] = *p++;
      continue;
    }
    /* NAME[:SCALE] between "<lora:" and ">" */
    const char *body = p + 6, *colon = memchr(body, ':', (size_t)(end - body));
    size_t name_len = (size_t)((colon ? colon : end) - body);
    double scale = 1.0;
    if (colon) {
      char num[64], *e;
      snprintf(num, sizeof num, "%.*s", (int)(end - colon - 1), colon + 1);
      errno = 0;
      scale = strtod(num, &e);
      if (e == num || *e || errno)
        st = fail(A2I2A_ERR_PARAM, "%.*s: the LoRA tag's scale '%s' is not a number", (int)(end - p + 1), p, num);
    }
    if (!st && (!name_len || memchr(body, '/', name_len)))
      st = fail(A2I2A_ERR_PARAM, "%.*s: a LoRA tag names a file of the LoRA folder (<lora:NAME:SCALE>)",
                (int)(end - p + 1), p);
    if (st) break;
    char **nv = realloc(*names, (size_t)(*n + 1) * sizeof *nv);
    double *sv = nv ? realloc(*scales, (size_t)(*n + 1) * sizeof *sv) : NULL;
    if (nv) *names = nv;
    if (sv) *scales = sv;
    char *name = sv ? strndup(body, name_len) : NULL;
    if (!name) {
      st = fail(A2I2A_ERR_NOMEM, "out of memory reading the prompt");
      break;
    }
    (*names)[*n] = name;
    (*scales)[(*n)++] = scale;
    /* the tag goes with the space before it ("a cat <lora:x:1>" → "a cat") */
    while (k > 0 && out[k - 1] == ' ') k--;
    p = end + 1;
    if (k == 0)
      while (*p == ' ') p++;
  }
  out[k] = 0;
  if (st) {
    for (int i = 0; i < *n; i++) free((*names)[i]);
    free(*names), free(*scales), free(out);
    *names = NULL, *scales = NULL, *n = 0;
    return st;
  }
  *stripped = out;
  return A2I2A_OK;
}

void sd_lora_prompt_suffix(const sd_lora_set *s, char *buf, size_t n) {
  size_t k = 0;
  buf[0] = 0;
  for (int i = 0; i < s->n && k < n; i++)
    k += (size_t)snprintf(buf + k, n - k, " <lora:%s:%g>", s->info[i].name, s->info[i].scale);
}

void sd_lora_a1111_hashes(const sd_lora_set *s, char *buf, size_t n) {
  size_t k = 0;
  buf[0] = 0;
  for (int i = 0; i < s->n && k < n; i++)
    k += (size_t)snprintf(buf + k, n - k, "%s%s: %s", i ? ", " : "", s->info[i].name, s->info[i].short_hash);
}
