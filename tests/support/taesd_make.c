#include "taesd_make.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "sd/safetensors.h"

enum { MAX_TENSORS = 200 };

typedef struct {
  st_tensor t[MAX_TENSORS];
  char names[MAX_TENSORS][64];
  int n;
} tensor_list;

static void add(tensor_list *l, const char *name, int out, int in, int k) {
  st_tensor *t = &l->t[l->n];
  snprintf(l->names[l->n], sizeof l->names[l->n], "%s", name);
  t->name = l->names[l->n++];
  t->dtype = ST_F32;
  t->ndim = k ? 4 : 1;
  t->shape[0] = out, t->shape[1] = in, t->shape[2] = k, t->shape[3] = k;
  t->numel = k ? (size_t)out * in * k * k : (size_t)out;
  t->nbytes = t->numel * 4;
}

static void conv(tensor_list *l, const char *side, int i, const char *sub, int out, int in, int bias) {
  char name[64];
  snprintf(name, sizeof name, "%s.layers.%d%s.weight", side, i, sub);
  add(l, name, out, in, 3);
  snprintf(name, sizeof name, "%s.layers.%d%s.bias", side, i, sub);
  if (bias) add(l, name, out, 0, 0);
}

static void block(tensor_list *l, const char *side, int i, int C) {
  conv(l, side, i, ".conv.0", C, C, 1), conv(l, side, i, ".conv.2", C, C, 1), conv(l, side, i, ".conv.4", C, C, 1);
}

a2i2a_status taesd_make(const char *dir, int C, unsigned long long seed) {
  static const int enc[4] = {1, 3, 3, 3}, dec[4] = {3, 3, 3, 1};
  tensor_list *l = calloc(1, sizeof *l);
  if (!l) return fail(A2I2A_ERR_NOMEM, "out of memory");
  int i = 0;
  for (int s = 0; s < 4; s++) {
    conv(l, "encoder", i++, "", C, s ? C : 3, s == 0);
    for (int b = 0; b < enc[s]; b++) block(l, "encoder", i++, C);
  }
  conv(l, "encoder", i, "", 4, C, 1);
  conv(l, "decoder", 0, "", C, 4, 1);
  i = 2; /* 1 is the ReLU */
  for (int s = 0; s < 4; s++) {
    for (int b = 0; b < dec[s]; b++) block(l, "decoder", i++, C);
    if (s < 3) i++; /* the upsampling */
    conv(l, "decoder", i++, "", s < 3 ? C : 3, C, s == 3);
  }
  char path[4200], *hdr = NULL;
  size_t len;
  snprintf(path, sizeof path, "%s/diffusion_pytorch_model.safetensors", dir);
  a2i2a_status st = st_header(l->t, l->n, NULL, NULL, 0, &hdr, &len);
  FILE *f = st ? NULL : fopen(path, "wb");
  if (!st && !f) st = fail(A2I2A_ERR_IO, "%s: cannot create", path);
  if (f) {
    fwrite(hdr, 1, len, f);
    unsigned long long r = seed * 2654435761ull + 0x9E3779B97F4A7C15ull;
    for (int k = 0; k < l->n; k++) {
      const st_tensor *t = &l->t[k];
      float a = t->ndim == 4 ? sqrtf(6.0f / (float)(t->shape[1] * 9)) : 0.01f;
      for (size_t j = 0; j < t->numel; j++) {
        r ^= r << 13, r ^= r >> 7, r ^= r << 17;
        float v = a * (float)((r >> 40) / 8388608.0 - 1.0);
        fwrite(&v, 4, 1, f);
      }
    }
    if (fclose(f)) st = fail(A2I2A_ERR_IO, "%s: cannot write", path);
  }
  free(hdr);
  free(l);
  return st;
}
