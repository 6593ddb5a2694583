#include "support/random_vocoder.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "sd/safetensors.h"

typedef struct {
  st_tensor *t;
  int n, cap;
  uint64_t rng;
} tensors;

static double uniform(tensors *b) { /* xorshift64*, [−1, 1) */
  b->rng ^= b->rng >> 12, b->rng ^= b->rng << 25, b->rng ^= b->rng >> 27;
  return (double)((b->rng * 2685821657736338717ull) >> 11) / (double)(1ull << 53) * 2 - 1;
}

/* A tensor of shape (d0, d1, d2) (trailing zeros: fewer dimensions); fill: "w" uniform with
 * variance 1/fan_in (fan_in: the product of all but the first dimension), else that constant. */
static float *add(tensors *b, const char *name, double fill, int64_t d0, int64_t d1, int64_t d2) {
  if (b->n == b->cap) {
    b->cap = b->cap ? 2 * b->cap : 64;
    st_tensor *t = realloc(b->t, sizeof *t * (size_t)b->cap);
    if (!t) return NULL;
    b->t = t;
  }
  st_tensor *t = &b->t[b->n];
  memset(t, 0, sizeof *t);
  int64_t dims[3] = {d0, d1, d2};
  t->numel = 1;
  for (int i = 0; i < 3 && dims[i]; i++) t->shape[t->ndim++] = dims[i], t->numel *= (size_t)dims[i];
  t->dtype = ST_F32;
  t->nbytes = t->numel * sizeof(float);
  float *x = malloc(t->nbytes);
  t->name = strdup(name);
  if (!x || !t->name) return free(x), NULL;
  const double a = isnan(fill) ? sqrt(3.0 * d0 / (double)t->numel) : 0;
  for (size_t i = 0; i < t->numel; i++) x[i] = (float)(isnan(fill) ? a * uniform(b) : fill);
  t->data = x;
  b->n++;
  return x;
}

static a2i2a_status finish(tensors *b, int ok, const char *dir, const char *file) {
  char path[4200];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  st_file f = {.n = b->n, .tensors = b->t};
  a2i2a_status st = ok ? st_write(&f, path, 1, NULL) : fail(A2I2A_ERR_NOMEM, "%s: out of memory", path);
  for (int i = 0; i < b->n; i++) free((void *)b->t[i].data), free(b->t[i].name);
  free(b->t);
  return st;
}

static a2i2a_status write_text(const char *dir, const char *file, const char *text) {
  char path[4200];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  FILE *f = fopen(path, "w");
  if (!f || fputs(text, f) < 0 || fclose(f)) return fail(A2I2A_ERR_IO, "%s: cannot write", path);
  return A2I2A_OK;
}

#define W NAN /* a weight */

a2i2a_status write_random_vocos(const char *dir, int dim, int intermediate, int layers, uint64_t seed) {
  char config[2048], name[128];
  snprintf(config, sizeof config,
           "feature_extractor:\n  class_path: vocos.feature_extractors.MelSpectrogramFeatures\n  init_args:\n"
           "    sample_rate: 24000\n    n_fft: 1024\n    hop_length: 256\n    n_mels: 100\n    padding: center\n"
           "backbone:\n  class_path: vocos.models.VocosBackbone\n  init_args:\n    input_channels: 100\n"
           "    dim: %d\n    intermediate_dim: %d\n    num_layers: %d\n"
           "head:\n  class_path: vocos.heads.ISTFTHead\n  init_args:\n    dim: %d\n    n_fft: 1024\n"
           "    hop_length: 256\n    padding: center\n",
           dim, intermediate, layers, dim);
  a2i2a_status st = write_text(dir, "config.yaml", config);
  if (st) return st;
  tensors b = {.rng = seed * 2 + 1};
  int ok = add(&b, "backbone.embed.weight", W, dim, 100, 7) && add(&b, "backbone.embed.bias", 0, dim, 0, 0) &&
           add(&b, "backbone.norm.weight", 1, dim, 0, 0) && add(&b, "backbone.norm.bias", 0, dim, 0, 0) &&
           add(&b, "backbone.final_layer_norm.weight", 1, dim, 0, 0) &&
           add(&b, "backbone.final_layer_norm.bias", 0, dim, 0, 0) && add(&b, "head.out.weight", W, 1026, dim, 0) &&
           add(&b, "head.out.bias", 0, 1026, 0, 0);
  static const struct {
    const char *leaf;
    int kind; /* 0: (dim, 1, 7), 1: (inter, dim), 2: (dim, inter), 3: (dim), 4: (inter) */
    double fill;
  } block[] = {{"dwconv.weight", 0, W},   {"dwconv.bias", 3, 0},   {"norm.weight", 3, 1},
               {"norm.bias", 3, 0},       {"pwconv1.weight", 1, W}, {"pwconv1.bias", 4, 0},
               {"pwconv2.weight", 2, W},  {"pwconv2.bias", 3, 0},  {"gamma", 3, -1}};
  for (int l = 0; ok && l < layers; l++)
    for (size_t k = 0; ok && k < sizeof block / sizeof *block; k++) {
      snprintf(name, sizeof name, "backbone.convnext.%d.%s", l, block[k].leaf);
      const int64_t shapes[5][3] = {{dim, 1, 7}, {intermediate, dim, 0}, {dim, intermediate, 0}, {dim, 0, 0},
                                    {intermediate, 0, 0}};
      const int64_t *s = shapes[block[k].kind];
      ok = add(&b, name, block[k].fill < 0 ? 1.0 / layers : block[k].fill, s[0], s[1], s[2]) != NULL;
    }
  return finish(&b, ok, dir, "model.safetensors");
}

/* A weight-normed convolution: weight_v random, weight_g its rows' norms (dim 0), and a bias. */
static int normed(tensors *b, const char *base, int64_t d0, int64_t d1, int64_t d2, int64_t bias) {
  char name[160];
  snprintf(name, sizeof name, "%s.weight_v", base);
  const float *v = add(b, name, W, d0, d1, d2);
  snprintf(name, sizeof name, "%s.weight_g", base);
  float *g = v ? add(b, name, 0, d0, 1, 1) : NULL;
  if (!g) return 0;
  const int64_t per = d1 * d2;
  for (int64_t r = 0; r < d0; r++) {
    double sq = 0;
    for (int64_t i = 0; i < per; i++) sq += (double)v[r * per + i] * v[r * per + i];
    g[r] = (float)sqrt(sq);
  }
  snprintf(name, sizeof name, "%s.bias", base);
  return add(b, name, 0, bias, 0, 0) != NULL;
}

a2i2a_status write_random_hifigan(const char *dir, int channels, uint64_t seed) {
  static const int kernels[] = {16, 16, 4, 4}, res_kernels[] = {3, 7, 11};
  char config[1024], name[128];
  snprintf(config, sizeof config,
           "{\n \"resblock\": \"1\",\n \"upsample_rates\": [8, 8, 2, 2],\n \"upsample_kernel_sizes\": [16, 16, 4, 4],\n"
           " \"upsample_initial_channel\": %d,\n \"resblock_kernel_sizes\": [3, 7, 11],\n"
           " \"resblock_dilation_sizes\": [[1, 3, 5], [1, 3, 5], [1, 3, 5]],\n \"num_mels\": 80,\n \"n_fft\": 1024,\n"
           " \"hop_size\": 256,\n \"win_size\": 1024,\n \"sampling_rate\": 22050,\n \"fmin\": 0,\n \"fmax\": 8000\n}\n",
           channels);
  a2i2a_status st = write_text(dir, "config.json", config);
  if (st) return st;
  tensors b = {.rng = seed * 2 + 1};
  int ok = normed(&b, "conv_pre", channels, 80, 7, channels);
  int64_t ch = channels;
  for (int i = 0; ok && i < 4; i++, ch /= 2) {
    snprintf(name, sizeof name, "ups.%d", i);
    ok = normed(&b, name, ch, ch / 2, kernels[i], ch / 2);
    for (int j = 0; ok && j < 3; j++)
      for (int d = 0; ok && d < 3; d++)
        for (int c = 1; ok && c <= 2; c++) {
          snprintf(name, sizeof name, "resblocks.%d.convs%d.%d", i * 3 + j, c, d);
          ok = normed(&b, name, ch / 2, ch / 2, res_kernels[j], ch / 2);
        }
  }
  ok = ok && normed(&b, "conv_post", 1, ch, 7, 1);
  return finish(&b, ok, dir, "generator.safetensors");
}
