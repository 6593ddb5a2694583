/* TAESD: diffusers AutoencoderTiny (README §3 of fixtures/sd-ext).
 *
 * Weights are named after their place in one flat sequence per side, encoder.layers.<i> and
 * decoder.layers.<i>; a block is ReLU(conv(ReLU(conv(ReLU(conv(x))))) + x), every convolution
 * 3×3 with padding 1.
 *   encoder: (x + 1)/2 → per stage: a conv (the first 3→C, later C→C stride 2 without bias),
 *            its blocks → conv C→4.
 *   decoder: 3·tanh(z/3) → conv 4→C → ReLU → per stage: its blocks, then (all but the last)
 *            nearest ×2 and a conv C→C without bias → conv C→3 → ·2 − 1.
 * The names are resolved once, at load, into the structs below. Activations live in three
 * buffers of the largest map, kept between calls (previews decode every step) until
 * taesd_release. */
#include "sd/taesd.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "common/err.h"
#include "hub/hub.h"
#include "sd/kernels.h"
#include "sd/model.h"
#include "sd/safetensors.h"

#define TAESD_STAGES 4     /* ×8: the SD latent factor */
#define TAESD_MAX_BLOCKS 8 /* per stage */
#define TAESD_WEIGHTS "diffusion_pytorch_model.safetensors"

typedef struct {
  weight w; /* [out][in][3][3] */
  weight b; /* [out], absent for the stride-2 and upsampling convolutions */
} taesd_conv;

typedef struct {
  taesd_conv conv[3]; /* .conv.0, .conv.2, .conv.4: C→C */
} taesd_block_w;

typedef struct {
  int width[TAESD_STAGES], blocks[TAESD_STAGES];
  taesd_conv in[TAESD_STAGES]; /* encoder: each stage's first conv; decoder: each stage's last */
  taesd_block_w block[TAESD_STAGES][TAESD_MAX_BLOCKS];
  taesd_conv out; /* encoder: C→latent; decoder: conv_in latent→C */
} taesd_side;

struct taesd {
  st_file file;
  int image_ch, latent;
  taesd_side enc, dec;
  float *buf[3]; /* activations, each buf_cap floats */
  size_t buf_cap;
};

/* ------------------------------------------------------------------ loading */

/* Reads list KEY of config (4 whole numbers > 0) into v; absent: v keeps its defaults. */
static a2i2a_status config_list(const cJSON *config, const char *where, const char *key, int max, int *v) {
  const cJSON *a = cJSON_GetObjectItemCaseSensitive(config, key);
  if (!a) return A2I2A_OK;
  if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != TAESD_STAGES)
    return fail(A2I2A_ERR_UNSUPPORTED, "%s: %s must list %d numbers (the four stages of TAESD)", where, key,
                TAESD_STAGES);
  for (int i = 0; i < TAESD_STAGES; i++) {
    const cJSON *e = cJSON_GetArrayItem(a, i);
    if (!cJSON_IsNumber(e) || e->valueint < 1 || e->valueint > max)
      return fail(A2I2A_ERR_UNSUPPORTED, "%s: %s[%d] is not a whole number in [1, %d]", where, key, i, max);
    v[i] = e->valueint;
  }
  return A2I2A_OK;
}

static a2i2a_status read_config(taesd *t, const cJSON *c, const char *where) {
  const char *cls = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "_class_name"));
  if (cls && strcmp(cls, "AutoencoderTiny"))
    return fail(A2I2A_ERR_MODEL, "%s: not a TAESD (its _class_name is %s, not AutoencoderTiny)", where, cls);
  const char *act = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "act_fn"));
  if (act && strcmp(act, "relu"))
    return fail(A2I2A_ERR_UNSUPPORTED, "%s: act_fn %s is not supported (TAESD uses relu)", where, act);
  const cJSON *up = cJSON_GetObjectItemCaseSensitive(c, "upsampling_scaling_factor");
  if (up && (!cJSON_IsNumber(up) || up->valuedouble != 2))
    return fail(A2I2A_ERR_UNSUPPORTED, "%s: upsampling_scaling_factor must be 2", where);
  const cJSON *sf = cJSON_GetObjectItemCaseSensitive(c, "scaling_factor");
  if (sf && (!cJSON_IsNumber(sf) || sf->valuedouble != 1.0))
    return fail(A2I2A_ERR_UNSUPPORTED, "%s: scaling_factor must be 1.0 (TAESD's latents are the UNet's)", where);
  const cJSON *lc = cJSON_GetObjectItemCaseSensitive(c, "latent_channels");
  const cJSON *ic = cJSON_GetObjectItemCaseSensitive(c, "in_channels");
  const cJSON *oc = cJSON_GetObjectItemCaseSensitive(c, "out_channels");
  if (cJSON_IsNumber(lc)) t->latent = lc->valueint;
  if (cJSON_IsNumber(ic)) t->image_ch = ic->valueint;
  if ((cJSON_IsNumber(oc) && oc->valueint != t->image_ch) || t->latent < 1 || t->latent > 64 || t->image_ch < 1 ||
      t->image_ch > 64)
    return fail(A2I2A_ERR_UNSUPPORTED, "%s: %d latent, %d input and %d output channels are not supported", where,
                t->latent, t->image_ch, cJSON_IsNumber(oc) ? oc->valueint : t->image_ch);
  a2i2a_status st;
  if ((st = config_list(c, where, "encoder_block_out_channels", 4096, t->enc.width)) ||
      (st = config_list(c, where, "decoder_block_out_channels", 4096, t->dec.width)) ||
      (st = config_list(c, where, "num_encoder_blocks", TAESD_MAX_BLOCKS, t->enc.blocks)) ||
      (st = config_list(c, where, "num_decoder_blocks", TAESD_MAX_BLOCKS, t->dec.blocks)))
    return st;
  /* each stage's blocks take what the stage before gave: one width per side, as diffusers needs */
  for (int i = 1; i < TAESD_STAGES; i++)
    if (t->enc.width[i] != t->enc.width[0] || t->dec.width[i] != t->dec.width[0])
      return fail(A2I2A_ERR_UNSUPPORTED, "%s: stages of different widths are not supported", where);
  return A2I2A_OK;
}

typedef struct {
  const taesd *t;
  const char *side; /* "encoder" or "decoder" */
} loader;

/* Layer i's weight (.weight or .conv.N.weight as sub says) of shape [out][in][3][3], and its
 * bias [out] when bias. */
static a2i2a_status get_conv(const loader *L, int i, const char *sub, taesd_conv *c, int out, int in, int bias) {
  const st_file *f = &L->t->file;
  char name[160];
  for (int part = 0; part < 1 + bias; part++) {
    snprintf(name, sizeof name, "%s.layers.%d%s.%s", L->side, i, sub, part ? "bias" : "weight");
    const st_tensor *x = st_find(f, name);
    if (!x) return fail(A2I2A_ERR_MODEL, "%s: not a TAESD of this layout: the tensor %s is missing", f->path, name);
    int64_t want[4] = {out, in, 3, 3};
    int ndim = part ? 1 : 4, ok = x->ndim == ndim;
    for (int d = 0; d < ndim && ok; d++) ok = x->shape[d] == want[d];
    if (!ok) {
      char got[96] = "", exp[96] = "";
      for (int d = 0, n = 0; d < x->ndim && d < 8; d++)
        n += snprintf(got + n, sizeof got - n, "%s%lld", d ? ", " : "", (long long)x->shape[d]);
      for (int d = 0, n = 0; d < ndim; d++)
        n += snprintf(exp + n, sizeof exp - n, "%s%lld", d ? ", " : "", (long long)want[d]);
      return fail(A2I2A_ERR_MODEL, "%s: %s has shape [%s], TAESD's config says [%s]", f->path, name, got, exp);
    }
    a2i2a_status st = weight_from_tensor(part ? &c->b : &c->w, x, 0);
    if (st) return fail_prefix(f->path), st;
  }
  return A2I2A_OK;
}

static a2i2a_status get_block(const loader *L, int i, taesd_block_w *b, int C) {
  static const char *sub[3] = {".conv.0", ".conv.2", ".conv.4"};
  for (int k = 0; k < 3; k++) {
    a2i2a_status st = get_conv(L, i, sub[k], &b->conv[k], C, C, 1);
    if (st) return st;
  }
  return A2I2A_OK;
}

static a2i2a_status load_encoder(taesd *t) {
  loader L = {t, "encoder"};
  taesd_side *e = &t->enc;
  int i = 0, prev = t->image_ch;
  a2i2a_status st;
  for (int s = 0; s < TAESD_STAGES; s++) {
    if ((st = get_conv(&L, i++, "", &e->in[s], e->width[s], s ? e->width[s - 1] : prev, s == 0))) return st;
    for (int b = 0; b < e->blocks[s]; b++)
      if ((st = get_block(&L, i++, &e->block[s][b], e->width[s]))) return st;
  }
  return get_conv(&L, i, "", &e->out, t->latent, e->width[TAESD_STAGES - 1], 1);
}

static a2i2a_status load_decoder(taesd *t) {
  loader L = {t, "decoder"};
  taesd_side *d = &t->dec;
  a2i2a_status st = get_conv(&L, 0, "", &d->out, d->width[0], t->latent, 1);
  int i = 2; /* 1 is the ReLU */
  for (int s = 0; s < TAESD_STAGES && !st; s++) {
    for (int b = 0; b < d->blocks[s] && !st; b++) st = get_block(&L, i++, &d->block[s][b], d->width[s]);
    int last = s == TAESD_STAGES - 1;
    if (!last) i++; /* the upsampling */
    if (!st) st = get_conv(&L, i++, "", &d->in[s], last ? t->image_ch : d->width[s], d->width[s], last);
  }
  return st;
}

/* Without config.json: madebyollin/taesd's layout, its width read from the first convolutions. */
static void default_config(taesd *t) {
  static const int enc_blocks[TAESD_STAGES] = {1, 3, 3, 3}, dec_blocks[TAESD_STAGES] = {3, 3, 3, 1};
  const st_tensor *e = st_find(&t->file, "encoder.layers.0.weight"), *d = st_find(&t->file, "decoder.layers.0.weight");
  int ew = e && e->ndim == 4 ? (int)e->shape[0] : 64, dw = d && d->ndim == 4 ? (int)d->shape[0] : 64;
  t->image_ch = 3, t->latent = 4;
  for (int s = 0; s < TAESD_STAGES; s++) {
    t->enc.width[s] = ew, t->dec.width[s] = dw;
    t->enc.blocks[s] = enc_blocks[s], t->dec.blocks[s] = dec_blocks[s];
  }
}

a2i2a_status taesd_open(const char *path, taesd **out) {
  *out = NULL;
  if (!path || !*path) return fail(A2I2A_ERR_PARAM, "no TAESD given");
  char dir[4200] = "", file[4400], snap[4096];
  struct stat sb;
  a2i2a_status st;
  if (stat(path, &sb) != 0) {
    if (!hub_repo_valid(path)) return fail(A2I2A_ERR_IO, "%s: no such TAESD folder or file", path);
    if ((st = hub_snapshot(NULL, path, snap, sizeof snap))) return fail_prefix("TAESD"), st;
    snprintf(dir, sizeof dir, "%s", snap);
  } else if (S_ISDIR(sb.st_mode)) {
    snprintf(dir, sizeof dir, "%s", path);
  }
  if (dir[0]) snprintf(file, sizeof file, "%s/" TAESD_WEIGHTS, dir);
  else snprintf(file, sizeof file, "%s", path);
  if (dir[0] && stat(file, &sb) != 0)
    return fail(A2I2A_ERR_MODEL, "%s: not a TAESD folder (no " TAESD_WEIGHTS ")", dir);

  taesd *t = xcalloc(1, sizeof *t, "TAESD");
  if (!t) return A2I2A_ERR_NOMEM;
  if ((st = st_open(file, &t->file))) {
    free(t);
    return st;
  }
  default_config(t);
  char cpath[4300];
  snprintf(cpath, sizeof cpath, "%s/config.json", dir);
  if (dir[0] && stat(cpath, &sb) == 0) {
    cJSON *config = NULL;
    st = sd_read_json(cpath, &config);
    if (!st) st = read_config(t, config, cpath);
    cJSON_Delete(config);
  }
  if (!st && !st_find(&t->file, "encoder.layers.0.weight") && !st_find(&t->file, "decoder.layers.0.weight"))
    st = fail(A2I2A_ERR_MODEL, "%s: not a TAESD (no encoder.layers.N / decoder.layers.N tensors)", file);
  if (!st) st = load_encoder(t);
  if (!st) st = load_decoder(t);
  if (st) {
    taesd_free(t);
    return st;
  }
  *out = t;
  return A2I2A_OK;
}

void taesd_release(taesd *t) {
  for (int i = 0; i < 3; i++) free(t->buf[i]), t->buf[i] = NULL;
  t->buf_cap = 0;
}

void taesd_free(taesd *t) {
  if (!t) return;
  taesd_release(t);
  st_close(&t->file);
  free(t);
}

const char *taesd_weights_path(const taesd *t) { return t->file.path; }

void taesd_dims(const taesd *t, int *factor, int *latent_channels, int *image_channels) {
  if (factor) *factor = 1 << (TAESD_STAGES - 1);
  if (latent_channels) *latent_channels = t->latent;
  if (image_channels) *image_channels = t->image_ch;
}

/* ------------------------------------------------------------------ forward */

/* The three activation buffers hold n floats each (grown when a larger picture comes). */
static a2i2a_status buffers(taesd *t, size_t n) {
  if (n <= t->buf_cap) return A2I2A_OK;
  taesd_release(t);
  for (int i = 0; i < 3; i++)
    if (!(t->buf[i] = xmalloc(n * sizeof(float), "TAESD activations"))) return taesd_release(t), A2I2A_ERR_NOMEM;
  t->buf_cap = n;
  return A2I2A_OK;
}

static void conv3(float *y, const float *x, int C, int H, int W, const taesd_conv *c, int OC) {
  conv2d(y, x, C, H, W, &c->w, &c->b, OC, 3, 1, 1, 1, 1, 1);
}

/* x = ReLU(conv(ReLU(conv(ReLU(conv(x))))) + x), with t1, t2 as scratch. */
static void block(const taesd_block_w *b, float *x, float *t1, float *t2, int C, int H, int W) {
  size_t n = (size_t)C * H * W;
  conv3(t1, x, C, H, W, &b->conv[0], C);
  relu(t1, n);
  conv3(t2, t1, C, H, W, &b->conv[1], C);
  relu(t2, n);
  conv2d_add(x, t2, C, H, W, &b->conv[2].w, &b->conv[2].b, C, 3, 1, 1, 1, 1, 1);
  relu(x, n);
}

static int widest(const taesd_side *s) {
  int w = 0;
  for (int i = 0; i < TAESD_STAGES; i++) w = s->width[i] > w ? s->width[i] : w;
  return w;
}

a2i2a_status taesd_encode(taesd *t, const float *image, int H, int W, float *latents) {
  int f;
  taesd_dims(t, &f, NULL, NULL);
  if (H < f || W < f || H % f || W % f)
    return fail(A2I2A_ERR_PARAM, "TAESD encode: image size %dx%d is not a positive multiple of %d", W, H, f);
  const taesd_side *e = &t->enc;
  int wide = widest(e) > t->image_ch ? widest(e) : t->image_ch;
  a2i2a_status st = buffers(t, (size_t)wide * H * W);
  if (st) return st;
  kernels_reset();
  float *x = t->buf[0], *t1 = t->buf[1], *t2 = t->buf[2];
  size_t n = (size_t)t->image_ch * H * W;
  for (size_t i = 0; i < n; i++) t1[i] = (image[i] + 1.0f) / 2.0f;
  for (int s = 0; s < TAESD_STAGES; s++) {
    int C = e->width[s], prev = s ? e->width[s - 1] : t->image_ch;
    if (s == 0) {
      conv3(x, t1, prev, H, W, &e->in[s], C);
    } else { /* stride 2, padding 1 on every side */
      conv2d(t1, x, prev, H, W, &e->in[s].w, &e->in[s].b, C, 3, 2, 1, 1, 1, 1);
      float *swap = x;
      x = t1, t1 = swap, H /= 2, W /= 2;
    }
    for (int b = 0; b < e->blocks[s]; b++) block(&e->block[s][b], x, t1, t2, C, H, W);
    if ((st = kernels_check())) return st;
  }
  conv3(latents, x, e->width[TAESD_STAGES - 1], H, W, &e->out, t->latent);
  return kernels_check();
}

a2i2a_status taesd_decode(taesd *t, const float *latents, int h, int w, float *image) {
  if (h < 1 || w < 1) return fail(A2I2A_ERR_PARAM, "TAESD decode: latent size %dx%d", w, h);
  const taesd_side *d = &t->dec;
  int f, H = h, W = w;
  taesd_dims(t, &f, NULL, NULL);
  int wide = widest(d) > t->latent ? widest(d) : t->latent;
  a2i2a_status st = buffers(t, (size_t)wide * (h * f) * (w * f));
  if (st) return st;
  kernels_reset();
  float *x = t->buf[0], *t1 = t->buf[1], *t2 = t->buf[2];
  size_t n = (size_t)t->latent * h * w;
  for (size_t i = 0; i < n; i++) t2[i] = tanhf(latents[i] / 3.0f) * 3.0f;
  conv3(x, t2, t->latent, h, w, &d->out, d->width[0]);
  relu(x, (size_t)d->width[0] * h * w);
  for (int s = 0; s < TAESD_STAGES; s++) {
    int C = d->width[s];
    for (int b = 0; b < d->blocks[s]; b++) block(&d->block[s][b], x, t1, t2, C, H, W);
    if (s == TAESD_STAGES - 1) {
      conv3(image, x, C, H, W, &d->in[s], t->image_ch);
    } else { /* nearest ×2 fused into the convolution */
      conv2d_up2(t1, x, C, H, W, &d->in[s].w, &d->in[s].b, C, 3, 1);
      float *swap = x;
      x = t1, t1 = swap, H *= 2, W *= 2;
    }
    if ((st = kernels_check())) return st;
  }
  n = (size_t)t->image_ch * H * W;
  for (size_t i = 0; i < n; i++) image[i] = image[i] * 2.0f - 1.0f;
  return A2I2A_OK;
}
