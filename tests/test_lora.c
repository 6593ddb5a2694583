/* LoRA merging (src/sd/lora.c) against shared/fixtures/sd-ext: the merged weights of
 * golden/lora_sd1 (W + 0.8·alpha/rank·up·down, computed by PyTorch) on tiny-sd1 as a diffusers
 * folder, as a single LDM file, and stored in F16 and BF16; the same LoRA renamed to the
 * diffusers/PEFT naming (made here from the kohya-ss file, given as bytes); two LoRAs against one
 * holding both patches (rank concatenation: up_A·down_A + up_B·down_B = [up_A up_B]·[down_A; down_B]);
 * going back to the checkpoint's weights and prompt embeddings; the refusals, which change nothing;
 * the warning of a partial match. */
#include <math.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "common/err.h"
#include "sd/lora.h"
#include "sd/pipeline.h"

#define MODEL "sd/tiny-sd1"
#define LORA "sd-ext/lora/tiny-sd1-lora.safetensors"
#define GOLDEN "sd-ext/golden/lora_sd1.safetensors"
#define SCALE 0.8

static st_file golden, kohya;

/* The largest |a - b| over two float tensors (any of F32/F16/BF16), -1 if their sizes differ. */
static double max_diff(const st_tensor *a, const st_tensor *b) {
  if (!a || !b || a->numel != b->numel) return -1;
  float *x = malloc(a->numel * sizeof *x), *y = malloc(b->numel * sizeof *y);
  st_to_f32(a, x);
  st_to_f32(b, y);
  double m = 0;
  for (size_t i = 0; i < a->numel; i++) m = fmax(m, fabs((double)x[i] - y[i]));
  free(x), free(y);
  return m;
}

static const st_tensor *model_tensor(struct a2i2a_model *mdl, const char *name) {
  const st_tensor *t = sd_tensor(&mdl->m, SD_UNET, name);
  return t ? t : sd_tensor(&mdl->m, SD_TEXT, name);
}

/* golden's merged.<part>.<name> against the model's tensor of that layer (model_names: the
 * model's name of each, in golden's order of the four layers) */
static void check_merged(struct a2i2a_model *mdl, const char *const model_names[4], double tol, const char *what) {
  static const char *ref[4] = {"merged.unet.down_blocks.0.attentions.0.proj_in.weight",
                               "merged.unet.down_blocks.0.resnets.0.conv1.weight",
                               "merged.unet.down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight",
                               "merged.text_encoder.text_model.encoder.layers.0.self_attn.k_proj.weight"};
  for (int i = 0; i < 4; i++) {
    double d = max_diff(model_tensor(mdl, model_names[i]), st_find(&golden, ref[i]));
    CHECK(d >= 0 && d <= tol, "%s: %s differs from the reference merge by %g (tolerance %g)", what, model_names[i], d, tol);
  }
}

static const char *const diffusers_names[4] = {
    "down_blocks.0.attentions.0.proj_in.weight", "down_blocks.0.resnets.0.conv1.weight",
    "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight",
    "text_model.encoder.layers.0.self_attn.k_proj.weight"};

static struct a2i2a_model *open_model(const char *path) {
  struct a2i2a_model *m = NULL;
  a2i2a_status st = sd_pipeline_open(path, &m);
  CHECK(!st, "open %s: %s", path, a2i2a_last_error());
  return st ? NULL : m;
}

static a2i2a_status apply1(struct a2i2a_model *m, const char *path, const void *data, size_t size, double scale) {
  a2i2a_lora l = {.path = path, .data = data, .size = size, .scale = scale};
  return sd_lora_apply(m, &l, 1, NULL);
}

/* ------------------------------------------------------------------------ LoRA files made here */

typedef struct {
  st_tensor t[2048];
  int n;
} maker;

static void put(maker *mk, const char *name, st_dtype dt, int ndim, const int64_t *shape, const void *data) {
  st_tensor *t = &mk->t[mk->n++];
  memset(t, 0, sizeof *t);
  t->name = strdup(name);
  t->dtype = dt;
  t->ndim = ndim;
  t->numel = 1;
  for (int d = 0; d < ndim; d++) t->shape[d] = shape[d], t->numel *= (size_t)shape[d];
  t->nbytes = t->numel * st_dtype_size(dt);
  void *copy = malloc(t->nbytes + 1);
  memcpy(copy, data, t->nbytes);
  t->data = copy;
}

/* The file's bytes (malloc'd); frees the tensors. */
static uint8_t *bytes_of(maker *mk, size_t *len) {
  char *hdr;
  size_t hl, total;
  if (st_header(mk->t, mk->n, NULL, NULL, 0, &hdr, &hl)) return NULL;
  total = hl;
  for (int i = 0; i < mk->n; i++) total += mk->t[i].nbytes;
  uint8_t *b = malloc(total), *p = b + hl;
  memcpy(b, hdr, hl);
  for (int i = 0; i < mk->n; i++) {
    memcpy(p, mk->t[i].data, mk->t[i].nbytes);
    p += mk->t[i].nbytes;
    free((void *)mk->t[i].data);
    free(mk->t[i].name);
  }
  free(hdr);
  mk->n = 0;
  *len = total;
  return b;
}

static float *f32_of(const st_tensor *t) {
  float *v = malloc(t->numel * sizeof *v);
  st_to_f32(t, v);
  return v;
}

/* For each layer of the fixture's LoRA: its base name, down, up and alpha (rank if absent). */
typedef void (*layer_fn)(maker *mk, const char *base, const st_tensor *down, const st_tensor *up, float alpha,
                         void *arg);
static void each_layer(layer_fn fn, maker *mk, void *arg) {
  char name[600];
  for (int i = 0; i < kohya.n; i++) {
    const char *tn = kohya.tensors[i].name;
    size_t len = strlen(tn);
    if (len < 18 || strcmp(tn + len - 17, ".lora_down.weight")) continue;
    char base[512];
    snprintf(base, sizeof base, "%.*s", (int)(len - 17), tn);
    snprintf(name, sizeof name, "%s.lora_up.weight", base);
    const st_tensor *up = st_find(&kohya, name);
    snprintf(name, sizeof name, "%s.alpha", base);
    const st_tensor *al = st_find(&kohya, name);
    float alpha = (float)kohya.tensors[i].shape[0];
    if (al) st_to_f32(al, &alpha);
    fn(mk, base, &kohya.tensors[i], up, alpha, arg);
  }
}

/* PEFT: unet.<module>.lora_A.weight = down, lora_B.weight = up · alpha/rank (PEFT files carry no
 * alpha), in F32; the module from the golden's list of layers */
static void peft_layer(maker *mk, const char *base, const st_tensor *down, const st_tensor *up, float alpha, void *arg) {
  const cJSON *layers = arg, *l;
  const char *module = NULL;
  cJSON_ArrayForEach(l, layers) {
    if (!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(l, "kohya_name")), base))
      module = cJSON_GetStringValue(cJSON_GetObjectItem(l, "module"));
  }
  if (!module) return;
  char name[600];
  float *d = f32_of(down), *u = f32_of(up);
  float f = alpha / (float)down->shape[0];
  for (size_t i = 0; i < up->numel; i++) u[i] *= f;
  snprintf(name, sizeof name, "%s.lora_A.weight", module);
  put(mk, name, ST_F32, down->ndim, down->shape, d);
  snprintf(name, sizeof name, "%s.lora_B.weight", module);
  put(mk, name, ST_F32, up->ndim, up->shape, u);
  free(d), free(u);
}

/* B: the same ups, the downs' rows rotated (another product), the same alphas */
static void rotate(const st_tensor *down, float *out) {
  int64_t r = down->shape[0];
  size_t row = down->numel / (size_t)r;
  float *d = f32_of(down);
  for (int64_t k = 0; k < r; k++) memcpy(out + (size_t)k * row, d + (size_t)((k + 1) % r) * row, row * sizeof *out);
  free(d);
}

static void rotated_layer(maker *mk, const char *base, const st_tensor *down, const st_tensor *up, float alpha, void *arg) {
  (void)arg;
  char name[600];
  float *d = malloc(down->numel * sizeof *d), *u = f32_of(up);
  rotate(down, d);
  snprintf(name, sizeof name, "%s.lora_down.weight", base);
  put(mk, name, ST_F32, down->ndim, down->shape, d);
  snprintf(name, sizeof name, "%s.lora_up.weight", base);
  put(mk, name, ST_F32, up->ndim, up->shape, u);
  snprintf(name, sizeof name, "%s.alpha", base);
  put(mk, name, ST_F32, 0, NULL, &alpha);
  free(d), free(u);
}

/* C: rank 2r, up [up·α/r | up·α/r], down [down; rotated down], alpha 2r (a factor of 1) */
static void summed_layer(maker *mk, const char *base, const st_tensor *down, const st_tensor *up, float alpha, void *arg) {
  (void)arg;
  int64_t r = down->shape[0], out = up->shape[0];
  size_t row = down->numel / (size_t)r;
  float *d = malloc(2 * down->numel * sizeof *d), *u = malloc(2 * up->numel * sizeof *u), *u1 = f32_of(up),
        *d1 = f32_of(down), f = alpha / (float)r, a2 = (float)(2 * r);
  memcpy(d, d1, down->numel * sizeof *d);
  rotate(down, d + (size_t)r * row);
  for (int64_t o = 0; o < out; o++)
    for (int64_t k = 0; k < r; k++) u[o * 2 * r + k] = u[o * 2 * r + r + k] = u1[o * r + k] * f;
  int64_t dshape[4], ushape[4];
  memcpy(dshape, down->shape, sizeof dshape);
  memcpy(ushape, up->shape, sizeof ushape);
  dshape[0] = 2 * r;
  ushape[1] = 2 * r;
  char name[600];
  snprintf(name, sizeof name, "%s.lora_down.weight", base);
  put(mk, name, ST_F32, down->ndim, dshape, d);
  snprintf(name, sizeof name, "%s.lora_up.weight", base);
  put(mk, name, ST_F32, up->ndim, ushape, u);
  snprintf(name, sizeof name, "%s.alpha", base);
  put(mk, name, ST_F32, 0, NULL, &a2);
  free(d), free(u), free(u1), free(d1);
}

/* the fixture's layers under names no model has, the first `renamed` of them (-1: all) */
static void renamed_layer(maker *mk, const char *base, const st_tensor *down, const st_tensor *up, float alpha, void *arg) {
  int *left = arg;
  char name[600], b[560];
  if (*left) snprintf(b, sizeof b, "lora_unet_nowhere_%d", mk->n), (*left)--;
  else snprintf(b, sizeof b, "%s", base);
  float *d = f32_of(down), *u = f32_of(up);
  snprintf(name, sizeof name, "%s.lora_down.weight", b);
  put(mk, name, ST_F32, down->ndim, down->shape, d);
  snprintf(name, sizeof name, "%s.lora_up.weight", b);
  put(mk, name, ST_F32, up->ndim, up->shape, u);
  snprintf(name, sizeof name, "%s.alpha", b);
  put(mk, name, ST_F32, 0, NULL, &alpha);
  free(d), free(u);
}

/* ------------------------------------------------------------------------ a model in F16 / BF16 */

static void link_to(const char *from, const char *to) {
  char real[4096];
  CHECK(realpath(from, real) && symlink(real, to) == 0, "link %s", to);
}

/* tiny-sd1's folder with its UNet and text encoder stored in dtype dt (the rest linked) */
static void write_model_as(const char *dir, st_dtype dt) {
  static const char *linked[] = {"vae", "scheduler", "tokenizer", "model_index.json"};
  static const char *parts[2][2] = {{"unet", "diffusion_pytorch_model.safetensors"}, {"text_encoder", "model.safetensors"}};
  char a[8400], b[8400];
  mkdir(dir, 0755);
  for (int i = 0; i < 4; i++) {
    snprintf(a, sizeof a, "%s/%s", fixture(MODEL), linked[i]);
    snprintf(b, sizeof b, "%s/%s", dir, linked[i]);
    link_to(a, b);
  }
  for (int p = 0; p < 2; p++) {
    snprintf(b, sizeof b, "%s/%s", dir, parts[p][0]);
    mkdir(b, 0755);
    snprintf(a, sizeof a, "%s/%s/config.json", fixture(MODEL), parts[p][0]);
    snprintf(b, sizeof b, "%s/%s/config.json", dir, parts[p][0]);
    link_to(a, b);
    st_file f;
    snprintf(a, sizeof a, "%s/%s/%s", fixture(MODEL), parts[p][0], parts[p][1]);
    CHECK(!st_open(a, &f), "%s", a2i2a_last_error());
    maker *mk = calloc(1, sizeof *mk);
    for (int i = 0; i < f.n; i++) {
      const st_tensor *t = &f.tensors[i];
      float *v = f32_of(t);
      uint16_t *h = malloc(t->numel * 2 + 1);
      for (size_t k = 0; k < t->numel; k++) {
        uint32_t u;
        memcpy(&u, &v[k], 4);
        h[k] = dt == ST_F16 ? f32_to_f16(v[k]) : (uint16_t)((u + 0x7fff + ((u >> 16) & 1)) >> 16);
      }
      put(mk, t->name, dt, t->ndim, t->shape, h);
      free(v), free(h);
    }
    size_t len;
    uint8_t *bytes = bytes_of(mk, &len);
    snprintf(b, sizeof b, "%s/%s/%s", dir, parts[p][0], parts[p][1]);
    FILE *o = fopen(b, "wb");
    CHECK(o && fwrite(bytes, 1, len, o) == len && fclose(o) == 0, "write %s", b);
    free(bytes), free(mk);
    st_close(&f);
  }
}

/* ------------------------------------------------------------------------ SD 2.x */

typedef struct {
  char **v;
  int n;
} name_list;

static void collect(const char *name, size_t numel, void *arg) {
  (void)numel;
  name_list *l = arg;
  l->v = realloc(l->v, (size_t)(l->n + 1) * sizeof *l->v);
  l->v[l->n++] = strdup(name);
}

static float det(unsigned k) { /* a fixed pseudo-random value in [-0.05, 0.05) */
  k = k * 2654435761u + 12345u;
  k ^= k >> 13;
  return ((k & 0xffff) / 65536.0f - 0.5f) * 0.1f;
}

static void sd2_lora(struct a2i2a_model *m, maker *mk) {
  name_list names = {0};
  CHECK(!unet_list_tensor_names(&m->m, 0, collect, &names), "%s", a2i2a_last_error());
  const float alpha = 1.0f, scale = 0.7f;
  const int rank = 2;
  int layers = 0;
  char key[600], name[700];
  const st_tensor *proj_in = NULL;
  float *pu = NULL, *pd = NULL;
  for (int i = 0; i < names.n; i++) {
    const char *n = names.v[i];
    const st_tensor *t = sd_tensor(&m->m, SD_UNET, n);
    if (!strstr(n, ".attentions.") || !t || t->ndim != 2 || !strstr(n, ".weight")) continue;
    if (strstr(n, "norm")) continue;
    int k = snprintf(key, sizeof key, "lora_unet_");
    for (const char *p = n; *p && strcmp(p, ".weight"); p++) key[k++] = *p == '.' ? '_' : *p;
    key[k] = 0;
    int64_t down[2] = {rank, t->shape[1]}, up[2] = {t->shape[0], rank};
    float *d = malloc((size_t)(rank * t->shape[1]) * sizeof *d), *u = malloc((size_t)(rank * t->shape[0]) * sizeof *u);
    for (int64_t j = 0; j < rank * t->shape[1]; j++) d[j] = det((unsigned)(j + 7 * i));
    for (int64_t j = 0; j < rank * t->shape[0]; j++) u[j] = det((unsigned)(j + 13 * i + 1));
    snprintf(name, sizeof name, "%s.lora_down.weight", key);
    put(mk, name, ST_F32, 2, down, d);
    snprintf(name, sizeof name, "%s.lora_up.weight", key);
    put(mk, name, ST_F32, 2, up, u);
    snprintf(name, sizeof name, "%s.alpha", key);
    put(mk, name, ST_F32, 0, NULL, &alpha);
    layers++;
    if (!proj_in && strstr(n, ".proj_in.")) {
      proj_in = t;
      pu = u, pd = d;
    } else {
      free(u), free(d);
    }
  }
  CHECK(proj_in && proj_in->ndim == 2, "tiny-sd2 has no linear proj_in");
  size_t len;
  uint8_t *b = bytes_of(mk, &len);
  /* the expected proj_in: the checkpoint's values plus the patch, in double */
  double *want = NULL;
  if (proj_in) {
    float *w0 = f32_of(proj_in);
    int64_t out = proj_in->shape[0], in = proj_in->shape[1];
    want = malloc((size_t)(out * in) * sizeof *want);
    for (int64_t o = 0; o < out; o++)
      for (int64_t c = 0; c < in; c++) {
        double acc = 0;
        for (int r = 0; r < rank; r++) acc += (double)pu[o * rank + r] * pd[r * in + c];
        want[o * in + c] = w0[o * in + c] + scale * alpha / rank * acc;
      }
    free(w0);
  }
  CHECK(!apply1(m, "sd2.safetensors", b, len, scale), "SD 2.x: %s", a2i2a_last_error());
  CHECK(m->loras.n == 1 && m->loras.info[0].layers == layers && layers > 10, "SD 2.x: %d of %d layers merged",
        m->loras.n ? m->loras.info[0].layers : 0, layers);
  if (proj_in && want) {
    float *got = f32_of(proj_in);
    double worst = 0;
    for (size_t i = 0; i < proj_in->numel; i++) worst = fmax(worst, fabs(got[i] - want[i]));
    CHECK(worst < 1e-6, "SD 2.x: the linear proj_in is off by %g", worst);
    free(got);
  }
  free(want), free(pu), free(pd), free(b);
  for (int i = 0; i < names.n; i++) free(names.v[i]);
  free(names.v);
}

/* ------------------------------------------------------------------------ log capture */

static int warnings;
static char last_warning[1024];
static void on_log(void *user, a2i2a_log_level level, const char *msg) {
  (void)user;
  if (level == A2I2A_LOG_WARNING) warnings++, snprintf(last_warning, sizeof last_warning, "%s", msg);
}

int main(void) {
  if (!fixture_case(LORA) || !fixture_case(GOLDEN)) return check_done();
  CHECK(!st_open(fixture(GOLDEN), &golden) && !st_open(fixture(LORA), &kohya), "%s", a2i2a_last_error());
  cJSON *manifest = NULL;
  {
    char p[4200];
    snprintf(p, sizeof p, "%.*s.json", (int)strlen(fixture(GOLDEN)) - 12, fixture(GOLDEN));
    FILE *f = fopen(p, "rb");
    static char buf[1 << 20];
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f) fclose(f);
    buf[n] = 0;
    manifest = cJSON_Parse(buf);
  }
  const cJSON *layers = cJSON_GetObjectItem(manifest, "layers");
  CHECK(cJSON_GetArraySize(layers) == 295, "the golden lists %d layers", cJSON_GetArraySize(layers));

  /* 1. the diffusers folder: the merge, every layer matched, and back */
  struct a2i2a_model *m = open_model(fixture(MODEL)), *plain = open_model(fixture(MODEL));
  if (!m || !plain) return check_done();
  const float *e0, *e1, *e2;
  float *before = malloc((size_t)CLIP_CTX * sd_context_dim(m) * sizeof *before);
  size_t ne = (size_t)CLIP_CTX * sd_context_dim(m);
  CHECK(!sd_prompt_embedding(m, "a cat", 0, "prompt", NULL, &e0), "%s", a2i2a_last_error());
  memcpy(before, e0, ne * sizeof *before);
  CHECK(!apply1(m, fixture(LORA), NULL, 0, SCALE), "%s", a2i2a_last_error());
  CHECK(m->loras.n == 1 && m->loras.info[0].layers == 295, "%d layers merged", m->loras.n ? m->loras.info[0].layers : 0);
  check_merged(m, diffusers_names, 1e-6, "diffusers folder");
  /* the prompt cache: the text encoder changed, so does the embedding of the same prompt */
  CHECK(!sd_prompt_embedding(m, "a cat", 0, "prompt", NULL, &e1), "%s", a2i2a_last_error());
  CHECK(memcmp(before, e1, ne * sizeof *before) != 0, "the embedding did not change with the LoRA (cached?)");
  /* the same list again changes nothing; none gives the checkpoint's weights back, bit for bit */
  const void *merged_data = model_tensor(m, diffusers_names[0])->data;
  CHECK(!apply1(m, fixture(LORA), NULL, 0, SCALE) && model_tensor(m, diffusers_names[0])->data == merged_data,
        "the same LoRA list merged again");
  CHECK(!sd_lora_apply(m, NULL, 0, NULL) && m->loras.n == 0, "%s", a2i2a_last_error());
  for (int i = 0; i < 4; i++)
    CHECK(max_diff(model_tensor(m, diffusers_names[i]), model_tensor(plain, diffusers_names[i])) == 0,
          "%s not back to the checkpoint's", diffusers_names[i]);
  CHECK(!sd_prompt_embedding(m, "a cat", 0, "prompt", NULL, &e2) && !memcmp(before, e2, ne * sizeof *before),
        "the embedding without the LoRA is not the first one");
  free(before);

  /* 2. PEFT naming, given as bytes */
  maker *mk = calloc(1, sizeof *mk);
  size_t len;
  each_layer(peft_layer, mk, (void *)layers);
  CHECK(mk->n == 2 * 295, "%d PEFT tensors", mk->n);
  uint8_t *peft = bytes_of(mk, &len);
  CHECK(!apply1(m, "peft.safetensors", peft, len, SCALE), "PEFT: %s", a2i2a_last_error());
  CHECK(m->loras.n == 1 && m->loras.info[0].layers == 295, "PEFT: %d layers", m->loras.info[0].layers);
  check_merged(m, diffusers_names, 1e-6, "PEFT naming");
  free(peft);

  /* 3. two LoRAs = one with both patches */
  each_layer(rotated_layer, mk, NULL);
  size_t lb, lc;
  uint8_t *b = bytes_of(mk, &lb);
  each_layer(summed_layer, mk, NULL);
  uint8_t *c = bytes_of(mk, &lc);
  a2i2a_lora two[2] = {{.path = fixture(LORA), .scale = SCALE}, {.path = "b", .data = b, .size = lb, .scale = SCALE}};
  CHECK(!sd_lora_apply(m, two, 2, NULL), "two LoRAs: %s", a2i2a_last_error());
  CHECK(!apply1(plain, "c", c, lc, SCALE), "the summed LoRA: %s", a2i2a_last_error());
  double worst = 0, moved = 0;
  for (int i = 0; i < m->loras.npatches; i++) {
    const st_tensor *t = m->loras.patch[i].t, *u = model_tensor(plain, t->name);
    worst = fmax(worst, max_diff(t, u));
    st_tensor orig = *t;
    orig.data = m->loras.patch[i].orig;
    moved = fmax(moved, max_diff(t, &orig));
  }
  CHECK(m->loras.npatches == 295 && plain->loras.npatches == 295, "%d and %d tensors patched", m->loras.npatches,
        plain->loras.npatches);
  CHECK(worst <= 1e-6, "two LoRAs differ from their summed patches by %g", worst);
  CHECK(moved > 1e-3, "the LoRAs hardly moved the weights (%g)", moved);
  free(b), free(c);

  /* 4. refusals change nothing: not a LoRA, another family, no layer matching */
  const void *kept = model_tensor(m, diffusers_names[0])->data;
  a2i2a_status st = apply1(m, fixture(GOLDEN), NULL, 0, 1);
  CHECK(st == A2I2A_ERR_FORMAT && strstr(a2i2a_last_error(), "not a LoRA"), "not a LoRA: %s", a2i2a_last_error());
  int none = -1;
  each_layer(renamed_layer, mk, &none);
  uint8_t *r = bytes_of(mk, &len);
  st = apply1(m, "renamed.safetensors", r, len, 1);
  CHECK(st == A2I2A_ERR_MODEL && strstr(a2i2a_last_error(), "renamed.safetensors: none of the LoRA's 295 layers"),
        "no layer matching: %s", a2i2a_last_error());
  free(r);
  struct a2i2a_model *sd2 = open_model(fixture("sd/tiny-sd2"));
  if (sd2) {
    st = apply1(sd2, fixture(LORA), NULL, 0, 1);
    CHECK(st == A2I2A_ERR_MODEL && strstr(a2i2a_last_error(), "another model family") &&
              strstr(a2i2a_last_error(), "x32 (out x in), the model's "),
          "another family: %s", a2i2a_last_error());
    CHECK(sd2->loras.n == 0 && sd2->loras.npatches == 0, "a refused LoRA left a set behind");
    sd_pipeline_close(sd2);
  }
  CHECK(m->loras.n == 2 && model_tensor(m, diffusers_names[0])->data == kept, "a refusal changed the model's set");

  /* 5. a partial match: merged, one warning with the count and the first names */
  int some = 5;
  each_layer(renamed_layer, mk, &some);
  r = bytes_of(mk, &len);
  a2i2a_job *job = NULL;
  CHECK(!a2i2a_job_new(&(a2i2a_callbacks){.log = on_log}, &job), "job");
  a2i2a_lora partial = {.path = "partial.safetensors", .data = r, .size = len, .scale = 1};
  a2i2a_i2i_params p = a2i2a_i2i_default_params();
  p.steps = 2;
  uint8_t px[16 * 16 * 3] = {0}, *out = NULL;
  int w, h;
  st = a2i2a_model_set_loras(m, &partial, 1, job);
  if (!st) st = a2i2a_i2i(m, px, 16, 16, &p, &out, &w, &h, job);
  CHECK(!st && warnings == 1 && strstr(last_warning, "partial.safetensors: 5 of 295 LoRA layers match no layer") &&
            strstr(last_warning, "lora_unet_nowhere_"),
        "partial match: %s; %d warnings: %s", st ? a2i2a_last_error() : "ok", warnings, last_warning);
  CHECK(m->loras.n == 1 && m->loras.info[0].layers == 290, "partial: %d layers merged", m->loras.info[0].layers);
  a2i2a_free(out);
  a2i2a_job_free(job);
  free(r);
  sd_pipeline_close(m);
  sd_pipeline_close(plain);

  /* 6. SD 2.x (tiny-sd2: linear proj_in/proj_out, its own widths): a rank-2 LoRA on every
   * attention weight and the first text-encoder layer, made here, against the formula in double */
  struct a2i2a_model *m2 = open_model(fixture("sd/tiny-sd2"));
  if (m2) sd2_lora(m2, mk);
  sd_pipeline_close(m2);

  /* 6. the single LDM file: the same layers under the original names */
  struct a2i2a_model *ldm = calloc(1, sizeof *ldm);
  char cfg[4200];
  snprintf(cfg, sizeof cfg, "%s/text_encoder/config.json", fixture(MODEL));
  FILE *cf = fopen(cfg, "rb");
  static char cbuf[65536];
  size_t cn = cf ? fread(cbuf, 1, sizeof cbuf - 1, cf) : 0;
  if (cf) fclose(cf);
  cbuf[cn] = 0;
  if (!sd_model_open(fixture("sd/tiny-sd1.safetensors"), &ldm->m)) {
    ldm->m.config[SD_TEXT] = cJSON_Parse(cbuf); /* the tiny encoder's heads are in no tensor */
    CHECK(!clip_load(&ldm->clip, &ldm->m) && !unet_load(&ldm->unet, &ldm->m), "%s", a2i2a_last_error());
    CHECK(!apply1(ldm, fixture(LORA), NULL, 0, SCALE), "LDM: %s", a2i2a_last_error());
    CHECK(ldm->loras.n == 1 && ldm->loras.info[0].layers == 295, "LDM: %d layers", ldm->loras.info[0].layers);
    static const char *const ldm_names[4] = {
        "model.diffusion_model.input_blocks.1.1.proj_in.weight", "model.diffusion_model.input_blocks.1.0.in_layers.2.weight",
        "model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn1.to_q.weight",
        "cond_stage_model.transformer.text_model.encoder.layers.0.self_attn.k_proj.weight"};
    check_merged(ldm, ldm_names, 1e-6, "LDM file");
  } else {
    CHECK(0, "%s", a2i2a_last_error());
  }
  sd_pipeline_close(ldm);

  /* 7. stored in F16 and BF16: merged in float32, stored back in the dtype (one rounding of the
   * checkpoint, one of the result: a few units of the dtype's last place) */
  char tmpl[] = "/tmp/a2i2a-lora-XXXXXX", dir[4200];
  CHECK(mkdtemp(tmpl) != NULL, "mkdtemp");
  static const struct {
    st_dtype dt;
    const char *name;
    double tol;
  } kinds[] = {{ST_F16, "f16", 2e-3}, {ST_BF16, "bf16", 1.6e-2}};
  for (int k = 0; k < 2; k++) {
    snprintf(dir, sizeof dir, "%s/%s", tmpl, kinds[k].name);
    write_model_as(dir, kinds[k].dt);
    struct a2i2a_model *h16 = open_model(dir);
    if (!h16) continue;
    CHECK(!apply1(h16, fixture(LORA), NULL, 0, SCALE), "%s: %s", kinds[k].name, a2i2a_last_error());
    const st_tensor *t = model_tensor(h16, diffusers_names[2]);
    CHECK(t && t->dtype == kinds[k].dt, "%s: the merged weight is not stored in its dtype", kinds[k].name);
    check_merged(h16, diffusers_names, kinds[k].tol, kinds[k].name);
    sd_pipeline_close(h16);
  }
  char cmd[4300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpl);
  CHECK(system(cmd) == 0, "rm");

  free(mk);
  cJSON_Delete(manifest);
  st_close(&golden);
  st_close(&kohya);
  return check_done();
}
