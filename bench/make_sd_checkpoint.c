/* Writes a full-size Stable Diffusion checkpoint with random weights, in the single-file LDM
 * naming most downloads use, F16, so that speed and memory can be measured without the real
 * weights:
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

static void write_tensor(FILE *f, const tdesc *t) {
  size_t n = numel(t);
  if (t->i64) {
    for (size_t i = 0; i < n; i++) {
      int64_t v = (int64_t)i;
      fwrite(&v, 8, 1, f);
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
      fwrite(fb, 4, m, f);
      continue;
    }
    size_t i = 0;
    for (; i + 8 <= m; i += 8)
      _mm_storeu_si128((__m128i *)(buf + i), _mm256_cvtps_ph(_mm256_loadu_ps(fb + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < m; i++) buf[i] = (uint16_t)_cvtss_sh(fb[i], _MM_FROUND_TO_NEAREST_INT);
    fwrite(buf, 2, m, f);
  }
}

static int cmp_name(const void *a, const void *b) { return strcmp(((const tdesc *)a)->name, ((const tdesc *)b)->name); }

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "--f32")) {
    f32 = 1;
    argv++, argc--;
  }
  if (argc != 3 || (strcmp(argv[1], "sd15") && strcmp(argv[1], "sd21"))) {
    fprintf(stderr, "usage: %s [--f32] sd15|sd21 OUT.safetensors\n", argv[0]);
    return 2;
  }
  int sd2 = !strcmp(argv[1], "sd21");
  unet(sd2 ? 1024 : 768, sd2);
  vae();
  if (sd2) openclip_vit_h();
  else clip_vit_l();
  qsort(T, nt, sizeof *T, cmp_name);
  /* header */
  size_t hcap = (size_t)nt * 256 + 256, hl = 0, off = 0, params = 0;
  char *h = malloc(hcap);
  hl += sprintf(h + hl, "{\"__metadata__\":{\"format\":\"pt\",\"note\":\"random weights, a2i2a bench\"}");
  for (int i = 0; i < nt; i++) {
    size_t n = numel(&T[i]), bytes = n * (T[i].i64 ? 8 : f32 ? 4 : 2);
    params += T[i].i64 ? 0 : n;
    hl += sprintf(h + hl, ",\"%s\":{\"dtype\":\"%s\",\"shape\":[", T[i].name, T[i].i64 ? "I64" : f32 ? "F32" : "F16");
    for (int d = 0; d < T[i].ndim; d++) hl += sprintf(h + hl, "%s%lld", d ? "," : "", (long long)T[i].shape[d]);
    hl += sprintf(h + hl, "],\"data_offsets\":[%zu,%zu]}", off, off + bytes);
    off += bytes;
  }
  h[hl++] = '}';
  while (hl % 8) h[hl++] = ' ';
  FILE *f = fopen(argv[2], "wb");
  if (!f) {
    perror(argv[2]);
    return 1;
  }
  uint64_t len = hl;
  fwrite(&len, 8, 1, f);
  fwrite(h, 1, hl, f);
  for (int i = 0; i < nt; i++) write_tensor(f, &T[i]);
  if (fclose(f)) {
    perror(argv[2]);
    return 1;
  }
  printf("%s: %d tensors, %.1fM parameters, %.2f GB\n", argv[2], nt, params / 1e6, (8 + hl + off) / 1e9);
  return 0;
}
