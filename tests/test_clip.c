/* The CLIP text encoder in the OpenCLIP naming of SD 2.x single files: tiny-sd2's weights are
 * rewritten as cond_stage_model.model.* (q/k/v fused into in_proj, one extra last block, as real
 * SD 2.x files carry the layer the family skips) in F32 and F16, and must give the golden
 * text_encoder_sd2 outputs. Also: errors for bad ids, clip skip and head inference. */
#include <cjson/cJSON.h>
#include <math.h>
#include <unistd.h>

#include "check.h"
#include "common/err.h"
#include "sd/clip.h"

typedef struct {
  char name[200];
  int ndim;
  int64_t shape[2];
  float *data; /* owned */
  size_t n;
} entry;

static entry ents[128];
static int nents;

static void put(const char *name, int ndim, int64_t s0, int64_t s1, const float *a, size_t na, const float *b,
                size_t nb, const float *c, size_t nc) {
  entry *e = &ents[nents++];
  snprintf(e->name, sizeof e->name, "cond_stage_model.model.%s", name);
  e->ndim = ndim;
  e->shape[0] = s0;
  e->shape[1] = s1;
  e->n = na + nb + nc;
  e->data = malloc(e->n * sizeof(float));
  memcpy(e->data, a, na * sizeof(float));
  if (b) memcpy(e->data + na, b, nb * sizeof(float));
  if (c) memcpy(e->data + na + nb, c, nc * sizeof(float));
}

static float *get(const st_file *f, const char *fmt, int i, size_t *n) {
  char name[200];
  snprintf(name, sizeof name, fmt, i);
  const st_tensor *t = st_find(f, name);
  if (!t) {
    fprintf(stderr, "missing %s\n", name);
    exit(1);
  }
  float *d = malloc(t->numel * sizeof(float));
  st_to_f32(t, d);
  *n = t->numel;
  return d;
}

static void copy1(const st_file *f, const char *dst, const char *src, int i, int ndim) {
  size_t n;
  float *d = get(f, src, i, &n);
  char name[200];
  snprintf(name, sizeof name, dst, i);
  const st_tensor *t;
  char sname[200];
  snprintf(sname, sizeof sname, src, i);
  t = st_find(f, sname);
  put(name, ndim, t->shape[0], ndim > 1 ? t->shape[1] : 0, d, n, NULL, 0, NULL, 0);
  free(d);
}

/* tiny-sd2 layer `src` as OpenCLIP resblock `dst` */
static void put_layer(const st_file *f, int src, int dst) {
  static const char *pairs[][3] = {
      {"transformer.resblocks.%d.ln_1.weight", "text_model.encoder.layers.%d.layer_norm1.weight", "1"},
      {"transformer.resblocks.%d.ln_1.bias", "text_model.encoder.layers.%d.layer_norm1.bias", "1"},
      {"transformer.resblocks.%d.attn.out_proj.weight", "text_model.encoder.layers.%d.self_attn.out_proj.weight", "2"},
      {"transformer.resblocks.%d.attn.out_proj.bias", "text_model.encoder.layers.%d.self_attn.out_proj.bias", "1"},
      {"transformer.resblocks.%d.ln_2.weight", "text_model.encoder.layers.%d.layer_norm2.weight", "1"},
      {"transformer.resblocks.%d.ln_2.bias", "text_model.encoder.layers.%d.layer_norm2.bias", "1"},
      {"transformer.resblocks.%d.mlp.c_fc.weight", "text_model.encoder.layers.%d.mlp.fc1.weight", "2"},
      {"transformer.resblocks.%d.mlp.c_fc.bias", "text_model.encoder.layers.%d.mlp.fc1.bias", "1"},
      {"transformer.resblocks.%d.mlp.c_proj.weight", "text_model.encoder.layers.%d.mlp.fc2.weight", "2"},
      {"transformer.resblocks.%d.mlp.c_proj.bias", "text_model.encoder.layers.%d.mlp.fc2.bias", "1"},
  };
  for (size_t k = 0; k < sizeof pairs / sizeof *pairs; k++) {
    size_t n;
    float *d = get(f, pairs[k][1], src, &n);
    char name[200], sname[200];
    snprintf(name, sizeof name, pairs[k][0], dst);
    snprintf(sname, sizeof sname, pairs[k][1], src);
    const st_tensor *t = st_find(f, sname);
    put(name, pairs[k][2][0] - '0', t->shape[0], t->ndim > 1 ? t->shape[1] : 0, d, n, NULL, 0, NULL, 0);
    free(d);
  }
  size_t nq, nk, nv, D;
  float *q = get(f, "text_model.encoder.layers.%d.self_attn.q_proj.weight", src, &nq);
  float *k = get(f, "text_model.encoder.layers.%d.self_attn.k_proj.weight", src, &nk);
  float *v = get(f, "text_model.encoder.layers.%d.self_attn.v_proj.weight", src, &nv);
  D = (size_t)sqrt((double)nq);
  char name[200];
  snprintf(name, sizeof name, "transformer.resblocks.%d.attn.in_proj_weight", dst);
  put(name, 2, 3 * (int64_t)D, (int64_t)D, q, nq, k, nk, v, nv);
  free(q), free(k), free(v);
  q = get(f, "text_model.encoder.layers.%d.self_attn.q_proj.bias", src, &nq);
  k = get(f, "text_model.encoder.layers.%d.self_attn.k_proj.bias", src, &nk);
  v = get(f, "text_model.encoder.layers.%d.self_attn.v_proj.bias", src, &nv);
  snprintf(name, sizeof name, "transformer.resblocks.%d.attn.in_proj_bias", dst);
  put(name, 1, 3 * (int64_t)D, 0, q, nq, k, nk, v, nv);
  free(q), free(k), free(v);
}

/* writes ents as a safetensors file, F32 or F16 */
static void write_st(const char *path, int f16) {
  cJSON *h = cJSON_CreateObject();
  size_t off = 0, es = f16 ? 2 : 4;
  for (int i = 0; i < nents; i++) {
    cJSON *t = cJSON_AddObjectToObject(h, ents[i].name);
    cJSON_AddStringToObject(t, "dtype", f16 ? "F16" : "F32");
    cJSON *s = cJSON_AddArrayToObject(t, "shape");
    for (int d = 0; d < ents[i].ndim; d++) cJSON_AddItemToArray(s, cJSON_CreateNumber((double)ents[i].shape[d]));
    cJSON *o = cJSON_AddArrayToObject(t, "data_offsets");
    cJSON_AddItemToArray(o, cJSON_CreateNumber((double)off));
    off += ents[i].n * es;
    cJSON_AddItemToArray(o, cJSON_CreateNumber((double)off));
  }
  char *js = cJSON_PrintUnformatted(h);
  size_t hl = strlen(js), padded = (hl + 7) & ~(size_t)7;
  FILE *f = fopen(path, "wb");
  uint64_t n = padded;
  fwrite(&n, 8, 1, f);
  fwrite(js, 1, hl, f);
  for (size_t i = hl; i < padded; i++) fputc(' ', f);
  for (int i = 0; i < nents; i++)
    for (size_t k = 0; k < ents[i].n; k++) {
      if (f16) {
        uint16_t v = f32_to_f16(ents[i].data[k]);
        fwrite(&v, 2, 1, f);
      } else
        fwrite(&ents[i].data[k], 4, 1, f);
    }
  fclose(f);
  free(js);
  cJSON_Delete(h);
}

static double max_err(const float *a, const float *b, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; i++) {
    double d = fabs((double)a[i] - b[i]);
    if (!(d <= m)) m = d;
  }
  return m;
}

/* encodes the golden input_ids with m (config: heads etc.), compares with last_hidden_state and
 * penultimate_hidden_state_final_ln */
static void compare(const sd_model *m, const cJSON *config, const st_file *gold, double tol, const char *label) {
  clip_text *c = NULL;
  CHECK(clip_load_config(&c, m, config) == A2I2A_OK, "%s: %s", label, a2i2a_last_error());
  if (!c) return;
  const st_tensor *ids_t = st_find(gold, "input_ids");
  int B = (int)ids_t->shape[0], D = clip_hidden_size(c);
  float *idf = malloc(ids_t->numel * sizeof(float));
  st_to_f32(ids_t, idf);
  float *last = malloc((size_t)B * 77 * D * sizeof(float)), *pen = malloc((size_t)B * 77 * D * sizeof(float));
  float *full = malloc(77 * (size_t)D * sizeof(float));
  double diff_full = 0;
  for (int b = 0; b < B; b++) {
    int ids[77];
    for (int t = 0; t < 77; t++) ids[t] = (int)idf[b * 77 + t];
    CHECK(clip_encode(c, ids, 0, last + (size_t)b * 77 * D) == A2I2A_OK, "%s", a2i2a_last_error());
    CHECK(clip_encode(c, ids, 2, pen + (size_t)b * 77 * D) == A2I2A_OK, "%s", a2i2a_last_error());
    /* the block the family skips is there and does change the output */
    CHECK(clip_encode_layers(c, ids, clip_layers(c), 1, full) == A2I2A_OK, "%s", a2i2a_last_error());
    double d = max_err(full, last + (size_t)b * 77 * D, 77 * (size_t)D);
    if (d > diff_full) diff_full = d;
  }
  float *ref = malloc((size_t)B * 77 * D * sizeof(float));
  st_to_f32(st_find(gold, "last_hidden_state"), ref);
  double e1 = max_err(last, ref, (size_t)B * 77 * D);
  st_to_f32(st_find(gold, "penultimate_hidden_state_final_ln"), ref);
  double e2 = max_err(pen, ref, (size_t)B * 77 * D);
  CHECK(e1 <= tol, "%s: last_hidden_state max abs error %g > %g", label, e1, tol);
  CHECK(e2 <= tol, "%s: penultimate max abs error %g > %g", label, e2, tol);
  CHECK(diff_full > 0.1, "%s: running the skipped last block changes nothing (%g)", label, diff_full);
  printf("%s: last_hidden_state %.3g, penultimate %.3g (tolerance %g)\n", label, e1, e2, tol);
  free(idf), free(last), free(pen), free(full), free(ref);
  clip_free(c);
}

int main(void) {
  fixtures_need_full(); /* tiny-sd2 and the single-file tiny-sd1 */
  st_file src, gold;
  CHECK(st_open(fixture("sd/tiny-sd2/text_encoder/model.safetensors"), &src) == A2I2A_OK, "%s",
        a2i2a_last_error());
  CHECK(st_open(fixture("sd/golden/text_encoder_sd2.safetensors"), &gold) == A2I2A_OK, "%s",
        a2i2a_last_error());
  char *js = NULL;
  {
    FILE *f = fopen(fixture("sd/golden/text_encoder_sd2.json"), "rb");
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    js = calloc(1, (size_t)n + 1);
    if (fread(js, 1, (size_t)n, f) != (size_t)n) js[0] = 0;
    fclose(f);
  }
  cJSON *manifest = cJSON_Parse(js);
  free(js);
  const cJSON *config = cJSON_GetObjectItem(manifest, "config");
  double tol = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(manifest, "tensors"),
                                                                           "last_hidden_state"),
                                                       "tolerance"),
                                   "max_abs")
                   ->valuedouble;
  int L = cJSON_GetObjectItem(config, "num_hidden_layers")->valueint;

  /* the OpenCLIP file: L layers + one extra (layer 0's weights again) as the last block */
  copy1(&src, "token_embedding.weight", "text_model.embeddings.token_embedding.weight", 0, 2);
  copy1(&src, "positional_embedding", "text_model.embeddings.position_embedding.weight", 0, 2);
  copy1(&src, "ln_final.weight", "text_model.final_layer_norm.weight", 0, 1);
  copy1(&src, "ln_final.bias", "text_model.final_layer_norm.bias", 0, 1);
  for (int i = 0; i < L; i++) put_layer(&src, i, i);
  put_layer(&src, 0, L);
  float junk[4] = {1, 2, 3, 4};
  put("logit_scale", 1, 1, 0, junk, 1, NULL, 0, NULL, 0); /* unknown keys are ignored */

  char dir[] = "/tmp/a2i2a_clip_XXXXXX";
  CHECK(mkdtemp(dir) != NULL, "mkdtemp");
  char path[300];
  for (int f16 = 0; f16 <= 1; f16++) {
    snprintf(path, sizeof path, "%s/openclip%s.safetensors", dir, f16 ? "_f16" : "");
    write_st(path, f16);
    sd_model m;
    memset(&m, 0, sizeof m);
    snprintf(m.path, sizeof m.path, "%s", path);
    m.layout = SD_LAYOUT_LDM;
    m.family = 2;
    CHECK(st_open(path, &m.file[0]) == A2I2A_OK, "%s", a2i2a_last_error());
    m.file[1] = m.file[2] = m.file[0];
    if (!f16) {
      clip_text *c = NULL;
      /* 24 wide: the 64-wide-heads rule of real checkpoints cannot apply, so it must say so */
      CHECK(clip_load(&c, &m) == A2I2A_ERR_MODEL && strstr(a2i2a_last_error(), "attention heads"), "heads: %s",
            a2i2a_last_error());
      clip_free(c);
      CHECK(clip_load_config(&c, &m, config) == A2I2A_OK, "%s", a2i2a_last_error());
      if (c) {
        CHECK(clip_layers(c) == L + 1 && clip_default_layers(c) == L, "layers %d default %d", clip_layers(c),
              clip_default_layers(c));
        int ids[77];
        for (int t = 0; t < 77; t++) ids[t] = t ? 49407 : 49406;
        float *o = malloc(77 * 24 * sizeof(float));
        CHECK(clip_encode(c, ids, L + 1, o) == A2I2A_ERR_PARAM, "clip skip beyond the layers");
        ids[5] = 49408;
        CHECK(clip_encode(c, ids, 0, o) == A2I2A_ERR_PARAM && strstr(a2i2a_last_error(), "49408"), "bad id: %s",
              a2i2a_last_error());
        free(o);
        clip_free(c);
      }
      compare(&m, config, &gold, tol, "OpenCLIP single file, F32");
    } else {
      /* F16 weights: rounding of the weights (2^-11 relative) bounds the error, not the kernels */
      compare(&m, config, &gold, 3e-2, "OpenCLIP single file, F16");
    }
    st_close(&m.file[0]);
    unlink(path);
  }
  rmdir(dir);

  /* diffusers folder vs single file of tiny-sd1: same numbers (README §5.1) */
  sd_model a, b;
  CHECK(sd_model_open(fixture("sd/tiny-sd1"), &a) == A2I2A_OK, "%s", a2i2a_last_error());
  CHECK(sd_model_open(fixture("sd/tiny-sd1.safetensors"), &b) == A2I2A_OK, "%s", a2i2a_last_error());
  clip_text *ca = NULL, *cb = NULL;
  CHECK(clip_load(&ca, &a) == A2I2A_OK, "%s", a2i2a_last_error());
  CHECK(clip_load_config(&cb, &b, a.config[SD_TEXT]) == A2I2A_OK, "%s", a2i2a_last_error());
  if (ca && cb) {
    int ids[77];
    for (int t = 0; t < 77; t++) ids[t] = t == 0 ? 49406 : t < 5 ? 320 + t : 49407;
    float oa[77 * 32], ob[77 * 32];
    CHECK(clip_encode(ca, ids, 0, oa) == A2I2A_OK && clip_encode(cb, ids, 0, ob) == A2I2A_OK, "encode");
    CHECK(max_err(oa, ob, 77 * 32) == 0, "layouts differ by %g", max_err(oa, ob, 77 * 32));
  }
  clip_free(ca);
  clip_free(cb);
  sd_model_close(&a);
  sd_model_close(&b);

  /* a model of no known family: both loaders say so */
  sd_model u;
  memset(&u, 0, sizeof u);
  snprintf(u.path, sizeof u.path, "mystery.safetensors");
  clip_text *cu = NULL;
  clip_tokenizer *tu = NULL;
  CHECK(clip_load(&cu, &u) == A2I2A_ERR_UNSUPPORTED && strstr(a2i2a_last_error(), "mystery.safetensors: unknown model family"),
        "family: %s", a2i2a_last_error());
  CHECK(tokenizer_load(&tu, &u) == A2I2A_ERR_UNSUPPORTED && strstr(a2i2a_last_error(), "unknown model family"),
        "family: %s", a2i2a_last_error());

  for (int i = 0; i < nents; i++) free(ents[i].data);
  st_close(&src);
  st_close(&gold);
  cJSON_Delete(manifest);
  return check_done();
}
