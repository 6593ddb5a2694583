/* SD's UNet: diffusers' UNet2DConditionModel for SD 1.x / 2.x (README §7.3), one batch element
 * per call. Weights are views into the checkpoint (F16/BF16 stay so); activations live in
 * buffers allocated once per latent size and reused by every call. */
#include "sd/unet.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "sd/kernels.h"

#define LDM_PREFIX "model.diffusion_model."
#define FF_CHUNK 2048 /* tokens per feed-forward pass (the hidden then fits where q/k/v/attention were) */

/* The optional time profile by kind of work (unet_set_profile): it belongs to the handle. */
const char *const unet_profile_names[UNET_PROF_N] = {
    "conv3x3", "conv1x1+sampling", "norms", "q/k/v/out+proj", "self-attention", "cross-attention", "feed-forward",
    "geglu", "other"};
static double prof_now(const unet_profile *p) {
  struct timespec ts;
  clock_gettime(p->cpu ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}
#define P(k, call)                                                \
  do {                                                            \
    double t0_ = u->prof ? prof_now(u->prof) : 0;                 \
    call;                                                         \
    if (u->prof) u->prof->kind[UNET_PROF_##k] += prof_now(u->prof) - t0_; \
  } while (0)

typedef struct {
  weight w, b;
} affine; /* a Linear, a Conv2d or a norm's gamma/beta */

typedef struct {
  int cin, cout;
  affine norm1, conv1, temb, norm2, conv2, shortcut; /* shortcut.w.data NULL: identity */
  int stream; /* drop its weight pages after each use (unet_set_resident_weights) */
} resnet;

typedef struct {
  affine norm1, q1, k1, v1, o1, norm2, q2, k2, v2, o2, norm3, ff1, ff2;
} tblock;

typedef struct {
  int c, heads, depth;
  affine norm, proj_in, proj_out;
  tblock *blocks;
  int stream; /* as resnet's */
} xformer; /* diffusers' Transformer2DModel */

typedef struct {
  int n_res;
  resnet res[UNET_MAX_LEVELS];
  xformer attn[UNET_MAX_LEVELS]; /* attn[j].blocks NULL: no attention */
  affine sampler;                /* downsampler / upsampler conv; w.data NULL: none */
  int sampler_stream;            /* as resnet's */
} ublock;

typedef struct {
  float *p;
  int c, h, w;
} skip;

struct unet {
  unet_config cfg;
  float *freqs; /* [block_out_channels[0]/2] */
  affine time1, time2, conv_in, norm_out, conv_out;
  ublock down[UNET_MAX_LEVELS], up[UNET_MAX_LEVELS]; /* up[] by level, not by up-block order */
  resnet mid_res[2];
  xformer mid_attn;
  float *temb, *temb_silu, *tproj, *tvec; /* time embedding per batch element; tvec: a resnet's projection */
  /* activation buffers for (bh, bw, bctx, bnb), laid out [C][nb][H][W] (tokens [nb][HW][C]) */
  int bh, bw, bctx, bnb;
  float *xin;             /* the input, and the output, in that layout */
  size_t bytes;
  float *arena;           /* the skip tensors of the down path, in push order */
  float *cat[2];          /* up path: [h | skip] ping-pong */
  float *s1, *s2;         /* resnet scratch, upsample scratch */
  float *tT, *tN, *tG;    /* transformer: residual stream, normed/temporary, GEGLU output */
  float *tQ, *tK, *tV, *tA, *tF; /* tF overlays tQ..: the FF runs after the attention */
  unet_profile *prof;     /* the caller's, or NULL */
  const void *map;        /* the checkpoint's mapping the weights lie in (sd_release_pages) */
  size_t map_size;
};

/* ------------------------------------------------------------------------ config */

static const cJSON *jget(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }

static int jnull(const cJSON *v) { return !v || cJSON_IsNull(v); }

static int json_int(const cJSON *cfg, const char *key, int def) {
  const cJSON *v = jget(cfg, key);
  return cJSON_IsNumber(v) ? v->valueint : cJSON_IsBool(v) ? cJSON_IsTrue(v) : def;
}

static int json_is(const cJSON *cfg, const char *key, const char *s) {
  const cJSON *v = jget(cfg, key);
  return cJSON_IsString(v) && !strcmp(v->valuestring, s);
}

static a2i2a_status config_from_json(const char *path, const cJSON *cfg, unet_config *c) {
  memset(c, 0, sizeof *c);
  const cJSON *boc = jget(cfg, "block_out_channels");
  if (!cJSON_IsArray(boc) || cJSON_GetArraySize(boc) < 1 || cJSON_GetArraySize(boc) > UNET_MAX_LEVELS)
    return fail(A2I2A_ERR_MODEL, "%s: block_out_channels missing or not a list of 1 to %d numbers", path,
                UNET_MAX_LEVELS);
  int n = c->n_levels = cJSON_GetArraySize(boc);
  a2i2a_status st = sd_config_ints(cfg, path, "block_out_channels", n, 0, 1, SD_MAX_WIDTH, c->block_out_channels);
  if (st) return st;
  const cJSON *down = jget(cfg, "down_block_types"), *up = jget(cfg, "up_block_types");
  if (!cJSON_IsArray(down) || cJSON_GetArraySize(down) != n || !cJSON_IsArray(up) || cJSON_GetArraySize(up) != n)
    return fail(A2I2A_ERR_MODEL, "%s: down_block_types/up_block_types must list %d blocks", path, n);
  for (int i = 0; i < n; i++) {
    const char *d = cJSON_GetArrayItem(down, i)->valuestring, *u = cJSON_GetArrayItem(up, i)->valuestring;
    if (!d || !u) return fail(A2I2A_ERR_MODEL, "%s: block types must be strings", path);
    if (!strcmp(d, "CrossAttnDownBlock2D")) c->down_attention[i] = 1;
    else if (strcmp(d, "DownBlock2D")) return fail(A2I2A_ERR_UNSUPPORTED, "%s: down block type %s is not supported", path, d);
    if (!strcmp(u, "CrossAttnUpBlock2D")) c->up_attention[n - 1 - i] = 1;
    else if (strcmp(u, "UpBlock2D")) return fail(A2I2A_ERR_UNSUPPORTED, "%s: up block type %s is not supported", path, u);
  }
  if (!jnull(jget(cfg, "mid_block_type")) && !json_is(cfg, "mid_block_type", "UNetMidBlock2DCrossAttn"))
    return fail(A2I2A_ERR_UNSUPPORTED, "%s: mid_block_type must be UNetMidBlock2DCrossAttn", path);
  /* Features of other UNets (SDXL, LCM-distilled, upscalers, inpainting variants are fine) */
  static const char *must_be_null[] = {"class_embed_type", "addition_embed_type", "encoder_hid_dim_type",
                                       "time_cond_proj_dim", "num_class_embeds"};
  for (size_t i = 0; i < sizeof must_be_null / sizeof *must_be_null; i++)
    if (!jnull(jget(cfg, must_be_null[i])))
      return fail(A2I2A_ERR_UNSUPPORTED, "%s: %s is set: this UNet is not an SD 1.x/2.x one", path, must_be_null[i]);
  if (json_int(cfg, "dual_cross_attention", 0) || json_int(cfg, "only_cross_attention", 0) ||
      json_int(cfg, "center_input_sample", 0) || json_int(cfg, "conv_in_kernel", 3) != 3 ||
      json_int(cfg, "conv_out_kernel", 3) != 3 || json_int(cfg, "downsample_padding", 1) != 1 ||
      (!jnull(jget(cfg, "time_embedding_type")) && !json_is(cfg, "time_embedding_type", "positional")) ||
      (!jnull(jget(cfg, "resnet_time_scale_shift")) && !json_is(cfg, "resnet_time_scale_shift", "default")) ||
      !jnull(jget(cfg, "time_embedding_dim")) || !jnull(jget(cfg, "timestep_post_act")) ||
      (!jnull(jget(cfg, "mid_block_scale_factor")) && jget(cfg, "mid_block_scale_factor")->valuedouble != 1) ||
      (!jnull(jget(cfg, "resnet_out_scale_factor")) && jget(cfg, "resnet_out_scale_factor")->valuedouble != 1))
    return fail(A2I2A_ERR_UNSUPPORTED, "%s: a setting differs from SD 1.x/2.x's and is not supported", path);
  double eps;
  if ((st = sd_config_int(cfg, path, "in_channels", 4, 1, SD_MAX_IO_CHANNELS, &c->in_channels)) ||
      (st = sd_config_int(cfg, path, "out_channels", 4, 1, SD_MAX_IO_CHANNELS, &c->out_channels)) ||
      (st = sd_config_int(cfg, path, "layers_per_block", 2, 1, UNET_MAX_LEVELS - 1, &c->layers_per_block)) ||
      (st = sd_config_int(cfg, path, "cross_attention_dim", 1280, 1, SD_MAX_WIDTH, &c->cross_attention_dim)) ||
      (st = sd_config_int(cfg, path, "use_linear_projection", 0, 0, 1, &c->linear_projection)) ||
      (st = sd_config_int(cfg, path, "norm_num_groups", 32, 1, SD_MAX_GROUPS, &c->norm_groups)) ||
      (st = sd_config_value(jget(cfg, "norm_eps"), path, "norm_eps", 1e-5, 1e-12, 1, 0, &eps)) ||
      (st = sd_config_int(cfg, path, "flip_sin_to_cos", 1, 0, 1, &c->flip_sin_to_cos)) ||
      (st = sd_config_int(cfg, path, "freq_shift", 0, 0, 1, &c->freq_shift)))
    return st;
  c->norm_eps = (float)eps;
  c->time_embed_dim = 4 * c->block_out_channels[0];
  /* Legacy naming: attention_head_dim is the head count unless num_attention_heads is given. */
  st = jnull(jget(cfg, "num_attention_heads"))
           ? sd_config_ints(cfg, path, "attention_head_dim", n, 8, 1, SD_MAX_HEADS, c->heads)
           : sd_config_ints(cfg, path, "num_attention_heads", n, 8, 1, SD_MAX_HEADS, c->heads);
  if (!st) st = sd_config_ints(cfg, path, "transformer_layers_per_block", n, 1, 1, SD_MAX_DEPTH, c->transformer_depth);
  if (st) return st;
  for (int i = 0; i < n; i++)
    if (c->block_out_channels[i] <= 0 || c->heads[i] <= 0 || c->block_out_channels[i] % c->heads[i] ||
        c->block_out_channels[i] % c->norm_groups || c->transformer_depth[i] < 1)
      return fail(A2I2A_ERR_MODEL, "%s: block %d: %d channels do not fit %d heads / %d groups", path, i,
                  c->block_out_channels[i], c->heads[i], c->norm_groups);
  return A2I2A_OK;
}

static const st_tensor *ldm_tensor(const sd_model *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const st_tensor *ldm_tensor(const sd_model *m, const char *fmt, ...) {
  char name[512];
  int k = snprintf(name, sizeof name, LDM_PREFIX);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(name + k, sizeof name - (size_t)k, fmt, ap);
  va_end(ap);
  return sd_tensor(m, SD_UNET, name);
}

static int count_blocks(const sd_model *m, const char *fmt_prefix, int index) {
  int d = 0;
  char p[256];
  for (;; d++) {
    snprintf(p, sizeof p, fmt_prefix, index);
    if (!ldm_tensor(m, "%s.transformer_blocks.%d.norm1.weight", p, d)) return d;
  }
}

/* The LDM single file has no config: read it off the tensor shapes (README §3.2). Heads are not
 * recorded anywhere; SD 1.x (conv projections) uses 8 heads, SD 2.x (linear) 64-channel heads. */
static a2i2a_status config_from_ldm(const sd_model *m, unet_config *c) {
  memset(c, 0, sizeof *c);
  const st_tensor *t = ldm_tensor(m, "input_blocks.0.0.weight");
  if (!t || t->ndim != 4) return fail(A2I2A_ERR_MODEL, "%s: no UNet (model.diffusion_model.input_blocks.0.0.weight)", m->path);
  c->block_out_channels[0] = (int)t->shape[0];
  c->in_channels = (int)t->shape[1];
  int k = 1;
  while (k < 64 && !ldm_tensor(m, "input_blocks.%d.0.op.weight", k)) k++;
  if (k == 64) return fail(A2I2A_ERR_MODEL, "%s: the UNet has no downsampler (input_blocks.N.0.op)", m->path);
  int L = c->layers_per_block = k - 1;
  if (L < 1 || L >= UNET_MAX_LEVELS) return fail(A2I2A_ERR_MODEL, "%s: unexpected UNet layout", m->path);
  int nin = 1;
  while (ldm_tensor(m, "input_blocks.%d.0.in_layers.0.weight", nin) || ldm_tensor(m, "input_blocks.%d.0.op.weight", nin))
    nin++;
  if (nin % (L + 1) || nin / (L + 1) > UNET_MAX_LEVELS)
    return fail(A2I2A_ERR_MODEL, "%s: %d UNet input blocks do not make levels of %d", m->path, nin, L);
  int n = c->n_levels = nin / (L + 1);
  const st_tensor *attn_k = NULL, *proj = NULL;
  for (int i = 0; i < n; i++) {
    int ib = 1 + i * (L + 1);
    t = ldm_tensor(m, "input_blocks.%d.0.out_layers.3.weight", ib);
    if (!t) return fail(A2I2A_ERR_MODEL, "%s: missing UNet tensor input_blocks.%d.0.out_layers.3.weight", m->path, ib);
    c->block_out_channels[i] = (int)t->shape[0];
    c->down_attention[i] = ldm_tensor(m, "input_blocks.%d.1.proj_in.weight", ib) != NULL;
    c->up_attention[i] = ldm_tensor(m, "output_blocks.%d.1.proj_in.weight", (n - 1 - i) * (L + 1)) != NULL;
    c->transformer_depth[i] = 1;
    if (c->down_attention[i]) {
      c->transformer_depth[i] = count_blocks(m, "input_blocks.%d.1", ib);
      if (!attn_k) attn_k = ldm_tensor(m, "input_blocks.%d.1.transformer_blocks.0.attn2.to_k.weight", ib);
      if (!proj) proj = ldm_tensor(m, "input_blocks.%d.1.proj_in.weight", ib);
    }
  }
  if (!ldm_tensor(m, "middle_block.1.proj_in.weight"))
    return fail(A2I2A_ERR_UNSUPPORTED, "%s: the UNet's middle block has no attention: not SD 1.x/2.x", m->path);
  if (count_blocks(m, "middle_block.%d", 1) != c->transformer_depth[n - 1] && !c->down_attention[n - 1])
    c->transformer_depth[n - 1] = count_blocks(m, "middle_block.%d", 1);
  if (!attn_k) attn_k = ldm_tensor(m, "middle_block.1.transformer_blocks.0.attn2.to_k.weight");
  if (!proj) proj = ldm_tensor(m, "middle_block.1.proj_in.weight");
  if (!attn_k || attn_k->ndim != 2 || !proj)
    return fail(A2I2A_ERR_MODEL, "%s: the UNet's cross-attention weights are missing", m->path);
  c->cross_attention_dim = (int)attn_k->shape[1];
  c->linear_projection = proj->ndim == 2;
  t = ldm_tensor(m, "out.2.weight");
  if (!t) return fail(A2I2A_ERR_MODEL, "%s: missing UNet tensor out.2.weight", m->path);
  c->out_channels = (int)t->shape[0];
  c->norm_groups = 32;
  c->norm_eps = 1e-5f;
  c->flip_sin_to_cos = 1;
  c->freq_shift = 0;
  c->time_embed_dim = 4 * c->block_out_channels[0];
  for (int i = 0; i < n; i++) {
    int ch = c->block_out_channels[i];
    c->heads[i] = c->linear_projection && ch % 64 == 0 ? ch / 64 : 8;
    if (ch % c->heads[i] || ch % c->norm_groups)
      return fail(A2I2A_ERR_MODEL, "%s: UNet block %d: %d channels do not fit %d heads", m->path, i, ch, c->heads[i]);
  }
  return A2I2A_OK;
}

a2i2a_status unet_config_read(const sd_model *m, unet_config *c) {
  if (m->layout == SD_LAYOUT_LDM) return config_from_ldm(m, c);
  if (!m->config[SD_UNET]) return fail(A2I2A_ERR_MODEL, "%s: unet/config.json is missing", m->path);
  char path[4200];
  snprintf(path, sizeof path, "%s/unet/config.json", m->path);
  return config_from_json(path, m->config[SD_UNET], c);
}

/* ------------------------------------------------------------------------ weights */

typedef struct {
  const sd_model *m;
  int ldm;
  void (*list)(const char *name, size_t numel, void *arg); /* list mode: report, don't look up */
  void *arg;
} loader;

static a2i2a_status get(loader *L, weight *w, size_t numel, int optional, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static a2i2a_status get(loader *L, weight *w, size_t numel, int optional, const char *fmt, ...) {
  char name[512];
  int k = L->ldm ? snprintf(name, sizeof name, LDM_PREFIX) : 0;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(name + k, sizeof name - (size_t)k, fmt, ap);
  va_end(ap);
  if (L->list) {
    L->list(name, numel, L->arg);
    memset(w, 0, sizeof *w);
    w->numel = numel;
    return A2I2A_OK;
  }
  const st_tensor *t = sd_tensor(L->m, SD_UNET, name);
  if (!t) {
    memset(w, 0, sizeof *w);
    if (optional) return A2I2A_OK;
    return fail(A2I2A_ERR_MODEL, "%s: the UNet tensor %s is missing", L->m->path, name);
  }
  a2i2a_status st = weight_from_tensor(w, t, numel);
  if (st) fail_prefix(L->m->path);
  return st;
}

/* base.weight ([nw] values) and base.bias ([nb], 0 = none) */
static a2i2a_status get_affine(loader *L, affine *a, const char *base, size_t nw, size_t nb) {
  a2i2a_status st = get(L, &a->w, nw, 0, "%s.weight", base);
  if (!st && nb) st = get(L, &a->b, nb, 0, "%s.bias", base);
  if (!nb) memset(&a->b, 0, sizeof a->b);
  return st;
}

static a2i2a_status load_resnet(loader *L, resnet *r, const char *p, int cin, int cout, int tdim) {
  char b[512];
  a2i2a_status st;
  int ldm = L->ldm;
  r->cin = cin;
  r->cout = cout;
#define PART(field, dname, lname, nw, nb)                      \
  snprintf(b, sizeof b, "%s.%s", p, ldm ? lname : dname);      \
  if ((st = get_affine(L, &r->field, b, nw, nb))) return st;
  PART(norm1, "norm1", "in_layers.0", cin, cin)
  PART(conv1, "conv1", "in_layers.2", (size_t)cout * cin * 9, cout)
  PART(temb, "time_emb_proj", "emb_layers.1", (size_t)cout * tdim, cout)
  PART(norm2, "norm2", "out_layers.0", cout, cout)
  PART(conv2, "conv2", "out_layers.3", (size_t)cout * cout * 9, cout)
  memset(&r->shortcut, 0, sizeof r->shortcut);
  if (cin != cout) {
    PART(shortcut, "conv_shortcut", "skip_connection", (size_t)cout * cin, cout)
  }
#undef PART
  return A2I2A_OK;
}

static a2i2a_status load_xformer(loader *L, xformer *x, const char *p, int c, int heads, int depth,
                                 const unet_config *cfg) {
  char b[512];
  a2i2a_status st;
  x->c = c;
  x->heads = heads;
  x->depth = depth;
  x->blocks = calloc((size_t)depth, sizeof *x->blocks);
  if (!x->blocks) return fail(A2I2A_ERR_NOMEM, "out of memory loading the UNet");
  size_t cc = (size_t)c * c, cx = (size_t)c * cfg->cross_attention_dim;
#define PART(field, name, nw, nb)                         \
  snprintf(b, sizeof b, "%s.%s", p, name);                \
  if ((st = get_affine(L, field, b, nw, nb))) return st;
  PART(&x->norm, "norm", c, c)
  PART(&x->proj_in, "proj_in", cc, c)
  PART(&x->proj_out, "proj_out", cc, c)
  for (int d = 0; d < depth; d++) {
    tblock *t = &x->blocks[d];
    char q[400];
    snprintf(q, sizeof q, "transformer_blocks.%d", d);
#define TPART(field, name, nw, nb)                          \
  snprintf(b, sizeof b, "%s.%s.%s", p, q, name);            \
  if ((st = get_affine(L, &t->field, b, nw, nb))) return st;
    TPART(norm1, "norm1", c, c)
    TPART(q1, "attn1.to_q", cc, 0)
    TPART(k1, "attn1.to_k", cc, 0)
    TPART(v1, "attn1.to_v", cc, 0)
    TPART(o1, "attn1.to_out.0", cc, c)
    TPART(norm2, "norm2", c, c)
    TPART(q2, "attn2.to_q", cc, 0)
    TPART(k2, "attn2.to_k", cx, 0)
    TPART(v2, "attn2.to_v", cx, 0)
    TPART(o2, "attn2.to_out.0", cc, c)
    TPART(norm3, "norm3", c, c)
    TPART(ff1, "ff.net.0.proj", cc * 8, (size_t)c * 8)
    TPART(ff2, "ff.net.2", cc * 4, c)
#undef TPART
  }
#undef PART
  return A2I2A_OK;
}

static void free_xformer(xformer *x) {
  free(x->blocks);
  x->blocks = NULL;
}

/* torch's float32 exp on AVX2 is SLEEF's expf_u10; reproducing its steps gives torch's bits for
 * the frequency table (a correctly rounded expf differs by 1 ulp for some entries). */
static float torch_expf(float d) {
  const float R_LN2f = 1.442695040888963407359924681001892137426645954152985934135449406931f;
  const float L2Uf = 0.693145751953125f, L2Lf = 1.428606765330187045e-06f;
  float q = rintf(d * R_LN2f);
  float s = fmaf(q, -L2Uf, d);
  s = fmaf(q, -L2Lf, s);
  float u = 0.000198527617612853646278381f;
  u = fmaf(u, s, 0.00139304355252534151077271f);
  u = fmaf(u, s, 0.00833336077630519866943359f);
  u = fmaf(u, s, 0.0416664853692054748535156f);
  u = fmaf(u, s, 0.166666671633720397949219f);
  u = fmaf(u, s, 0.5f);
  u = 1.0f + fmaf(s * s, u, s);
  if (d < -104) return 0;
  return ldexpf(u, (int)q);
}

/* ldm_names: the names to look up (or list): the LDM keys or the diffusers ones */
static a2i2a_status load_named(unet **out, const sd_model *m, int ldm_names,
                               void (*list)(const char *, size_t, void *), void *arg) {
  *out = NULL;
  unet *u = calloc(1, sizeof *u);
  if (!u) return fail(A2I2A_ERR_NOMEM, "out of memory loading the UNet");
  a2i2a_status st = unet_config_read(m, &u->cfg);
  if (st) goto bad;
  const unet_config *c = &u->cfg;
  loader L = {m, ldm_names, list, arg};
  const st_file *wf = &m->file[m->layout == SD_LAYOUT_LDM ? 0 : SD_UNET];
  u->map = wf->map;
  u->map_size = wf->map_size;
  int n = c->n_levels, lpb = c->layers_per_block, td = c->time_embed_dim, c0 = c->block_out_channels[0];
  char p[256];
  /* time embedding, conv_in, output */
  if ((st = get_affine(&L, &u->time1, L.ldm ? "time_embed.0" : "time_embedding.linear_1", (size_t)td * c0, td)) ||
      (st = get_affine(&L, &u->time2, L.ldm ? "time_embed.2" : "time_embedding.linear_2", (size_t)td * td, td)) ||
      (st = get_affine(&L, &u->conv_in, L.ldm ? "input_blocks.0.0" : "conv_in", (size_t)c0 * c->in_channels * 9, c0)) ||
      (st = get_affine(&L, &u->norm_out, L.ldm ? "out.0" : "conv_norm_out", c0, c0)) ||
      (st = get_affine(&L, &u->conv_out, L.ldm ? "out.2" : "conv_out", (size_t)c->out_channels * c0 * 9, c->out_channels)))
    goto bad;
  /* down path; skip channel counts are tracked to size the up path's concatenations */
  int skipc[64], nskip = 0;
  skipc[nskip++] = c0;
  int ch = c0;
  for (int i = 0; i < n; i++) {
    ublock *b = &u->down[i];
    int co = c->block_out_channels[i];
    b->n_res = lpb;
    for (int j = 0; j < lpb; j++) {
      int ib = 1 + i * (lpb + 1) + j;
      char q[256];
      if (L.ldm) snprintf(q, sizeof q, "input_blocks.%d.0", ib);
      else snprintf(q, sizeof q, "down_blocks.%d.resnets.%d", i, j);
      if ((st = load_resnet(&L, &b->res[j], q, ch, co, td))) goto bad;
      ch = co;
      if (c->down_attention[i]) {
        if (L.ldm) snprintf(q, sizeof q, "input_blocks.%d.1", ib);
        else snprintf(q, sizeof q, "down_blocks.%d.attentions.%d", i, j);
        if ((st = load_xformer(&L, &b->attn[j], q, co, c->heads[i], c->transformer_depth[i], c))) goto bad;
      }
      skipc[nskip++] = co;
    }
    if (i < n - 1) {
      if (L.ldm) snprintf(p, sizeof p, "input_blocks.%d.0.op", (i + 1) * (lpb + 1));
      else snprintf(p, sizeof p, "down_blocks.%d.downsamplers.0.conv", i);
      if ((st = get_affine(&L, &b->sampler, p, (size_t)co * co * 9, co))) goto bad;
      skipc[nskip++] = co;
    }
  }
  /* mid */
  int cm = c->block_out_channels[n - 1];
  if ((st = load_resnet(&L, &u->mid_res[0], L.ldm ? "middle_block.0" : "mid_block.resnets.0", cm, cm, td)) ||
      (st = load_xformer(&L, &u->mid_attn, L.ldm ? "middle_block.1" : "mid_block.attentions.0", cm, c->heads[n - 1],
                         c->transformer_depth[n - 1], c)) ||
      (st = load_resnet(&L, &u->mid_res[1], L.ldm ? "middle_block.2" : "mid_block.resnets.1", cm, cm, td)))
    goto bad;
  /* up path: up block k works at level n-1-k */
  ch = cm;
  for (int k = 0; k < n; k++) {
    int lv = n - 1 - k;
    ublock *b = &u->up[lv];
    int co = c->block_out_channels[lv];
    b->n_res = lpb + 1;
    for (int j = 0; j <= lpb; j++) {
      int ob = k * (lpb + 1) + j;
      char q[256];
      if (L.ldm) snprintf(q, sizeof q, "output_blocks.%d.0", ob);
      else snprintf(q, sizeof q, "up_blocks.%d.resnets.%d", k, j);
      int sc = skipc[--nskip];
      if ((st = load_resnet(&L, &b->res[j], q, ch + sc, co, td))) goto bad;
      ch = co;
      if (c->up_attention[lv]) {
        if (L.ldm) snprintf(q, sizeof q, "output_blocks.%d.1", ob);
        else snprintf(q, sizeof q, "up_blocks.%d.attentions.%d", k, j);
        if ((st = load_xformer(&L, &b->attn[j], q, co, c->heads[lv], c->transformer_depth[lv], c))) goto bad;
      }
    }
    if (lv > 0) {
      if (L.ldm) snprintf(p, sizeof p, "output_blocks.%d.%d.conv", k * (lpb + 1) + lpb, c->up_attention[lv] ? 2 : 1);
      else snprintf(p, sizeof p, "up_blocks.%d.upsamplers.0.conv", k);
      if ((st = get_affine(&L, &b->sampler, p, (size_t)co * co * 9, co))) goto bad;
    }
  }
  /* time features */
  int half = c0 / 2;
  u->freqs = malloc(sizeof(float) * (size_t)half);
  u->temb = malloc(sizeof(float) * (size_t)td * 4 * UNET_MAX_BATCH);
  if (!u->freqs || !u->temb) {
    st = fail(A2I2A_ERR_NOMEM, "out of memory loading the UNet");
    goto bad;
  }
  u->temb_silu = u->temb + td * UNET_MAX_BATCH;
  u->tproj = u->temb + 2 * td * UNET_MAX_BATCH;
  u->tvec = u->temb + 3 * td * UNET_MAX_BATCH;
  int maxc = 0;
  for (int i = 0; i < n; i++) maxc = c->block_out_channels[i] > maxc ? c->block_out_channels[i] : maxc;
  if (maxc > td) { /* tvec holds one resnet's projection */
    st = fail(A2I2A_ERR_MODEL, "%s: the UNet's time embedding is narrower than its blocks", m->path);
    goto bad;
  }
  /* as torch: exponent = f32(-ln 10000) * arange(half) in float32, / (half - shift), exp */
  for (int i = 0; i < half; i++) {
    float e = (-(float)9.210340371976184) * (float)i;
    e = e / (float)(half - c->freq_shift);
    u->freqs[i] = torch_expf(e);
  }
  *out = u;
  return A2I2A_OK;
bad:
  unet_free(u);
  return st;
}

static a2i2a_status load(unet **out, const sd_model *m, void (*list)(const char *, size_t, void *), void *arg) {
  return load_named(out, m, m->layout == SD_LAYOUT_LDM, list, arg);
}

a2i2a_status unet_load(unet **out, const sd_model *m) { return load(out, m, NULL, NULL); }

a2i2a_status unet_list_tensor_names(const sd_model *m, int ldm_names, void (*fn)(const char *name, size_t numel, void *arg),
                                    void *arg) {
  unet *u;
  a2i2a_status st = load_named(&u, m, ldm_names, fn, arg);
  unet_free(u);
  return st;
}

a2i2a_status unet_list_tensors(const sd_model *m, void (*fn)(const char *name, size_t numel, void *arg), void *arg) {
  unet *u;
  a2i2a_status st = load(&u, m, fn, arg);
  unet_free(u);
  return st;
}

/* The activation buffers of ensure_buffers (the tK/tV/tA/tF views live inside tQ). */
static void free_buffers(unet *u) {
  float **bufs[] = {&u->xin, &u->arena, &u->cat[0], &u->cat[1], &u->s1, &u->s2, &u->tT, &u->tN, &u->tG, &u->tQ};
  for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) {
    free(*bufs[i]);
    *bufs[i] = NULL;
  }
}

void unet_free(unet *u) {
  if (!u) return;
  for (int i = 0; i < UNET_MAX_LEVELS; i++)
    for (int j = 0; j < UNET_MAX_LEVELS; j++) {
      free_xformer(&u->down[i].attn[j]);
      free_xformer(&u->up[i].attn[j]);
    }
  free_xformer(&u->mid_attn);
  free(u->freqs);
  free(u->temb);
  free_buffers(u);
  free(u);
}

int unet_context_dim(const unet *u) { return u->cfg.cross_attention_dim; }
void unet_set_profile(unet *u, unet_profile *p) { u->prof = p; }
const unet_config *unet_get_config(const unet *u) { return &u->cfg; }
size_t unet_buffer_bytes(const unet *u) { return u->bytes; }

const float *unet_time_freqs(const unet *u, int *n) {
  if (n) *n = u->cfg.block_out_channels[0] / 2;
  return u->freqs;
}

/* ------------------------------------------------------------------------ weight residency */

static size_t weight_bytes(const weight *w) { return w->data ? w->numel * st_dtype_size(w->dtype) : 0; }

static size_t affine_bytes(const affine *a) { return weight_bytes(&a->w) + weight_bytes(&a->b); }

static size_t resnet_bytes(const resnet *r) {
  return affine_bytes(&r->norm1) + affine_bytes(&r->conv1) + affine_bytes(&r->temb) + affine_bytes(&r->norm2) +
         affine_bytes(&r->conv2) + affine_bytes(&r->shortcut);
}

/* A transformer's affines in one list: the norm and projections, then 13 per block. */
static int xformer_affines(const xformer *x, const affine **list, int max) {
  int n = 0;
  const affine *top[] = {&x->norm, &x->proj_in, &x->proj_out};
  for (int i = 0; i < 3 && n < max; i++) list[n++] = top[i];
  for (int d = 0; d < x->depth; d++) {
    const tblock *b = &x->blocks[d];
    const affine *blk[] = {&b->norm1, &b->q1, &b->k1, &b->v1, &b->o1, &b->norm2, &b->q2,
                           &b->k2,    &b->v2, &b->o2, &b->norm3, &b->ff1, &b->ff2};
    for (int i = 0; i < 13 && n < max; i++) list[n++] = blk[i];
  }
  return n;
}

enum { XFORMER_MAX_AFFINES = 3 + 13 * SD_MAX_DEPTH };

static size_t xformer_bytes(const xformer *x) {
  const affine *list[XFORMER_MAX_AFFINES];
  size_t bytes = 0;
  for (int i = 0, n = xformer_affines(x, list, XFORMER_MAX_AFFINES); i < n; i++) bytes += affine_bytes(list[i]);
  return bytes;
}

static void release_affine(const unet *u, const affine *a) {
  sd_release_pages(u->map, u->map_size, a->w.data, weight_bytes(&a->w));
  sd_release_pages(u->map, u->map_size, a->b.data, weight_bytes(&a->b));
}

static void release_resnet(const unet *u, const resnet *r) {
  if (!r->stream) return;
  const affine *list[] = {&r->norm1, &r->conv1, &r->temb, &r->norm2, &r->conv2, &r->shortcut};
  for (size_t i = 0; i < sizeof list / sizeof *list; i++) release_affine(u, list[i]);
}

static void release_xformer(const unet *u, const xformer *x) {
  if (!x->stream || !x->blocks) return;
  const affine *list[XFORMER_MAX_AFFINES];
  for (int i = 0, n = xformer_affines(x, list, XFORMER_MAX_AFFINES); i < n; i++) release_affine(u, list[i]);
}

/* Marks the blocks in the order a forward pass runs them: the first ones whose weights add up
 * to at most resident_bytes stay mapped, every later one is streamed. */
void unet_set_resident_weights(unet *u, size_t resident_bytes) {
  size_t kept = 0;
#define KEEP(bytes) ((kept += (bytes)) > resident_bytes)
  const unet_config *c = &u->cfg;
  for (int i = 0; i < c->n_levels; i++) {
    ublock *b = &u->down[i];
    for (int j = 0; j < b->n_res; j++) {
      b->res[j].stream = KEEP(resnet_bytes(&b->res[j]));
      if (b->attn[j].blocks) b->attn[j].stream = KEEP(xformer_bytes(&b->attn[j]));
    }
    b->sampler_stream = KEEP(affine_bytes(&b->sampler));
  }
  u->mid_res[0].stream = KEEP(resnet_bytes(&u->mid_res[0]));
  u->mid_attn.stream = KEEP(xformer_bytes(&u->mid_attn));
  u->mid_res[1].stream = KEEP(resnet_bytes(&u->mid_res[1]));
  for (int lv = c->n_levels - 1; lv >= 0; lv--) {
    ublock *b = &u->up[lv];
    for (int j = 0; j < b->n_res; j++) {
      b->res[j].stream = KEEP(resnet_bytes(&b->res[j]));
      if (b->attn[j].blocks) b->attn[j].stream = KEEP(xformer_bytes(&b->attn[j]));
    }
    b->sampler_stream = KEEP(affine_bytes(&b->sampler));
  }
#undef KEEP
}

void unet_release_buffers(unet *u) {
  free_buffers(u);
  u->bh = u->bw = u->bctx = u->bnb = 0;
  u->bytes = 0;
}

/* ------------------------------------------------------------------------ forward */

void unet_time_embedding(const unet *u, float t, float *proj, float *emb) {
  int c0 = u->cfg.block_out_channels[0], half = c0 / 2, td = u->cfg.time_embed_dim;
  float *p = u->tproj, *h = u->tvec;
  for (int i = 0; i < half; i++) {
    float a = t * u->freqs[i]; /* the float32 product, as torch */
    float cs = cosf(a), sn = sinf(a);
    p[i] = u->cfg.flip_sin_to_cos ? cs : sn;
    p[half + i] = u->cfg.flip_sin_to_cos ? sn : cs;
  }
  if (proj) memcpy(proj, p, sizeof(float) * (size_t)c0);
  if (!emb) return;
  linear(h, p, 1, c0, td, &u->time1.w, &u->time1.b);
  silu(h, (size_t)td);
  linear(emb, h, 1, td, td, &u->time2.w, &u->time2.b);
}

static void level_size(const unet *u, int h, int w, int lv, int *H, int *W) {
  (void)u;
  for (int i = 0; i < lv; i++) { /* 3x3 conv, stride 2, padding 1: ceil(n/2) */
    h = (h + 1) / 2;
    w = (w + 1) / 2;
  }
  *H = h;
  *W = w;
}

static size_t zmax(size_t a, size_t b) { return a > b ? a : b; }

/* Sizes every buffer for (h, w, n_ctx) by walking the network's shapes once. */
static a2i2a_status ensure_buffers(unet *u, int h, int w, int n_ctx, int nb) {
  if (u->bh == h && u->bw == w && u->bctx >= n_ctx && u->bnb >= nb && u->arena) return A2I2A_OK;
  const unet_config *c = &u->cfg;
  int n = c->n_levels, lpb = c->layers_per_block;
  size_t arena = 0, chw = 0, cat = 0, tok = 0, ctxc = 0;
  int ch = c->block_out_channels[0], H, W;
  level_size(u, h, w, 0, &H, &W);
  arena += (size_t)ch * H * W;
  chw = zmax(chw, (size_t)zmax((size_t)c->in_channels, (size_t)c->out_channels) * H * W);
  for (int i = 0; i < n; i++) {
    level_size(u, h, w, i, &H, &W);
    size_t hw = (size_t)H * W;
    int co = c->block_out_channels[i];
    for (int j = 0; j < lpb; j++) {
      chw = zmax(chw, zmax((size_t)ch, (size_t)co) * hw);
      arena += (size_t)co * hw;
      ch = co;
    }
    if (c->down_attention[i] || c->up_attention[i] || i == n - 1) {
      tok = zmax(tok, (size_t)co * hw);
      ctxc = zmax(ctxc, (size_t)co * n_ctx);
    }
    if (i < n - 1) {
      int H2, W2;
      level_size(u, h, w, i + 1, &H2, &W2);
      arena += (size_t)co * H2 * W2;
    }
    /* up block at this level: its first resnet sees [h of the level below | skip] */
    for (int j = 0; j <= lpb; j++) {
      const resnet *r = &u->up[i].res[j];
      cat = zmax(cat, (size_t)r->cin * hw);
      chw = zmax(chw, (size_t)r->cin * hw);
    }
    if (i < n - 1) { /* the upsampled tensor lives in the level's cat buffer too */
      chw = zmax(chw, (size_t)c->block_out_channels[i + 1] * hw);
      cat = zmax(cat, (size_t)c->block_out_channels[i + 1] * hw);
    }
  }
  cat = zmax(cat, chw);
  size_t slot = zmax(tok, ctxc), ff = 0; /* ff: the widest C x min(tokens, FF_CHUNK) */
  for (int i = 0; i < n; i++) {
    int H2, W2;
    level_size(u, h, w, i, &H2, &W2);
    size_t t = (size_t)H2 * W2 * nb < FF_CHUNK ? (size_t)H2 * W2 * nb : FF_CHUNK;
    if (c->down_attention[i] || c->up_attention[i] || i == n - 1) ff = zmax(ff, t * c->block_out_channels[i]);
  }
  /* everything above is per image */
  arena *= nb, cat *= nb, chw *= nb, tok *= nb, slot *= nb;
  size_t io = (size_t)nb * zmax((size_t)c->in_channels, (size_t)c->out_channels) * h * w;
  free_buffers(u);
  u->xin = malloc(io * sizeof(float));
  u->arena = malloc(arena * sizeof(float));
  u->cat[0] = malloc(cat * sizeof(float));
  u->cat[1] = malloc(cat * sizeof(float));
  u->s1 = malloc(chw * sizeof(float));
  u->s2 = malloc(chw * sizeof(float));
  u->tT = malloc(tok * sizeof(float));
  u->tN = malloc(tok * sizeof(float));
  u->tG = malloc(ff * 4 * sizeof(float));
  size_t qkva = zmax(4 * slot, 8 * ff);
  u->tQ = malloc(qkva * sizeof(float));
  u->bytes = (io + arena + 2 * cat + 2 * chw + 2 * tok + 4 * ff + qkva) * sizeof(float);
  if (!u->xin || !u->arena || !u->cat[0] || !u->cat[1] || !u->s1 || !u->s2 || !u->tT || !u->tN || !u->tG || !u->tQ) {
    u->bh = u->bw = u->bctx = u->bnb = 0;
    u->bytes = 0;
    return fail(A2I2A_ERR_NOMEM, "out of memory: the UNet needs %.0f MB of buffers for a %dx%d latent",
                (double)(io + arena + 2 * cat + 2 * chw + 2 * tok + 4 * ff + qkva) * 4 / 1e6, w, h);
  }
  u->tK = u->tQ + slot;
  u->tV = u->tK + slot;
  u->tA = u->tV + slot;
  u->tF = u->tQ;
  u->bh = h;
  u->bw = w;
  u->bctx = n_ctx;
  u->bnb = nb;
  return A2I2A_OK;
}

/* out = x + conv2(SiLU(GN2(conv1(SiLU(GN1(x))) + proj(SiLU(temb))))), x [cin][nb][H][W] */
static void resnet_forward(unet *u, const resnet *r, const float *x, int nb, int H, int W, float *out) {
  const unet_config *c = &u->cfg;
  int hw = H * W, cin = r->cin, cout = r->cout;
  float *n1 = u->s1, *h = u->s2;
  P(NORM, group_norm_batch(n1, x, cin, nb, hw, c->norm_groups, &r->norm1.w, &r->norm1.b, c->norm_eps, 1));
  P(CONV3, conv2d_batch(h, n1, nb, cin, H, W, &r->conv1.w, &r->conv1.b, cout, 3, 1, 1, 1, 0));
  linear(u->tvec, u->temb_silu, nb, c->time_embed_dim, cout, &r->temb.w, &r->temb.b);
  for (int ch = 0; ch < cout; ch++)
    for (int b = 0; b < nb; b++) {
      float tv = u->tvec[(size_t)b * cout + ch], *hc = h + ((size_t)ch * nb + b) * hw;
      for (int i = 0; i < hw; i++) hc[i] += tv;
    }
  P(NORM, group_norm_batch(h, h, cout, nb, hw, c->norm_groups, &r->norm2.w, &r->norm2.b, c->norm_eps, 1));
  /* the shortcut first, then conv2 accumulated onto it */
  if (r->shortcut.w.data)
    P(CONV1, conv2d_batch(out, x, nb, cin, H, W, &r->shortcut.w, &r->shortcut.b, cout, 1, 1, 0, 1, 0));
  else memcpy(out, x, sizeof(float) * (size_t)cout * nb * hw);
  P(CONV3, conv2d_batch(out, h, nb, cout, H, W, &r->conv2.w, &r->conv2.b, cout, 3, 1, 1, 1, 1));
}

/* Spatial transformer, in place on x [C][nb][hw]: x += proj_out(blocks(proj_in(GN(x)))).
 * The tokens of the batch are [nb][hw][C]: every linear layer takes them all at once; the
 * attention runs per image, on its own context ctx [nb][n_ctx][dim]. */
static void xformer_forward(unet *u, const xformer *t, float *x, int nb, int hw, const float *ctx, int n_ctx) {
  const unet_config *c = &u->cfg;
  int C = t->c, hd = C / t->heads, nt = nb * hw, dctx = c->cross_attention_dim;
  float scale = 1.0f / sqrtf((float)hd);
  size_t n = (size_t)C * nt, img = (size_t)hw * C, kv = (size_t)n_ctx * C;
  float *S = u->s1, *T = u->tT, *N = u->tN;
  P(NORM, group_norm_batch(S, x, C, nb, hw, c->norm_groups, &t->norm.w, &t->norm.b, 1e-6f, 0));
  if (c->linear_projection) {
    P(OTHER, transpose_chw_hwc(N, S, C, nt));
    P(QKV, linear(T, N, nt, C, C, &t->proj_in.w, &t->proj_in.b));
  } else {
    P(QKV, conv2d(N, S, C, 1, nt, &t->proj_in.w, &t->proj_in.b, C, 1, 1, 0, 0, 0, 0));
    P(OTHER, transpose_chw_hwc(T, N, C, nt));
  }
  for (int d = 0; d < t->depth; d++) {
    const tblock *b = &t->blocks[d];
    /* self-attention */
    P(NORM, layer_norm(N, T, nt, C, &b->norm1.w, &b->norm1.b, 1e-5f));
    P(QKV, linear(u->tQ, N, nt, C, C, &b->q1.w, NULL));
    P(QKV, linear(u->tK, N, nt, C, C, &b->k1.w, NULL));
    P(QKV, linear(u->tV, N, nt, C, C, &b->v1.w, NULL));
    for (int i = 0; i < nb; i++)
      P(ATT_SELF, attention(u->tA + i * img, u->tQ + i * img, C, u->tK + i * img, u->tV + i * img, C, hw, hw,
                              t->heads, hd, scale, 0));
    P(QKV, linear_add(T, u->tA, nt, C, C, &b->o1.w, &b->o1.b));
    /* cross-attention on the text */
    P(NORM, layer_norm(N, T, nt, C, &b->norm2.w, &b->norm2.b, 1e-5f));
    P(QKV, linear(u->tQ, N, nt, C, C, &b->q2.w, NULL));
    P(QKV, linear(u->tK, ctx, nb * n_ctx, dctx, C, &b->k2.w, NULL));
    P(QKV, linear(u->tV, ctx, nb * n_ctx, dctx, C, &b->v2.w, NULL));
    for (int i = 0; i < nb; i++)
      P(ATT_CROSS, attention(u->tA + i * img, u->tQ + i * img, C, u->tK + i * kv, u->tV + i * kv, C, hw, n_ctx,
                               t->heads, hd, scale, 0));
    P(QKV, linear_add(T, u->tA, nt, C, C, &b->o2.w, &b->o2.b));
    /* GEGLU feed-forward */
    P(NORM, layer_norm(N, T, nt, C, &b->norm3.w, &b->norm3.b, 1e-5f));
    for (int r0 = 0; r0 < nt; r0 += FF_CHUNK) { /* in token chunks: the 8C-wide hidden stays small */
      int nr = nt - r0 < FF_CHUNK ? nt - r0 : FF_CHUNK;
      P(FF, linear(u->tF, N + (size_t)r0 * C, nr, C, 8 * C, &b->ff1.w, &b->ff1.b));
      P(GEGLU, geglu(u->tG, u->tF, nr, 4 * C));
      P(FF, linear_add(T + (size_t)r0 * C, u->tG, nr, 4 * C, C, &b->ff2.w, &b->ff2.b));
    }
  }
  if (c->linear_projection) {
    P(QKV, linear(N, T, nt, C, C, &t->proj_out.w, &t->proj_out.b));
    P(OTHER, transpose_hwc_chw(S, N, C, nt));
  } else {
    P(OTHER, transpose_hwc_chw(N, T, C, nt));
    P(QKV, conv2d(S, N, C, 1, nt, &t->proj_out.w, &t->proj_out.b, C, 1, 1, 0, 0, 0, 0));
  }
  P(OTHER, add(x, S, n));
}

a2i2a_status unet_forward_batch(unet *u, int nb, const float *x, int h, int w, const float *t, const float *ctx,
                                int n_ctx, float *out) {
  const unet_config *c = &u->cfg;
  if (h < 1 || w < 1 || n_ctx < 1 || nb < 1 || nb > UNET_MAX_BATCH)
    return fail(A2I2A_ERR_PARAM, "UNet: bad input: %d images of %dx%d with %d context tokens", nb, w, h, n_ctx);
  a2i2a_status st = ensure_buffers(u, h, w, n_ctx, nb);
  if (st) return st;
  /* a kernel that cannot get its scratch skips its work: checked after every block */
  kernels_reset();
  double t_start = 0;
  if (u->prof) {
    memset(u->prof->kind, 0, sizeof u->prof->kind);
    t_start = prof_now(u->prof);
  }
  int n = c->n_levels, lpb = c->layers_per_block, td = c->time_embed_dim;
  size_t hw0 = (size_t)h * w;

  for (int i = 0; i < nb; i++) unet_time_embedding(u, t[i], NULL, u->temb + (size_t)i * td);
  memcpy(u->temb_silu, u->temb, sizeof(float) * (size_t)td * nb);
  silu(u->temb_silu, (size_t)td * nb); /* every resnet projects SiLU(temb) */

  /* [nb][C][h][w] -> [C][nb][h][w] */
  for (int ci = 0; ci < c->in_channels; ci++)
    for (int i = 0; i < nb; i++)
      memcpy(u->xin + ((size_t)ci * nb + i) * hw0, x + ((size_t)i * c->in_channels + ci) * hw0, hw0 * sizeof(float));

  /* down path: every output is written straight into its skip slot */
  skip stack[64];
  int nsk = 0;
  float *sp = u->arena;
  int H, W, ch = c->block_out_channels[0];
  level_size(u, h, w, 0, &H, &W);
  P(CONV3, conv2d_batch(sp, u->xin, nb, c->in_channels, H, W, &u->conv_in.w, &u->conv_in.b, ch, 3, 1, 1, 1, 0));
  stack[nsk++] = (skip){sp, ch, H, W};
  sp += (size_t)ch * nb * H * W;
  for (int i = 0; i < n; i++) {
    const ublock *b = &u->down[i];
    for (int j = 0; j < lpb; j++) {
      const skip *in = &stack[nsk - 1];
      resnet_forward(u, &b->res[j], in->p, nb, H, W, sp);
      release_resnet(u, &b->res[j]);
      ch = b->res[j].cout;
      if (b->attn[j].blocks) xformer_forward(u, &b->attn[j], sp, nb, H * W, ctx, n_ctx);
      release_xformer(u, &b->attn[j]);
      if ((st = kernels_check())) return st;
      stack[nsk++] = (skip){sp, ch, H, W};
      sp += (size_t)ch * nb * H * W;
    }
    if (b->sampler.w.data) {
      int H2, W2;
      level_size(u, h, w, i + 1, &H2, &W2);
      P(CONV1, conv2d_batch(sp, stack[nsk - 1].p, nb, ch, H, W, &b->sampler.w, &b->sampler.b, ch, 3, 2, 1, 1, 0));
      if (b->sampler_stream) release_affine(u, &b->sampler);
      H = H2;
      W = W2;
      stack[nsk++] = (skip){sp, ch, H, W};
      sp += (size_t)ch * nb * H * W;
    }
  }

  /* mid */
  float *cur = u->cat[0], *nxt = u->cat[1], *tmp;
  resnet_forward(u, &u->mid_res[0], stack[nsk - 1].p, nb, H, W, nxt);
  release_resnet(u, &u->mid_res[0]);
  xformer_forward(u, &u->mid_attn, nxt, nb, H * W, ctx, n_ctx);
  release_xformer(u, &u->mid_attn);
  resnet_forward(u, &u->mid_res[1], nxt, nb, H, W, cur);
  release_resnet(u, &u->mid_res[1]);
  if ((st = kernels_check())) return st;

  /* up path: cur holds h at its front; the skip goes right behind it: cat([h, skip]) */
  for (int lv = n - 1; lv >= 0; lv--) {
    const ublock *b = &u->up[lv];
    for (int j = 0; j < b->n_res; j++) {
      const skip *s = &stack[--nsk];
      memcpy(cur + (size_t)ch * nb * H * W, s->p, sizeof(float) * (size_t)s->c * nb * H * W);
      resnet_forward(u, &b->res[j], cur, nb, H, W, nxt);
      release_resnet(u, &b->res[j]);
      ch = b->res[j].cout;
      if (b->attn[j].blocks) xformer_forward(u, &b->attn[j], nxt, nb, H * W, ctx, n_ctx);
      release_xformer(u, &b->attn[j]);
      if ((st = kernels_check())) return st;
      tmp = cur, cur = nxt, nxt = tmp;
    }
    if (b->sampler.w.data) {
      /* nearest-neighbour up to the exact size of the skip it meets next (×2 when it divides) */
      int H2 = stack[nsk - 1].h, W2 = stack[nsk - 1].w;
      if (H2 == 2 * H && W2 == 2 * W) {
        P(CONV1, conv2d_batch(nxt, cur, nb, ch, H, W, &b->sampler.w, &b->sampler.b, ch, 3, 1, 1, 2, 0));
      } else {
        P(OTHER, upsample_nearest(u->s1, cur, ch * nb, H, W, H2, W2));
        P(CONV1, conv2d_batch(nxt, u->s1, nb, ch, H2, W2, &b->sampler.w, &b->sampler.b, ch, 3, 1, 1, 1, 0));
      }
      if (b->sampler_stream) release_affine(u, &b->sampler);
      H = H2;
      W = W2;
      tmp = cur, cur = nxt, nxt = tmp;
    }
  }

  /* out, back to [nb][C][h][w] */
  P(NORM, group_norm_batch(u->s1, cur, ch, nb, H * W, c->norm_groups, &u->norm_out.w, &u->norm_out.b, c->norm_eps, 1));
  P(CONV3, conv2d_batch(u->xin, u->s1, nb, ch, H, W, &u->conv_out.w, &u->conv_out.b, c->out_channels, 3, 1, 1, 1, 0));
  if ((st = kernels_check())) return st;
  for (int co = 0; co < c->out_channels; co++)
    for (int i = 0; i < nb; i++)
      memcpy(out + ((size_t)i * c->out_channels + co) * hw0, u->xin + ((size_t)co * nb + i) * hw0, hw0 * sizeof(float));
  if (u->prof) u->prof->total = prof_now(u->prof) - t_start;
  return A2I2A_OK;
}

a2i2a_status unet_forward(unet *u, const float *x, int h, int w, float t, const float *ctx, int n_ctx, float *out) {
  return unet_forward_batch(u, 1, x, h, w, &t, ctx, n_ctx, out);
}

/* ------------------------------------------------------------------------ cost */

static double resnet_flops(const unet *u, const resnet *r, double hw) {
  double f = 2.0 * r->cout * r->cin * 9 * hw + 2.0 * r->cout * r->cout * 9 * hw + 2.0 * u->cfg.time_embed_dim * r->cout;
  if (r->shortcut.w.numel) f += 2.0 * r->cout * r->cin * hw;
  return f;
}

static double xformer_flops(const unet *u, const xformer *t, double hw, int n_ctx) {
  double C = t->c, d = u->cfg.cross_attention_dim;
  double blk = 8 * hw * C * C + 4 * hw * hw * C           /* self: q, k, v, out; scores and values */
               + 4 * hw * C * C + 4 * n_ctx * d * C + 4 * hw * n_ctx * C /* cross */
               + 24 * hw * C * C;                          /* GEGLU feed-forward: C -> 8C, 4C -> C */
  return 4 * hw * C * C + t->depth * blk;
}

double unet_flops(const unet *u, int h, int w, int n_ctx) {
  const unet_config *c = &u->cfg;
  int n = c->n_levels, H, W;
  level_size(u, h, w, 0, &H, &W);
  double f = 2.0 * c->block_out_channels[0] * 9 * (c->in_channels + c->out_channels) * H * W;
  for (int i = 0; i < n; i++) {
    level_size(u, h, w, i, &H, &W);
    double hw = (double)H * W;
    for (int j = 0; j < u->down[i].n_res; j++) {
      f += resnet_flops(u, &u->down[i].res[j], hw);
      if (u->down[i].attn[j].blocks) f += xformer_flops(u, &u->down[i].attn[j], hw, n_ctx);
    }
    for (int j = 0; j < u->up[i].n_res; j++) {
      f += resnet_flops(u, &u->up[i].res[j], hw);
      if (u->up[i].attn[j].blocks) f += xformer_flops(u, &u->up[i].attn[j], hw, n_ctx);
    }
    double cc = c->block_out_channels[i];
    if (i < n - 1) { /* downsampler to level i+1, upsampler from level i+1 (its channels) */
      int H2, W2;
      level_size(u, h, w, i + 1, &H2, &W2);
      f += 2.0 * cc * cc * 9 * H2 * W2;
      double cu = c->block_out_channels[i + 1];
      f += 2.0 * cu * cu * 9 * hw;
    }
  }
  level_size(u, h, w, n - 1, &H, &W);
  f += resnet_flops(u, &u->mid_res[0], (double)H * W) + xformer_flops(u, &u->mid_attn, (double)H * W, n_ctx) +
       resnet_flops(u, &u->mid_res[1], (double)H * W);
  return f;
}
