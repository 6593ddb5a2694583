/* taesd*: the TAESD named by models.json ("taesd.folder") against diffusers' AutoencoderTiny,
 * from its folder and from its .safetensors alone. Every case of the golden file is a prefix X
 * with X.image → X.latents (the encoder) and X.decoder_input → X.decoded (the decoder); shapes
 * come from the stored tensors, tolerances from the manifest. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "sd/safetensors.h"
#include "sd/taesd.h"
#include "verify/verify.h"

static float *load(const st_tensor *t) {
  float *p = t ? malloc(t->numel * sizeof(float)) : NULL;
  if (p) st_to_f32(t, p);
  return p;
}

static const st_tensor *tensor4(const st_file *g, const char *prefix, const char *name) {
  char key[256];
  snprintf(key, sizeof key, "%s.%s", prefix, name);
  const st_tensor *t = st_find(g, key);
  return t && t->ndim == 4 && t->shape[0] == 1 ? t : NULL;
}

/* One side: input → output through fn, compared with the manifest's tolerance of the output. */
static void one(verify_ctx *v, const cJSON *manifest, const st_file *g, taesd *t, const char *label,
                const char *prefix, const char *in_name, const char *out_name, int encode) {
  const st_tensor *in = tensor4(g, prefix, in_name), *out = tensor4(g, prefix, out_name);
  char name[512], key[256];
  snprintf(name, sizeof name, "%s.%s.%s", label, prefix, out_name);
  snprintf(key, sizeof key, "%s.%s", prefix, out_name);
  if (!in || !out) {
    verify_error(v, name, "tensors missing or not [1][C][H][W]");
    return;
  }
  float *x = load(in), *ref = load(out), *got = malloc(out->numel * sizeof(float));
  a2i2a_status st = A2I2A_ERR_NOMEM;
  if (x && ref && got)
    st = encode ? taesd_encode(t, x, (int)in->shape[2], (int)in->shape[3], got)
                : taesd_decode(t, x, (int)in->shape[2], (int)in->shape[3], got);
  if (st) verify_error(v, name, a2i2a_last_error());
  else verify_compare(v, name, got, ref, out->numel, verify_tolerance(manifest, key, 5e-5));
  free(x), free(ref), free(got);
}

void verify_taesd(verify_ctx *v, const char *json_path, const char *stem) {
  if (!v->taesd) {
    verify_error(v, stem, "no TAESD: models.json names none (taesd.folder)");
    return;
  }
  cJSON *manifest = verify_read_json(json_path);
  if (!manifest) {
    verify_error(v, stem, a2i2a_last_error());
    return;
  }
  char path[4200], forms[2][4300];
  snprintf(path, sizeof path, "%.*s.safetensors", (int)(strlen(json_path) - 5), json_path);
  snprintf(forms[0], sizeof forms[0], "%s", v->taesd);
  snprintf(forms[1], sizeof forms[1], "%s/diffusion_pytorch_model.safetensors", v->taesd);
  st_file g;
  if (st_open(path, &g)) {
    verify_error(v, stem, a2i2a_last_error());
    cJSON_Delete(manifest);
    return;
  }
  for (int f = 0; f < 2; f++) {
    char label[300];
    snprintf(label, sizeof label, "%s[%s]", stem, f ? "file" : "folder");
    taesd *t = NULL;
    if (taesd_open(forms[f], &t)) {
      verify_error(v, label, a2i2a_last_error());
      continue;
    }
    /* the cases: every X of an X.image */
    for (int i = 0; i < g.n; i++) {
      const char *n = g.tensors[i].name, *dot = strrchr(n, '.');
      if (!dot || strcmp(dot, ".image")) continue;
      char prefix[128];
      snprintf(prefix, sizeof prefix, "%.*s", (int)(dot - n), n);
      one(v, manifest, &g, t, label, prefix, "image", "latents", 1);
      one(v, manifest, &g, t, label, prefix, "decoder_input", "decoded", 0);
    }
    taesd_free(t);
  }
  st_close(&g);
  cJSON_Delete(manifest);
}
