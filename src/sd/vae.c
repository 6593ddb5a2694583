/* The VAE: diffusers AutoencoderKL (README §7.4 of the fixtures).
 *
 * Encoder: conv_in → down blocks (resnets, then the asymmetric-padding stride-2 downsample
 * except in the last block) → mid (resnet, one-head attention, resnet) → GroupNorm → SiLU →
 * conv_out → quant_conv. Decoder: post_quant_conv → conv_in → mid → up blocks (resnets, then
 * nearest ×2 + conv except in the last block) → GroupNorm → SiLU → conv_out.
 *
 * Weights stay in the checkpoint's mapping (F16/BF16 converted per layer by the kernels).
 * Activations live in three buffers reserved at the start of a pass (sized from the largest
 * level's: about three full-resolution activations) and recycled block after block; they are
 * freed when the pass ends. */
#include "sd/vae.h"
#include "sd/kernels.h"
#include "common/err.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define VAE_MAX_BLOCKS 8
#define VAE_MAX_LAYERS 6
#define VAE_EPS 1e-6f

typedef struct { weight g, b; } norm_w;
typedef struct { weight w, b; } conv_w;
typedef struct {
  int in, out;
  norm_w norm1, norm2;
  conv_w conv1, conv2, shortcut; /* shortcut.w.data NULL when in == out */
} resnet_w;
typedef struct {
  int C;
  norm_w norm;
  conv_w q, k, v, out; /* Linear [C][C] (diffusers) or 1x1 conv [C][C][1][1] (LDM) */
} attn_w;

/* Activation buffers are recycled between blocks: the same few sizes come back block after
 * block, and fresh pages cost a fault each (on a VM, about a tenth of the VAE's time). */
#define VAE_POOL 12
typedef struct {
  float *p;
  size_t cap; /* floats */
  int used;
} vae_buf;

struct vae {
  vae_buf pool[VAE_POOL];
  int in_ch, out_ch, latent, nblocks, layers, groups;
  int ch[VAE_MAX_BLOCKS];
  float scaling;
  /* encoder */
  conv_w enc_in, enc_down[VAE_MAX_BLOCKS], enc_out, quant;
  resnet_w enc_res[VAE_MAX_BLOCKS][VAE_MAX_LAYERS], enc_mid[2];
  attn_w enc_attn;
  norm_w enc_norm;
  /* decoder (up block i of diffusers order: channels ch[nblocks-1-i]) */
  conv_w post_quant, dec_in, dec_up[VAE_MAX_BLOCKS], dec_out;
  resnet_w dec_res[VAE_MAX_BLOCKS][VAE_MAX_LAYERS + 1], dec_mid[2];
  attn_w dec_attn;
  norm_w dec_norm;
};

/* ------------------------------------------------------------------ loading */

typedef struct {
  const sd_model *m;
  int ldm;
} loader;

/* Looks up the diffusers name d (or the LDM name l, prefixed with first_stage_model.). */
static a2i2a_status get(const loader *L, weight *w, const char *d, const char *l, size_t numel) {
  char name[512];
  if (L->ldm) snprintf(name, sizeof name, "first_stage_model.%s", l);
  else snprintf(name, sizeof name, "%s", d);
  const st_tensor *t = sd_tensor(L->m, SD_VAE, name);
  if (!t)
    return fail(A2I2A_ERR_MODEL, "%s: the VAE tensor %s is missing", L->m->file[L->ldm ? 0 : SD_VAE].path, name);
  a2i2a_status st = weight_from_tensor(w, t, numel);
  if (st) fail_prefix(L->m->file[L->ldm ? 0 : SD_VAE].path);
  return st;
}

static a2i2a_status get_conv(const loader *L, conv_w *c, const char *d, const char *l, int out, int in, int k) {
  char dn[512], ln[512];
  snprintf(dn, sizeof dn, "%s.weight", d), snprintf(ln, sizeof ln, "%s.weight", l);
  a2i2a_status st = get(L, &c->w, dn, ln, (size_t)out * in * k * k);
  if (st) return st;
  snprintf(dn, sizeof dn, "%s.bias", d), snprintf(ln, sizeof ln, "%s.bias", l);
  return get(L, &c->b, dn, ln, (size_t)out);
}

static a2i2a_status get_norm(const loader *L, norm_w *n, const char *d, const char *l, int C) {
  char dn[512], ln[512];
  snprintf(dn, sizeof dn, "%s.weight", d), snprintf(ln, sizeof ln, "%s.weight", l);
  a2i2a_status st = get(L, &n->g, dn, ln, (size_t)C);
  if (st) return st;
  snprintf(dn, sizeof dn, "%s.bias", d), snprintf(ln, sizeof ln, "%s.bias", l);
  return get(L, &n->b, dn, ln, (size_t)C);
}

static a2i2a_status get_resnet(const loader *L, resnet_w *r, const char *d, const char *l, int in, int out) {
  char dn[512], ln[512];
  a2i2a_status st;
  r->in = in, r->out = out;
#define SUB(dd, ll) (snprintf(dn, sizeof dn, "%s." dd, d), snprintf(ln, sizeof ln, "%s." ll, l))
  SUB("norm1", "norm1");
  if ((st = get_norm(L, &r->norm1, dn, ln, in))) return st;
  SUB("conv1", "conv1");
  if ((st = get_conv(L, &r->conv1, dn, ln, out, in, 3))) return st;
  SUB("norm2", "norm2");
  if ((st = get_norm(L, &r->norm2, dn, ln, out))) return st;
  SUB("conv2", "conv2");
  if ((st = get_conv(L, &r->conv2, dn, ln, out, out, 3))) return st;
  memset(&r->shortcut, 0, sizeof r->shortcut);
  if (in != out) {
    SUB("conv_shortcut", "nin_shortcut");
    if ((st = get_conv(L, &r->shortcut, dn, ln, out, in, 1))) return st;
  }
#undef SUB
  return A2I2A_OK;
}

static a2i2a_status get_attn(const loader *L, attn_w *a, const char *d, const char *l, int C) {
  char dn[512], ln[512];
  a2i2a_status st;
  a->C = C;
  static const char *dp[] = {"group_norm", "to_q", "to_k", "to_v", "to_out.0"};
  static const char *lp[] = {"norm", "q", "k", "v", "proj_out"};
  snprintf(dn, sizeof dn, "%s.%s", d, dp[0]), snprintf(ln, sizeof ln, "%s.%s", l, lp[0]);
  if ((st = get_norm(L, &a->norm, dn, ln, C))) return st;
  conv_w *c[4] = {&a->q, &a->k, &a->v, &a->out};
  for (int i = 0; i < 4; i++) {
    snprintf(dn, sizeof dn, "%s.%s", d, dp[i + 1]), snprintf(ln, sizeof ln, "%s.%s", l, lp[i + 1]);
    if ((st = get_conv(L, c[i], dn, ln, C, C, 1))) return st; /* [C][C] or [C][C][1][1]; bias [C] or [C][1][1] */
  }
  return A2I2A_OK;
}

/* The architecture from vae/config.json, or inferred from the LDM tensor shapes. */
static a2i2a_status read_config(vae *v, const sd_model *m, int ldm) {
  const char *where = m->file[ldm ? 0 : SD_VAE].path;
  v->groups = 32;
  v->scaling = 0.18215f;
  if (!ldm) {
    const cJSON *c = m->config[SD_VAE];
    char cfg[4200];
    snprintf(cfg, sizeof cfg, "%s/vae/config.json", m->path);
    double scaling;
    a2i2a_status st;
    if ((st = sd_config_int(c, cfg, "in_channels", 3, 1, SD_MAX_IO_CHANNELS, &v->in_ch)) ||
        (st = sd_config_int(c, cfg, "out_channels", 3, 1, SD_MAX_IO_CHANNELS, &v->out_ch)) ||
        (st = sd_config_int(c, cfg, "latent_channels", 4, 1, SD_MAX_IO_CHANNELS, &v->latent)) ||
        (st = sd_config_int(c, cfg, "layers_per_block", 1, 1, VAE_MAX_LAYERS, &v->layers)) ||
        (st = sd_config_int(c, cfg, "norm_num_groups", 32, 1, SD_MAX_GROUPS, &v->groups)) ||
        (st = sd_config_value(cJSON_GetObjectItemCaseSensitive(c, "scaling_factor"), cfg, "scaling_factor", 0.18215,
                              1e-6, 1e3, 0, &scaling)))
      return st;
    v->scaling = (float)scaling;
    const cJSON *boc = cJSON_GetObjectItemCaseSensitive(c, "block_out_channels");
    v->nblocks = cJSON_GetArraySize(boc);
    if (!cJSON_IsArray(boc) || v->nblocks < 1 || v->nblocks > VAE_MAX_BLOCKS)
      return fail(A2I2A_ERR_MODEL, "%s: vae/config.json: block_out_channels missing or not 1 to %d numbers", where,
                  VAE_MAX_BLOCKS);
    if ((st = sd_config_ints(c, cfg, "block_out_channels", v->nblocks, 0, 1, SD_MAX_WIDTH, v->ch))) return st;
    const cJSON *types = cJSON_GetObjectItemCaseSensitive(c, "down_block_types");
    for (int i = 0; i < cJSON_GetArraySize(types); i++) {
      const cJSON *t = cJSON_GetArrayItem(types, i);
      if (!cJSON_IsString(t) || strcmp(t->valuestring, "DownEncoderBlock2D"))
        return fail(A2I2A_ERR_UNSUPPORTED, "%s: vae/config.json: down block type %s is not supported", where,
                    cJSON_IsString(t) ? t->valuestring : "?");
    }
    const char *act = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "act_fn"));
    if (act && strcmp(act, "silu"))
      return fail(A2I2A_ERR_UNSUPPORTED, "%s: vae/config.json: act_fn %s is not supported", where, act);
  } else {
    char name[256];
    const st_tensor *t = sd_tensor(m, SD_VAE, "first_stage_model.encoder.conv_in.weight");
    if (!t || t->ndim != 4) return fail(A2I2A_ERR_MODEL, "%s: first_stage_model.encoder.conv_in.weight missing", where);
    v->in_ch = (int)t->shape[1];
    t = sd_tensor(m, SD_VAE, "first_stage_model.decoder.conv_out.weight");
    if (!t || t->ndim != 4) return fail(A2I2A_ERR_MODEL, "%s: first_stage_model.decoder.conv_out.weight missing", where);
    v->out_ch = (int)t->shape[0];
    t = sd_tensor(m, SD_VAE, "first_stage_model.quant_conv.weight");
    if (!t || t->ndim < 1) return fail(A2I2A_ERR_MODEL, "%s: first_stage_model.quant_conv.weight missing", where);
    v->latent = (int)t->shape[0] / 2;
    for (v->nblocks = 0; v->nblocks < VAE_MAX_BLOCKS + 1; v->nblocks++) {
      snprintf(name, sizeof name, "first_stage_model.encoder.down.%d.block.0.conv1.weight", v->nblocks);
      if (!(t = sd_tensor(m, SD_VAE, name))) break;
      if (v->nblocks < VAE_MAX_BLOCKS) v->ch[v->nblocks] = (int)t->shape[0];
    }
    if (v->nblocks < 1 || v->nblocks > VAE_MAX_BLOCKS)
      return fail(A2I2A_ERR_MODEL, "%s: cannot infer the VAE's blocks (first_stage_model.encoder.down.N)", where);
    for (v->layers = 0; v->layers <= VAE_MAX_LAYERS; v->layers++) {
      snprintf(name, sizeof name, "first_stage_model.encoder.down.0.block.%d.conv1.weight", v->layers);
      if (!sd_tensor(m, SD_VAE, name)) break;
    }
  }
  if (v->layers < 1 || v->layers > VAE_MAX_LAYERS || v->latent < 1 || v->in_ch < 1 || v->out_ch < 1 ||
      v->groups < 1)
    return fail(A2I2A_ERR_MODEL, "%s: unsupported VAE configuration (%d layers per block, %d latent channels)", where,
                v->layers, v->latent);
  for (int i = 0; i < v->nblocks; i++)
    if (v->ch[i] < 1 || v->ch[i] % v->groups)
      return fail(A2I2A_ERR_MODEL, "%s: VAE block %d has %d channels, not a multiple of %d groups", where, i,
                  v->ch[i], v->groups);
  return A2I2A_OK;
}

a2i2a_status vae_load(vae **out, const sd_model *m) {
  *out = NULL;
  vae *v = calloc(1, sizeof *v);
  if (!v) return fail(A2I2A_ERR_NOMEM, "out of memory (VAE)");
  loader L = {m, m->layout == SD_LAYOUT_LDM};
  a2i2a_status st = read_config(v, m, L.ldm);
  char d[256], l[256];
  int n = v->nblocks, top = n ? v->ch[n - 1] : 0;
  if (st) goto done;
  /* encoder */
  if ((st = get_conv(&L, &v->enc_in, "encoder.conv_in", "encoder.conv_in", v->ch[0], v->in_ch, 3))) goto done;
  for (int i = 0, prev = v->ch[0]; i < n; i++) {
    for (int j = 0; j < v->layers; j++) {
      snprintf(d, sizeof d, "encoder.down_blocks.%d.resnets.%d", i, j);
      snprintf(l, sizeof l, "encoder.down.%d.block.%d", i, j);
      if ((st = get_resnet(&L, &v->enc_res[i][j], d, l, j ? v->ch[i] : prev, v->ch[i]))) goto done;
    }
    prev = v->ch[i];
    if (i < n - 1) {
      snprintf(d, sizeof d, "encoder.down_blocks.%d.downsamplers.0.conv", i);
      snprintf(l, sizeof l, "encoder.down.%d.downsample.conv", i);
      if ((st = get_conv(&L, &v->enc_down[i], d, l, v->ch[i], v->ch[i], 3))) goto done;
    }
  }
  if ((st = get_resnet(&L, &v->enc_mid[0], "encoder.mid_block.resnets.0", "encoder.mid.block_1", top, top)) ||
      (st = get_attn(&L, &v->enc_attn, "encoder.mid_block.attentions.0", "encoder.mid.attn_1", top)) ||
      (st = get_resnet(&L, &v->enc_mid[1], "encoder.mid_block.resnets.1", "encoder.mid.block_2", top, top)) ||
      (st = get_norm(&L, &v->enc_norm, "encoder.conv_norm_out", "encoder.norm_out", top)) ||
      (st = get_conv(&L, &v->enc_out, "encoder.conv_out", "encoder.conv_out", 2 * v->latent, top, 3)) ||
      (st = get_conv(&L, &v->quant, "quant_conv", "quant_conv", 2 * v->latent, 2 * v->latent, 1)))
    goto done;
  /* decoder */
  if ((st = get_conv(&L, &v->post_quant, "post_quant_conv", "post_quant_conv", v->latent, v->latent, 1)) ||
      (st = get_conv(&L, &v->dec_in, "decoder.conv_in", "decoder.conv_in", top, v->latent, 3)) ||
      (st = get_resnet(&L, &v->dec_mid[0], "decoder.mid_block.resnets.0", "decoder.mid.block_1", top, top)) ||
      (st = get_attn(&L, &v->dec_attn, "decoder.mid_block.attentions.0", "decoder.mid.attn_1", top)) ||
      (st = get_resnet(&L, &v->dec_mid[1], "decoder.mid_block.resnets.1", "decoder.mid.block_2", top, top)))
    goto done;
  for (int i = 0, prev = top; i < n; i++) {
    int c = v->ch[n - 1 - i], li = n - 1 - i; /* LDM numbers the up blocks in reverse */
    for (int j = 0; j <= v->layers; j++) {
      snprintf(d, sizeof d, "decoder.up_blocks.%d.resnets.%d", i, j);
      snprintf(l, sizeof l, "decoder.up.%d.block.%d", li, j);
      if ((st = get_resnet(&L, &v->dec_res[i][j], d, l, j ? c : prev, c))) goto done;
    }
    prev = c;
    if (i < n - 1) {
      snprintf(d, sizeof d, "decoder.up_blocks.%d.upsamplers.0.conv", i);
      snprintf(l, sizeof l, "decoder.up.%d.upsample.conv", li);
      if ((st = get_conv(&L, &v->dec_up[i], d, l, c, c, 3))) goto done;
    }
  }
  if ((st = get_norm(&L, &v->dec_norm, "decoder.conv_norm_out", "decoder.norm_out", v->ch[0])) ||
      (st = get_conv(&L, &v->dec_out, "decoder.conv_out", "decoder.conv_out", v->out_ch, v->ch[0], 3)))
    goto done;
done:
  if (st) {
    free(v);
    return st;
  }
  *out = v;
  return A2I2A_OK;
}

static void pool_clear(vae *v);

void vae_free(vae *v) {
  if (v) pool_clear(v);
  free(v);
}
float vae_scaling_factor(const vae *v) { return v->scaling; }

void vae_dims(const vae *v, int *factor, int *latent_channels, int *image_channels) {
  if (factor) *factor = 1 << (v->nblocks - 1);
  if (latent_channels) *latent_channels = v->latent;
  if (image_channels) *image_channels = v->out_ch;
}

/* ------------------------------------------------------------------ posterior */

void vae_clamp_logvar(float *logvar, size_t n) {
  for (size_t i = 0; i < n; i++) logvar[i] = logvar[i] < -30.0f ? -30.0f : logvar[i] > 20.0f ? 20.0f : logvar[i];
}

void vae_sample(float *sample, const float *mean, const float *logvar, const float *noise, size_t n) {
  for (size_t i = 0; i < n; i++) sample[i] = mean[i] + expf(0.5f * logvar[i]) * noise[i];
}

/* ------------------------------------------------------------------ forward */

/* A buffer of at least n floats: the smallest free one that fits, else a new one (the free
 * ones that did not fit are released first, so that memory follows the current block size).
 * Big buffers are 2 MB aligned and ask for transparent huge pages. */
static float *act(vae *v, size_t n) {
  int best = -1;
  for (int i = 0; i < VAE_POOL; i++)
    if (v->pool[i].p && !v->pool[i].used && v->pool[i].cap >= n && (best < 0 || v->pool[i].cap < v->pool[best].cap))
      best = i;
  if (best < 0) {
    for (int i = 0; i < VAE_POOL; i++)
      if (v->pool[i].p && !v->pool[i].used) {
        free(v->pool[i].p);
        v->pool[i].p = NULL;
      }
    for (int i = 0; i < VAE_POOL && best < 0; i++)
      if (!v->pool[i].p) best = i;
    if (best < 0) {
      fail(A2I2A_ERR_INTERNAL, "VAE: more than %d live activations", VAE_POOL);
      return NULL;
    }
    size_t align = 2u << 20, bytes = (n * sizeof(float) + align - 1) / align * align;
    float *p = aligned_alloc(align, bytes);
    if (!p) {
      fail(A2I2A_ERR_NOMEM, "out of memory (VAE activation of %zu MB)", bytes >> 20);
      return NULL;
    }
    madvise(p, bytes, MADV_HUGEPAGE);
    v->pool[best].p = p;
    v->pool[best].cap = bytes / sizeof(float);
  }
  v->pool[best].used = 1;
  return v->pool[best].p;
}

/* Gives a buffer back to the pool (NULL is fine). */
static void rel(vae *v, float *p) {
  for (int i = 0; p && i < VAE_POOL; i++)
    if (v->pool[i].p == p) v->pool[i].used = 0;
}

/* Frees every buffer: between calls the VAE holds no activation memory. */
static void pool_clear(vae *v) {
  for (int i = 0; i < VAE_POOL; i++) {
    free(v->pool[i].p);
    v->pool[i].p = NULL;
    v->pool[i].used = 0;
  }
}

/* Puts buffers of the given sizes (floats, largest first) into the pool before a pass, so that
 * every activation of the pass lands in memory the pass touched before: grown block by block,
 * the pool freed its smaller buffers at each step up in size and faulted fresh ones in again,
 * about twice the peak in page faults (~10 % of a decode on this VM). Best fit then places each
 * activation; what does not fit still gets its own buffer. 0 when out of memory. */
static int reserve(vae *v, const size_t *sizes, int k) {
  float *p[VAE_POOL] = {0};
  int ok = 1;
  for (int i = 0; i < k && ok; i++) ok = (p[i] = act(v, sizes[i])) != NULL;
  for (int i = 0; i < k; i++) rel(v, p[i]);
  return ok;
}

static void conv3(float *y, const float *x, int C, int H, int W, const conv_w *c, int OC) {
  conv2d(y, x, C, H, W, &c->w, &c->b, OC, 3, 1, 1, 1, 1, 1);
}

/* ResnetBlock2D without time embedding. Takes ownership of x; returns the output or NULL.
 * Where the convolutions take the GroupNorm + SiLU as they read (conv3x3_takes_norm: the
 * Winograd path) the normalised input is never written out. */
static float *resnet(vae *v, const resnet_w *r, float *x, int H, int W) {
  size_t hw = (size_t)H * W;
  int fused1 = conv3x3_takes_norm(r->in, H, W, r->out), fused2 = conv3x3_takes_norm(r->out, H, W, r->out);
  float *out, *t = NULL; /* t: conv1's normalised input where it is written out */
  if (r->shortcut.w.data) { /* out = shortcut(x); x itself becomes the normalised input */
    if (!(out = act(v, r->out * hw))) goto oom;
    conv2d(out, x, r->in, H, W, &r->shortcut.w, &r->shortcut.b, r->out, 1, 1, 0, 0, 0, 0);
    t = x;
  } else { /* out = x (the residual); normalise into a copy unless fused */
    out = x;
    if (!fused1 && !(t = act(v, r->in * hw))) goto oom;
  }
  float *h = act(v, r->out * hw);
  if (!h) {
    rel(v, t);
    if (out != x) rel(v, out);
    return NULL;
  }
  if (fused1) {
    conv3x3_norm_silu(h, x, r->in, H, W, v->groups, &r->norm1.g, &r->norm1.b, VAE_EPS, &r->conv1.w, &r->conv1.b,
                      r->out, 0);
  } else {
    group_norm_silu(t, x, r->in, (int)hw, v->groups, &r->norm1.g, &r->norm1.b, VAE_EPS);
    conv3(h, t, r->in, H, W, &r->conv1, r->out);
  }
  rel(v, t);
  if (fused2) {
    conv3x3_norm_silu(out, h, r->out, H, W, v->groups, &r->norm2.g, &r->norm2.b, VAE_EPS, &r->conv2.w,
                      &r->conv2.b, r->out, 1);
  } else {
    group_norm_silu(h, h, r->out, (int)hw, v->groups, &r->norm2.g, &r->norm2.b, VAE_EPS);
    conv2d_add(out, h, r->out, H, W, &r->conv2.w, &r->conv2.b, r->out, 3, 1, 1, 1, 1, 1);
  }
  rel(v, h);
  return out;
oom:
  rel(v, x);
  return NULL;
}

/* The mid-block attention: one head over all H·W positions, residual added in place to x. */
static int attention_block(vae *v, const attn_w *a, float *x, int H, int W) {
  int C = a->C, hw = H * W;
  size_t n = (size_t)C * hw;
  float *h = act(v, n), *t = act(v, n), *q = act(v, n), *k = act(v, n), *val = act(v, n);
  int ok = h && t && q && k && val;
  if (ok) {
    group_norm(h, x, C, hw, v->groups, &a->norm.g, &a->norm.b, VAE_EPS);
    transpose_chw_hwc(t, h, C, hw);
    linear(q, t, hw, C, C, &a->q.w, &a->q.b);
    linear(k, t, hw, C, C, &a->k.w, &a->k.b);
    linear(val, t, hw, C, C, &a->v.w, &a->v.b);
    attention(h, q, C, k, val, C, hw, hw, 1, C, 1.0f / sqrtf((float)C), 0);
    linear(t, h, hw, C, C, &a->out.w, &a->out.b);
    transpose_hwc_chw(h, t, C, hw);
    add(x, h, n);
  }
  rel(v, h), rel(v, t), rel(v, q), rel(v, k), rel(v, val);
  return ok;
}

/* A kernel that cannot get its scratch skips its work (kernels.h): stop after the block. The
 * activations are the pool's, freed by pool_clear whichever way encode/decode return. */
#define KERNELS_CHECK()                       \
  do {                                        \
    a2i2a_status kst_ = kernels_check();      \
    if (kst_) return kst_;                    \
  } while (0)

static a2i2a_status encode(vae *v, const float *image, int H, int W, float *mean, float *logvar) {
  int f = 1 << (v->nblocks - 1);
  if (H < f || W < f || H % f || W % f)
    return fail(A2I2A_ERR_PARAM, "VAE encode: image size %dx%d is not a positive multiple of %d", W, H, f);
  /* at most three activations live at once outside the small mid block: the largest level's
   * three, with the first level the largest (the conv_in output is ch[0]·H·W) */
  size_t slot = (size_t)v->ch[0] * H * W;
  for (int i = 1; i < v->nblocks; i++) {
    size_t s = (size_t)(v->ch[i] > v->ch[i - 1] ? v->ch[i] : v->ch[i - 1]) * (H >> i) * (W >> i);
    if (s > slot) slot = s;
  }
  size_t slots[3] = {slot, slot, slot};
  if (!reserve(v, slots, 3)) return A2I2A_ERR_NOMEM;
  float *x = act(v, (size_t)v->ch[0] * H * W);
  if (!x) return A2I2A_ERR_NOMEM;
  conv3(x, image, v->in_ch, H, W, &v->enc_in, v->ch[0]);
  for (int i = 0; i < v->nblocks; i++) {
    for (int j = 0; j < v->layers; j++)
      if (!(x = resnet(v, &v->enc_res[i][j], x, H, W))) return A2I2A_ERR_NOMEM;
    KERNELS_CHECK();
    if (i < v->nblocks - 1) { /* pad right and bottom by one, 3x3 stride 2 */
      float *y = act(v, (size_t)v->ch[i] * (H / 2) * (W / 2));
      if (!y) return rel(v, x), A2I2A_ERR_NOMEM;
      conv2d(y, x, v->ch[i], H, W, &v->enc_down[i].w, &v->enc_down[i].b, v->ch[i], 3, 2, 0, 0, 1, 1);
      rel(v, x);
      x = y, H /= 2, W /= 2;
    }
  }
  int top = v->ch[v->nblocks - 1], L = v->latent;
  size_t hw = (size_t)H * W;
  if (!(x = resnet(v, &v->enc_mid[0], x, H, W))) return A2I2A_ERR_NOMEM;
  if (!attention_block(v, &v->enc_attn, x, H, W)) return rel(v, x), A2I2A_ERR_NOMEM;
  if (!(x = resnet(v, &v->enc_mid[1], x, H, W))) return A2I2A_ERR_NOMEM;
  KERNELS_CHECK();
  group_norm_silu(x, x, top, (int)hw, v->groups, &v->enc_norm.g, &v->enc_norm.b, VAE_EPS);
  float *e = act(v, 2 * L * hw), *moments = act(v, 2 * L * hw);
  if (!e || !moments) return rel(v, x), rel(v, e), rel(v, moments), A2I2A_ERR_NOMEM;
  conv3(e, x, top, H, W, &v->enc_out, 2 * L);
  rel(v, x);
  conv2d(moments, e, 2 * L, H, W, &v->quant.w, &v->quant.b, 2 * L, 1, 1, 0, 0, 0, 0);
  KERNELS_CHECK();
  memcpy(mean, moments, L * hw * sizeof(float));
  memcpy(logvar, moments + L * hw, L * hw * sizeof(float));
  vae_clamp_logvar(logvar, L * hw);
  rel(v, e), rel(v, moments);
  return A2I2A_OK;
}

static a2i2a_status decode(vae *v, const float *latent, int h, int w, float *image) {
  if (h < 1 || w < 1) return fail(A2I2A_ERR_PARAM, "VAE decode: latent size %dx%d", w, h);
  int n = v->nblocks, top = v->ch[n - 1], L = v->latent, H = h, W = w;
  /* at most three activations live at once outside the small mid block: a level's input (the
   * upsampled output of the level below, the largest) and two of the level's own size */
  size_t level = 0, upsampled = 0;
  for (int i = 0; i < n; i++) {
    size_t hw = (size_t)h * w << 2 * i, s = (size_t)v->ch[n - 1 - i] * hw;
    if (s > level) level = s;
    if (i < n - 1 && 4 * s > upsampled) upsampled = 4 * s;
  }
  size_t slots[3] = {upsampled > level ? upsampled : level, level, level};
  if (!reserve(v, slots, 3)) return A2I2A_ERR_NOMEM;
  float *z = act(v, (size_t)L * h * w), *x = act(v, (size_t)top * h * w);
  if (!z || !x) return rel(v, z), rel(v, x), A2I2A_ERR_NOMEM;
  conv2d(z, latent, L, h, w, &v->post_quant.w, &v->post_quant.b, L, 1, 1, 0, 0, 0, 0);
  conv3(x, z, L, h, w, &v->dec_in, top);
  rel(v, z);
  if (!(x = resnet(v, &v->dec_mid[0], x, H, W))) return A2I2A_ERR_NOMEM;
  if (!attention_block(v, &v->dec_attn, x, H, W)) return rel(v, x), A2I2A_ERR_NOMEM;
  if (!(x = resnet(v, &v->dec_mid[1], x, H, W))) return A2I2A_ERR_NOMEM;
  KERNELS_CHECK();
  for (int i = 0; i < n; i++) {
    int c = v->ch[n - 1 - i];
    for (int j = 0; j <= v->layers; j++)
      if (!(x = resnet(v, &v->dec_res[i][j], x, H, W))) return A2I2A_ERR_NOMEM;
    KERNELS_CHECK();
    if (i < n - 1) { /* nearest x2 fused into the 3x3 conv's im2col */
      float *y = act(v, (size_t)c * 4 * H * W);
      if (!y) return rel(v, x), A2I2A_ERR_NOMEM;
      conv2d_up2(y, x, c, H, W, &v->dec_up[i].w, &v->dec_up[i].b, c, 3, 1);
      rel(v, x);
      x = y, H *= 2, W *= 2;
    }
  }
  group_norm_silu(x, x, v->ch[0], H * W, v->groups, &v->dec_norm.g, &v->dec_norm.b, VAE_EPS);
  conv3(image, x, v->ch[0], H, W, &v->dec_out, v->out_ch);
  rel(v, x);
  return kernels_check();
}

a2i2a_status vae_encode(vae *v, const float *image, int H, int W, float *mean, float *logvar) {
  kernels_reset();
  a2i2a_status st = encode(v, image, H, W, mean, logvar);
  pool_clear(v);
  return st;
}

a2i2a_status vae_decode(vae *v, const float *latent, int h, int w, float *image) {
  kernels_reset();
  a2i2a_status st = decode(v, latent, h, w, image);
  pool_clear(v);
  return st;
}

/* ------------------------------------------------------------------ tiles */

int vae_tile_plan(int n, int tile, int overlap, int *start, int *size) {
  if (tile < 1) tile = 1;
  if (overlap > tile / 3) overlap = tile / 3; /* a tile's two blends never meet */
  if (overlap < 0) overlap = 0;
  int k = 1, s = n;
  if (n > tile) {
    k = (n - overlap + (tile - overlap) - 1) / (tile - overlap);
    s = (n + (k - 1) * overlap + k - 1) / k; /* <= tile */
  }
  if (size) *size = s;
  /* evenly spread from 0 to n - s, rounded */
  for (int i = 0; start && i < k; i++) start[i] = k == 1 ? 0 : (int)(((long)(n - s) * i * 2 + (k - 1)) / (2 * (k - 1)));
  return k;
}

float vae_tile_weight(const int *start, int k, int size, int scale, int i, int x) {
  float wgt = 1.0f;
  int a = start[i] * scale, b = (start[i] + size) * scale;
  if (i > 0) { /* rising across the overlap with the tile before */
    int prev_end = (start[i - 1] + size) * scale;
    if (x < prev_end) wgt *= ((float)(x - a) + 0.5f) / (float)(prev_end - a);
  }
  if (i < k - 1) { /* falling across the overlap with the tile after */
    int next = start[i + 1] * scale;
    if (x >= next) wgt *= ((float)(b - x) - 0.5f) / (float)(b - next);
  }
  return wgt;
}

/* The tiles of an h×w latent: per axis their starts and one size (vae_tile_plan). */
typedef struct {
  int ky, kx, th, tw;
  int *sy, *sx;
} tile_grid;

static a2i2a_status grid_plan(tile_grid *g, int h, int w, int tile, int overlap) {
  g->ky = vae_tile_plan(h, tile, overlap, NULL, NULL);
  g->kx = vae_tile_plan(w, tile, overlap, NULL, NULL);
  g->sy = malloc(sizeof(int) * (size_t)g->ky);
  g->sx = malloc(sizeof(int) * (size_t)g->kx);
  if (!g->sy || !g->sx) return free(g->sy), free(g->sx), fail(A2I2A_ERR_NOMEM, "out of memory (VAE tiles)");
  vae_tile_plan(h, tile, overlap, g->sy, &g->th);
  vae_tile_plan(w, tile, overlap, g->sx, &g->tw);
  return A2I2A_OK;
}

/* dst [C][th][tw] = src [C][H][W] from (y0, x0). */
static void crop(float *dst, const float *src, int C, int H, int W, int y0, int x0, int th, int tw) {
  for (int c = 0; c < C; c++)
    for (int y = 0; y < th; y++)
      memcpy(dst + ((size_t)c * th + y) * tw, src + ((size_t)c * H + y0 + y) * W + x0, (size_t)tw * sizeof(float));
}

/* dst [C][H][W] += w(y)·w(x)·src [C][th][tw] at (y0, x0), with tile (iy, ix)'s blending weights
 * (scale: dst's pixels per latent pixel). */
static void blend_in(float *dst, const float *src, int C, int H, int W, const tile_grid *g, int iy, int ix,
                     int scale) {
  int th = g->th * scale, tw = g->tw * scale, y0 = g->sy[iy] * scale, x0 = g->sx[ix] * scale;
  for (int y = 0; y < th; y++) {
    float wy = vae_tile_weight(g->sy, g->ky, g->th, scale, iy, y0 + y);
    for (int x = 0; x < tw; x++) {
      float wgt = wy * vae_tile_weight(g->sx, g->kx, g->tw, scale, ix, x0 + x);
      for (int c = 0; c < C; c++)
        dst[((size_t)c * H + y0 + y) * W + x0 + x] += wgt * src[((size_t)c * th + y) * tw + x];
    }
  }
}

a2i2a_status vae_decode_tiled(vae *v, const float *latent, int h, int w, float *image, int tile, int overlap) {
  if (h < 1 || w < 1) return fail(A2I2A_ERR_PARAM, "VAE decode: latent size %dx%d", w, h);
  int f, L = v->latent, C = v->out_ch;
  vae_dims(v, &f, NULL, NULL);
  tile_grid g;
  a2i2a_status st = grid_plan(&g, h, w, tile, overlap);
  if (st) return st;
  int H = h * f, W = w * f;
  float *lt = malloc(sizeof(float) * (size_t)L * g.th * g.tw),
        *it = malloc(sizeof(float) * (size_t)C * g.th * f * g.tw * f);
  if (!lt || !it) st = fail(A2I2A_ERR_NOMEM, "out of memory (VAE tiles)");
  else memset(image, 0, sizeof(float) * (size_t)C * H * W);
  kernels_reset();
  for (int iy = 0; !st && iy < g.ky; iy++)
    for (int ix = 0; !st && ix < g.kx; ix++) {
      crop(lt, latent, L, h, w, g.sy[iy], g.sx[ix], g.th, g.tw);
      if (!(st = decode(v, lt, g.th, g.tw, it))) blend_in(image, it, C, H, W, &g, iy, ix, f);
    }
  pool_clear(v); /* the tiles, all one size, shared the pool's buffers */
  free(lt), free(it), free(g.sy), free(g.sx);
  return st;
}

a2i2a_status vae_encode_tiled(vae *v, const float *image, int H, int W, float *mean, float *logvar, int tile,
                              int overlap) {
  int f, L = v->latent, C = v->in_ch;
  vae_dims(v, &f, NULL, NULL);
  if (H < f || W < f || H % f || W % f)
    return fail(A2I2A_ERR_PARAM, "VAE encode: image size %dx%d is not a positive multiple of %d", W, H, f);
  int h = H / f, w = W / f;
  tile_grid g;
  a2i2a_status st = grid_plan(&g, h, w, tile, overlap);
  if (st) return st;
  size_t nt = (size_t)L * g.th * g.tw;
  float *it = malloc(sizeof(float) * (size_t)C * g.th * f * g.tw * f), *mt = malloc(sizeof(float) * nt),
        *vt = malloc(sizeof(float) * nt);
  if (!it || !mt || !vt) st = fail(A2I2A_ERR_NOMEM, "out of memory (VAE tiles)");
  else memset(mean, 0, sizeof(float) * (size_t)L * h * w), memset(logvar, 0, sizeof(float) * (size_t)L * h * w);
  kernels_reset();
  for (int iy = 0; !st && iy < g.ky; iy++)
    for (int ix = 0; !st && ix < g.kx; ix++) {
      crop(it, image, C, H, W, g.sy[iy] * f, g.sx[ix] * f, g.th * f, g.tw * f);
      if (!(st = encode(v, it, g.th * f, g.tw * f, mt, vt))) {
        blend_in(mean, mt, L, h, w, &g, iy, ix, 1);
        blend_in(logvar, vt, L, h, w, &g, iy, ix, 1);
      }
    }
  pool_clear(v);
  free(it), free(mt), free(vt), free(g.sy), free(g.sx);
  return st;
}
