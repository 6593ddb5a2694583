/* Writes a full-size Stable Diffusion checkpoint with random weights, in the single-file LDM
 * naming most downloads use, F16, so that speed and memory can be measured without the real
 * weights. OUT.safetensors, or OUT.ckpt in the zip format torch.save writes (protocol-2 pickle
 * {"state_dict": OrderedDict(name: _rebuild_tensor_v2(...)), "global_step": 0}, one stored record
 * per tensor, 64-byte aligned, zip64 past 4 GiB), with the same tensors and values:
 *   make_sd_checkpoint sd15 OUT.safetensors   SD 1.5: UNet 320/640/1280/1280, 8 heads, context
 *                                             768, conv proj_in/out; VAE 128/256/512/512; CLIP
 *                                             ViT-L/14 text encoder (12 layers, 768 wide)
 *   make_sd_checkpoint sd21 OUT.safetensors   SD 2.1: UNet with head dim 64 (5/10/20/20 heads),
 *                                             linear proj_in/out, context 1024; same VAE;
 *                                             OpenCLIP ViT-H/14 text tower (24 layers, 1024 wide)
 *                                             under cond_stage_model.model.*
 * Weights are uniform with variance 1/fan_in (activations stay O(1)), norm scales 1, biases 0,
 * embeddings ±0.02. About 2.1 GB (sd15) and 2.6 GB (sd21): do not commit them. --f32 writes
 * float32 weights instead (4.3 GB for sd15), like the full-precision downloads. */
/* names are far shorter than the buffers; the truncation warnings are noise here */
#pragma GCC diagnostic ignored "-Wformat-truncation"
#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "sd/safetensors.h"

typedef struct {
  char name[160];
  int ndim;
  int64_t shape[4];
  int i64; /* position_ids */
} tdesc;

static tdesc *T;
static int nt, cap;

static void add_t(const char *name, int ndim, int64_t a, int64_t b, int64_t c, int64_t d) {
  if (nt == cap) {
    cap = cap ? 2 * cap : 1024;
    T = realloc(T, cap * sizeof *T);
  }
  tdesc *t = &T[nt++];
  memset(t, 0, sizeof *t);
  snprintf(t->name, sizeof t->name, "%s", name);
  t->ndim = ndim;
  int64_t s[4] = {a, b, c, d};
  memcpy(t->shape, s, sizeof s);
}

static char pfx[256];
#define P(...) (snprintf(pfx, sizeof pfx, __VA_ARGS__), pfx)
static void vec(const char *base, const char *leaf, int64_t n) {
  char b[256];
  snprintf(b, sizeof b, "%s.%s", base, leaf);
  add_t(b, 1, n, 0, 0, 0);
}
static void norm(const char *base, int64_t c) {
  vec(base, "weight", c);
  vec(base, "bias", c);
}
static void conv(const char *base, int64_t o, int64_t i, int64_t k) {
  char b[256];
  snprintf(b, sizeof b, "%s.weight", base);
  add_t(b, 4, o, i, k, k);
  vec(base, "bias", o);
}
static void lin(const char *base, int64_t o, int64_t i, int bias) {
  char b[256];
  snprintf(b, sizeof b, "%s.weight", base);
  add_t(b, 2, o, i, 0, 0);
  if (bias) vec(base, "bias", o);
}

/* ------------------------------------------------------------------ UNet (LDM naming) */

static void unet_res(const char *b, int64_t in, int64_t out) {
  char s[256];
  snprintf(s, sizeof s, "%s", b); /* b may be pfx itself */
  norm(P("%s.in_layers.0", s), in);
  conv(P("%s.in_layers.2", s), out, in, 3);
  lin(P("%s.emb_layers.1", s), out, 1280, 1);
  norm(P("%s.out_layers.0", s), out);
  conv(P("%s.out_layers.3", s), out, out, 3);
  if (in != out) conv(P("%s.skip_connection", s), out, in, 1);
}

static void unet_st(const char *b0, int64_t c, int64_t ctx, int linear_proj) {
  char b[256];
  snprintf(b, sizeof b, "%s", b0);
  norm(P("%s.norm", b), c);
  if (linear_proj) lin(P("%s.proj_in", b), c, c, 1);
  else conv(P("%s.proj_in", b), c, c, 1);
  const char *tb = "transformer_blocks.0";
  norm(P("%s.%s.norm1", b, tb), c);
  norm(P("%s.%s.norm2", b, tb), c);
  norm(P("%s.%s.norm3", b, tb), c);
  lin(P("%s.%s.attn1.to_q", b, tb), c, c, 0);
  lin(P("%s.%s.attn1.to_k", b, tb), c, c, 0);
  lin(P("%s.%s.attn1.to_v", b, tb), c, c, 0);
  lin(P("%s.%s.attn1.to_out.0", b, tb), c, c, 1);
  lin(P("%s.%s.attn2.to_q", b, tb), c, c, 0);
  lin(P("%s.%s.attn2.to_k", b, tb), c, ctx, 0);
  lin(P("%s.%s.attn2.to_v", b, tb), c, ctx, 0);
  lin(P("%s.%s.attn2.to_out.0", b, tb), c, c, 1);
  lin(P("%s.%s.ff.net.0.proj", b, tb), 8 * c, c, 1);
  lin(P("%s.%s.ff.net.2", b, tb), c, 4 * c, 1);
  if (linear_proj) lin(P("%s.proj_out", b), c, c, 1);
  else conv(P("%s.proj_out", b), c, c, 1);
}

static void unet(int64_t ctx, int linear_proj) {
  const char *u = "model.diffusion_model";
  const int64_t mc = 320, mult[4] = {1, 2, 4, 4};
  char b[256];
  lin(P("%s.time_embed.0", u), 1280, mc, 1);
  lin(P("%s.time_embed.2", u), 1280, 1280, 1);
  conv(P("%s.input_blocks.0.0", u), mc, 4, 3);
  int64_t chans[16], nch = 0, ch = mc;
  chans[nch++] = ch;
  int blk = 1;
  for (int level = 0; level < 4; level++) {
    for (int i = 0; i < 2; i++, blk++) {
      snprintf(b, sizeof b, "%s.input_blocks.%d.0", u, blk);
      unet_res(b, ch, mult[level] * mc);
      ch = mult[level] * mc;
      if (level < 3) {
        snprintf(b, sizeof b, "%s.input_blocks.%d.1", u, blk);
        unet_st(b, ch, ctx, linear_proj);
      }
      chans[nch++] = ch;
    }
    if (level < 3) {
      snprintf(b, sizeof b, "%s.input_blocks.%d.0.op", u, blk++);
      conv(b, ch, ch, 3);
      chans[nch++] = ch;
    }
  }
  unet_res(P("%s.middle_block.0", u), ch, ch);
  unet_st(P("%s.middle_block.1", u), ch, ctx, linear_proj);
  unet_res(P("%s.middle_block.2", u), ch, ch);
  blk = 0;
  for (int level = 3; level >= 0; level--)
    for (int i = 0; i < 3; i++, blk++) {
      int64_t ich = chans[--nch];
      snprintf(b, sizeof b, "%s.output_blocks.%d.0", u, blk);
      unet_res(b, ch + ich, mult[level] * mc);
      ch = mult[level] * mc;
      int sub = 1;
      if (level < 3) {
        snprintf(b, sizeof b, "%s.output_blocks.%d.1", u, blk);
        unet_st(b, ch, ctx, linear_proj);
        sub = 2;
      }
      if (level > 0 && i == 2) {
        snprintf(b, sizeof b, "%s.output_blocks.%d.%d.conv", u, blk, sub);
        conv(b, ch, ch, 3);
      }
    }
  norm(P("%s.out.0", u), mc);
  conv(P("%s.out.2", u), 4, mc, 3);
}

/* ------------------------------------------------------------------ VAE (LDM naming) */

static void vae_res(const char *b0, int64_t in, int64_t out) {
  char b[256];
  snprintf(b, sizeof b, "%s", b0);
  norm(P("%s.norm1", b), in);
  conv(P("%s.conv1", b), out, in, 3);
  norm(P("%s.norm2", b), out);
  conv(P("%s.conv2", b), out, out, 3);
  if (in != out) conv(P("%s.nin_shortcut", b), out, in, 1);
}

static void vae_mid(const char *part) {
  char b[256];
  snprintf(b, sizeof b, "first_stage_model.%s.mid", part);
  vae_res(P("%s.block_1", b), 512, 512);
  norm(P("%s.attn_1.norm", b), 512);
  conv(P("%s.attn_1.q", b), 512, 512, 1);
  conv(P("%s.attn_1.k", b), 512, 512, 1);
  conv(P("%s.attn_1.v", b), 512, 512, 1);
  conv(P("%s.attn_1.proj_out", b), 512, 512, 1);
  vae_res(P("%s.block_2", b), 512, 512);
}

static void vae(void) {
  const int64_t ch[4] = {128, 256, 512, 512};
  char b[256];
  conv("first_stage_model.encoder.conv_in", 128, 3, 3);
  int64_t prev = 128;
  for (int i = 0; i < 4; i++) {
    for (int j = 0; j < 2; j++) {
      snprintf(b, sizeof b, "first_stage_model.encoder.down.%d.block.%d", i, j);
      vae_res(b, j ? ch[i] : prev, ch[i]);
    }
    prev = ch[i];
    if (i < 3) {
      snprintf(b, sizeof b, "first_stage_model.encoder.down.%d.downsample.conv", i);
      conv(b, ch[i], ch[i], 3);
    }
  }
  vae_mid("encoder");
  norm("first_stage_model.encoder.norm_out", 512);
  conv("first_stage_model.encoder.conv_out", 8, 512, 3);
  conv("first_stage_model.quant_conv", 8, 8, 1);
  conv("first_stage_model.post_quant_conv", 4, 4, 1);
  conv("first_stage_model.decoder.conv_in", 512, 4, 3);
  vae_mid("decoder");
  for (int i = 3; i >= 0; i--) { /* LDM numbers the up blocks from the output side */
    int64_t in = i == 3 ? 512 : ch[i + 1];
    for (int j = 0; j < 3; j++) {
      snprintf(b, sizeof b, "first_stage_model.decoder.up.%d.block.%d", i, j);
      vae_res(b, j ? ch[i] : in, ch[i]);
    }
    if (i > 0) {
      snprintf(b, sizeof b, "first_stage_model.decoder.up.%d.upsample.conv", i);
      conv(b, ch[i], ch[i], 3);
    }
  }
  norm("first_stage_model.decoder.norm_out", 128);
  conv("first_stage_model.decoder.conv_out", 3, 128, 3);
}

/* ------------------------------------------------------------------ text encoders */

static void clip_vit_l(void) {
  const char *t = "cond_stage_model.transformer.text_model";
  char b[256];
  add_t(P("%s.embeddings.token_embedding.weight", t), 2, 49408, 768, 0, 0);
  add_t(P("%s.embeddings.position_embedding.weight", t), 2, 77, 768, 0, 0);
  add_t(P("%s.embeddings.position_ids", t), 2, 1, 77, 0, 0);
  T[nt - 1].i64 = 1;
  for (int l = 0; l < 12; l++) {
    snprintf(b, sizeof b, "%s.encoder.layers.%d", t, l);
    char s[256];
    snprintf(s, sizeof s, "%s", b);
    norm(P("%s.layer_norm1", s), 768);
    lin(P("%s.self_attn.q_proj", s), 768, 768, 1);
    lin(P("%s.self_attn.k_proj", s), 768, 768, 1);
    lin(P("%s.self_attn.v_proj", s), 768, 768, 1);
    lin(P("%s.self_attn.out_proj", s), 768, 768, 1);
    norm(P("%s.layer_norm2", s), 768);
    lin(P("%s.mlp.fc1", s), 3072, 768, 1);
    lin(P("%s.mlp.fc2", s), 768, 3072, 1);
  }
  norm(P("%s.final_layer_norm", t), 768);
}

static void openclip_vit_h(void) {
  const char *t = "cond_stage_model.model";
  char b[256];
  add_t(P("%s.token_embedding.weight", t), 2, 49408, 1024, 0, 0);
  add_t(P("%s.positional_embedding", t), 2, 77, 1024, 0, 0);
  for (int l = 0; l < 24; l++) {
    snprintf(b, sizeof b, "%s.transformer.resblocks.%d", t, l);
    char s[256];
    snprintf(s, sizeof s, "%s", b);
    norm(P("%s.ln_1", s), 1024);
    add_t(P("%s.attn.in_proj_weight", s), 2, 3072, 1024, 0, 0);
    add_t(P("%s.attn.in_proj_bias", s), 1, 3072, 0, 0, 0);
    lin(P("%s.attn.out_proj", s), 1024, 1024, 1);
    norm(P("%s.ln_2", s), 1024);
    lin(P("%s.mlp.c_fc", s), 4096, 1024, 1);
    lin(P("%s.mlp.c_proj", s), 1024, 4096, 1);
  }
  norm(P("%s.ln_final", t), 1024);
  add_t(P("%s.text_projection", t), 2, 1024, 1024, 0, 0);
  add_t(P("%s.logit_scale", t), 0, 0, 0, 0, 0);
}

/* ------------------------------------------------------------------ writing */

static uint64_t rs = 0x9E3779B97F4A7C15ull;
static inline uint32_t rnd32(void) {
  rs ^= rs << 13;
  rs ^= rs >> 7;
  rs ^= rs << 17;
  return (uint32_t)(rs >> 32);
}

static size_t numel(const tdesc *t) {
  size_t n = 1;
  for (int i = 0; i < t->ndim; i++) n *= (size_t)t->shape[i];
  return n;
}

static int ends(const char *s, const char *suf) {
  size_t a = strlen(s), b = strlen(suf);
  return a >= b && !strcmp(s + a - b, suf);
}

static int f32; /* --f32: float32 weights, as in the official full-precision downloads */

static uLong crc; /* of what put() wrote since it was reset: a zip record's CRC-32 */
static void put(FILE *f, const void *p, size_t n) {
  fwrite(p, 1, n, f);
  crc = crc32(crc, p, (uInt)n); /* n < 4 GiB: at most 1<<17 bytes a call */
}

static void write_tensor(FILE *f, const tdesc *t) {
  size_t n = numel(t);
  if (t->i64) {
    for (size_t i = 0; i < n; i++) {
      int64_t v = (int64_t)i;
      put(f, &v, 8);
    }
    return;
  }
  /* the value distribution by role */
  float amp = 0, fill = 0;
  if (strstr(t->name, "embedding")) amp = 0.02f * 1.7320508f;
  else if (t->ndim >= 2) amp = 1.7320508f / sqrtf((float)(n / (size_t)t->shape[0]));
  else if (t->ndim == 0) fill = 4.6052f; /* logit_scale */
  else if (ends(t->name, ".bias") || ends(t->name, "_bias")) fill = 0;
  else fill = 1; /* norm scales */
  static uint16_t buf[1 << 16];
  static float fb[1 << 16];
  for (size_t i0 = 0; i0 < n; i0 += 1 << 16) {
    size_t m = n - i0 < (1 << 16) ? n - i0 : (1 << 16);
    for (size_t i = 0; i < m; i++) fb[i] = amp ? ((float)rnd32() * (2.0f / 4294967296.0f) - 1.0f) * amp : fill;
    if (f32) {
      put(f, fb, 4 * m);
      continue;
    }
    size_t i = 0;
    for (; i + 8 <= m; i += 8)
      _mm_storeu_si128((__m128i *)(buf + i), _mm256_cvtps_ph(_mm256_loadu_ps(fb + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < m; i++) buf[i] = (uint16_t)_cvtss_sh(fb[i], _MM_FROUND_TO_NEAREST_INT);
    put(f, buf, 2 * m);
  }
}

static int cmp_name(const void *a, const void *b) { return strcmp(((const tdesc *)a)->name, ((const tdesc *)b)->name); }

static size_t bytes_of(const tdesc *t) { return numel(t) * (t->i64 ? 8 : f32 ? 4 : 2); }

/* ------------------------------------------------------------------ .ckpt: torch.save's zip format */

static uint8_t *pk; /* the pickle being built */
static size_t pkn, pkcap;

static void pbytes(const void *p, size_t n) {
  if (pkn + n > pkcap) {
    pkcap = 2 * (pkn + n);
    pk = realloc(pk, pkcap);
  }
  memcpy(pk + pkn, p, n);
  pkn += n;
}
static void pbyte(int c) {
  uint8_t b = (uint8_t)c;
  pbytes(&b, 1);
}
static void pstr(const char *s) { /* BINUNICODE */
  uint32_t n = (uint32_t)strlen(s);
  pbyte('X');
  pbytes(&n, 4);
  pbytes(s, n);
}
static void pint(int64_t v) { /* BININT1, BININT or LONG1 */
  if (v >= 0 && v < 256) {
    pbyte('K');
    pbyte((int)v);
  } else if (v >= INT32_MIN && v <= INT32_MAX) {
    int32_t w = (int32_t)v;
    pbyte('J');
    pbytes(&w, 4);
  } else {
    pbyte(0x8a);
    pbyte(8);
    pbytes(&v, 8);
  }
}
static void pglobal(const char *module, const char *name) {
  pbyte('c');
  pbytes(module, strlen(module));
  pbyte('\n');
  pbytes(name, strlen(name));
  pbyte('\n');
}
static void ptuple(const int64_t *v, int n) {
  if (!n) {
    pbyte(')');
    return;
  }
  pbyte('(');
  for (int i = 0; i < n; i++) pint(v[i]);
  pbyte('t');
}

/* What torch.save pickles for {"state_dict": the tensors, "global_step": 0}: each tensor a
 * _rebuild_tensor_v2 of storage "i" (record data/i), contiguous, SETITEMS in batches of 1000. */
static void state_dict_pickle(void) {
  pbytes("\x80\x02}(", 4);
  pstr("state_dict");
  pglobal("collections", "OrderedDict");
  pbytes(")R", 2);
  for (int i = 0; i < nt; i++) {
    if (i % 1000 == 0) pbyte('(');
    char key[16];
    snprintf(key, sizeof key, "%d", i);
    int64_t stride[4];
    for (int d = T[i].ndim - 1, s = 1; d >= 0; s *= (int)T[i].shape[d], d--) stride[d] = s;
    pstr(T[i].name);
    pglobal("torch._utils", "_rebuild_tensor_v2");
    pbytes("((", 2);
    pstr("storage");
    pglobal("torch", T[i].i64 ? "LongStorage" : f32 ? "FloatStorage" : "HalfStorage");
    pstr(key);
    pstr("cpu");
    pint((int64_t)numel(&T[i]));
    pbytes("tQ", 2);
    pint(0);
    ptuple(T[i].shape, T[i].ndim);
    ptuple(stride, T[i].ndim);
    pbyte(0x89);
    pglobal("collections", "OrderedDict");
    pbytes(")RtR", 4);
    if (i % 1000 == 999 || i == nt - 1) pbyte('u');
  }
  pstr("global_step");
  pint(0);
  pbytes("u.", 2);
}

typedef struct {
  char name[64];
  uint64_t offset, size;
  uint32_t crc;
} zentry;
static zentry *Z;
static int nz;

static void le(uint8_t *p, uint64_t v, int n) {
  for (int i = 0; i < n; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* A stored entry's local header, its data to start 64-byte aligned as PyTorch's writer does
 * (padding in an "FB" extra field); sizes past 4 GiB in a zip64 extra field. */
static void local_header(FILE *f, const char *name, uint64_t size, uint32_t c) {
  uint64_t off = (uint64_t)ftello(f);
  size_t nl = strlen(name), z64 = size >= 0xffffffffu ? 20 : 0, pad = (64 - (off + 30 + nl + z64 + 4) % 64) % 64;
  uint8_t h[30 + 20 + 4 + 64];
  le(h, 0x04034b50, 4), le(h + 4, z64 ? 45 : 20, 2), le(h + 6, 0, 2), le(h + 8, 0, 2), le(h + 10, 0, 2);
  le(h + 12, 0x21, 2), le(h + 14, c, 4), le(h + 18, z64 ? 0xffffffffu : size, 4), le(h + 22, z64 ? 0xffffffffu : size, 4);
  le(h + 26, nl, 2), le(h + 28, z64 + 4 + pad, 2);
  fwrite(h, 1, 30, f);
  fwrite(name, 1, nl, f);
  size_t e = 0;
  if (z64) le(h, 1, 2), le(h + 2, 16, 2), le(h + 4, size, 8), le(h + 12, size, 8), e = 20;
  le(h + e, 0x4246, 2), le(h + e + 2, pad, 2);
  memset(h + e + 4, 'Z', pad);
  fwrite(h, 1, e + 4 + pad, f);
  Z = realloc(Z, sizeof *Z * (size_t)(nz + 1));
  Z[nz] = (zentry){"", off, size, c};
  snprintf(Z[nz++].name, sizeof Z->name, "%s", name);
}

static void small_entry(FILE *f, const char *name, const void *data, size_t n) {
  local_header(f, name, n, (uint32_t)crc32(0, data, (uInt)n));
  fwrite(data, 1, n, f);
}

static void central_directory(FILE *f) {
  uint64_t cd = (uint64_t)ftello(f);
  uint8_t h[64];
  for (int i = 0; i < nz; i++) {
    int zs = Z[i].size >= 0xffffffffu, zo = Z[i].offset >= 0xffffffffu;
    size_t nl = strlen(Z[i].name), ex = zs || zo ? 4 + 8 * (2 * zs + zo) : 0;
    le(h, 0x02014b50, 4), le(h + 4, 45, 2), le(h + 6, ex ? 45 : 20, 2), le(h + 8, 0, 4), le(h + 12, 0, 2);
    le(h + 14, 0x21, 2), le(h + 16, Z[i].crc, 4), le(h + 20, zs ? 0xffffffffu : Z[i].size, 4);
    le(h + 24, zs ? 0xffffffffu : Z[i].size, 4), le(h + 28, nl, 2), le(h + 30, ex, 2), le(h + 32, 0, 10);
    le(h + 42, zo ? 0xffffffffu : Z[i].offset, 4);
    fwrite(h, 1, 46, f);
    fwrite(Z[i].name, 1, nl, f);
    if (!ex) continue;
    size_t k = 4;
    le(h, 1, 2), le(h + 2, ex - 4, 2);
    if (zs) le(h + k, Z[i].size, 8), le(h + k + 8, Z[i].size, 8), k += 16;
    if (zo) le(h + k, Z[i].offset, 8), k += 8;
    fwrite(h, 1, k, f);
  }
  uint64_t end = (uint64_t)ftello(f), size = end - cd;
  int z64 = cd >= 0xffffffffu || size >= 0xffffffffu || nz >= 0xffff;
  if (z64) { /* the zip64 end of central directory record and its locator */
    le(h, 0x06064b50, 4), le(h + 4, 44, 8), le(h + 12, 45, 2), le(h + 14, 45, 2), le(h + 16, 0, 8);
    le(h + 24, nz, 8), le(h + 32, nz, 8), le(h + 40, size, 8), le(h + 48, cd, 8);
    fwrite(h, 1, 56, f);
    le(h, 0x07064b50, 4), le(h + 4, 0, 4), le(h + 8, end, 8), le(h + 16, 1, 4);
    fwrite(h, 1, 20, f);
  }
  le(h, 0x06054b50, 4), le(h + 4, 0, 4), le(h + 8, z64 ? 0xffff : nz, 2), le(h + 10, z64 ? 0xffff : nz, 2);
  le(h + 12, z64 ? 0xffffffffu : size, 4), le(h + 16, z64 ? 0xffffffffu : cd, 4), le(h + 20, 0, 2);
  fwrite(h, 1, 22, f);
}

static void write_ckpt(FILE *f) {
  state_dict_pickle();
  small_entry(f, "archive/data.pkl", pk, pkn);
  small_entry(f, "archive/byteorder", "little", 6);
  for (int i = 0; i < nt; i++) {
    char name[64];
    snprintf(name, sizeof name, "archive/data/%d", i);
    local_header(f, name, bytes_of(&T[i]), 0);
    crc = crc32(0, NULL, 0);
    write_tensor(f, &T[i]);
    /* the CRC is known now: into the local header (the central directory is written last) */
    Z[nz - 1].crc = (uint32_t)crc;
    uint8_t c[4];
    le(c, crc, 4);
    off_t here = ftello(f);
    fseeko(f, (off_t)Z[nz - 1].offset + 14, SEEK_SET);
    fwrite(c, 1, 4, f);
    fseeko(f, here, SEEK_SET);
  }
  small_entry(f, "archive/version", "3\n", 2);
  central_directory(f);
}

/* ------------------------------------------------------------------ main */

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "--f32")) {
    f32 = 1;
    argv++, argc--;
  }
  if (argc != 3 || (strcmp(argv[1], "sd15") && strcmp(argv[1], "sd21")) ||
      (!ends(argv[2], ".safetensors") && !ends(argv[2], ".ckpt"))) {
    fprintf(stderr, "usage: %s [--f32] sd15|sd21 OUT.safetensors|OUT.ckpt\n", argv[0]);
    return 2;
  }
  int sd2 = !strcmp(argv[1], "sd21");
  unet(sd2 ? 1024 : 768, sd2);
  vae();
  if (sd2) openclip_vit_h();
  else clip_vit_l();
  qsort(T, nt, sizeof *T, cmp_name);
  size_t params = 0, total = 0;
  for (int i = 0; i < nt; i++) params += T[i].i64 ? 0 : numel(&T[i]), total += bytes_of(&T[i]);
  FILE *f = fopen(argv[2], "wb");
  if (!f) {
    perror(argv[2]);
    return 1;
  }
  if (ends(argv[2], ".ckpt")) {
    write_ckpt(f);
  } else { /* the header from the library's writer, then the data in the same order */
    st_tensor *st = calloc((size_t)nt, sizeof *st);
    for (int i = 0; i < nt; i++) {
      st[i] = (st_tensor){.name = T[i].name, .dtype = T[i].i64 ? ST_I64 : f32 ? ST_F32 : ST_F16, .ndim = T[i].ndim,
                          .numel = numel(&T[i]), .nbytes = bytes_of(&T[i])};
      memcpy(st[i].shape, T[i].shape, sizeof T[i].shape);
    }
    char *keys[] = {"format", "note"}, *values[] = {"pt", "random weights, a2i2a bench"};
    char *header;
    size_t hlen;
    if (st_header(st, nt, keys, values, 2, &header, &hlen)) {
      fprintf(stderr, "%s\n", a2i2a_last_error());
      return 1;
    }
    fwrite(header, 1, hlen, f);
    for (int i = 0; i < nt; i++) write_tensor(f, &T[i]);
  }
  long long size = (long long)ftello(f);
  if (fclose(f)) {
    perror(argv[2]);
    return 1;
  }
  printf("%s: %d tensors, %.1fM parameters, %.2f GB (%.2f GB of weights)\n", argv[2], nt, params / 1e6, size / 1e9,
         total / 1e9);
  return 0;
}
