/* The common loader: where a vocoder's files are (a folder, a weights file, ORG/NAME in the
 * Hugging Face cache), which kind it is, its weights (safetensors or a PyTorch pickle), and the
 * weight helpers both families use. */
#include "vocoder/vocoder_internal.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "common/err.h"
#include "hub/hub.h"
#include "sd/torch_file.h"

struct vocoder {
  vocoder_kind kind;
  vocoder_features features;
  st_file weights;
  vocos *vocos;
  hifigan *hifigan;
};

static int is_file(const char *p) {
  struct stat s;
  return stat(p, &s) == 0 && S_ISREG(s.st_mode);
}

static int ends_with(const char *s, const char *end) {
  size_t n = strlen(s), e = strlen(end);
  return n >= e && !strcmp(s + n - e, end);
}

/* ---------------------------------------------------------------- weights */

a2i2a_status vocoder_weight(const st_file *f, weight *w, size_t numel, const char *fmt, ...) {
  char name[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(name, sizeof name, fmt, ap);
  va_end(ap);
  const st_tensor *t = st_find(f, name);
  if (!t) return fail(A2I2A_ERR_MODEL, "%s: tensor '%s' missing", f->path, name);
  a2i2a_status st = weight_from_tensor(w, t, numel);
  if (st) fail_prefix(f->path);
  return st;
}

a2i2a_status vocoder_normed_weight(const st_file *f, weight *w, float **data, int64_t rows, size_t numel,
                                   const char *fmt, ...) {
  char base[200], name[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(base, sizeof base, fmt, ap);
  va_end(ap);
  *data = NULL;
  memset(w, 0, sizeof *w);
  weight g, v;
  const char *forms[][2] = {{"weight_g", "weight_v"}, {"parametrizations.weight.original0", "parametrizations.weight.original1"}};
  int form = -1;
  for (int i = 0; i < 2 && form < 0; i++) {
    snprintf(name, sizeof name, "%s.%s", base, forms[i][1]);
    if (st_find(f, name)) form = i;
  }
  a2i2a_status st;
  if (form < 0) { /* the norm was removed before saving: the weight itself */
    if ((st = vocoder_weight(f, &v, numel, "%s.weight", base))) return st;
  } else if ((st = vocoder_weight(f, &v, numel, "%s.%s", base, forms[form][1])) ||
             (st = vocoder_weight(f, &g, (size_t)rows, "%s.%s", base, forms[form][0]))) {
    return st;
  }
  float *out = xmalloc(numel * sizeof(float), "vocoder weights");
  float *gains = form < 0 ? NULL : xmalloc((size_t)rows * sizeof(float), "vocoder weights");
  if (!out || (form >= 0 && !gains)) return free(out), free(gains), A2I2A_ERR_NOMEM;
  weight_to_f32(&v, out);
  if (form >= 0) {
    weight_to_f32(&g, gains);
    /* torch's _weight_norm: v · (g / ‖v‖), ‖v‖ over each row */
    const size_t per = numel / (size_t)rows;
    for (int64_t r = 0; r < rows; r++) {
      float *row = out + (size_t)r * per;
      double sq = 0;
      for (size_t i = 0; i < per; i++) sq += (double)row[i] * row[i];
      const float scale = sq > 0 ? (float)(gains[r] / sqrt(sq)) : 0.0f;
      for (size_t i = 0; i < per; i++) row[i] *= scale;
    }
  }
  free(gains);
  *data = out;
  w->dtype = ST_F32;
  w->data = out;
  w->numel = numel;
  return A2I2A_OK;
}

a2i2a_status vocoder_config_number(const char *path, const char *key, const char *text, double lo, double hi,
                                   int whole, double *out) {
  if (!text) return fail(A2I2A_ERR_MODEL, "%s: '%s' missing: an incomplete config", path, key);
  char *end;
  double v = strtod(text, &end);
  while (*end == ' ') end++;
  if (end == text || *end || !(v >= lo && v <= hi) || (whole && v != floor(v)))
    return fail(A2I2A_ERR_MODEL, "%s: '%s' is '%.40s', not a %s in [%g, %g]", path, key, text,
                whole ? "whole number" : "number", lo, hi);
  *out = v;
  return A2I2A_OK;
}

/* ---------------------------------------------------------------- finding the files */

/* HiFi-GAN's generator in dir: generator* or g_<steps> (its training checkpoints), or a state
 * dict under transformers' names; safetensors before pickles. Exactly one of a kind, else the
 * error says which to name. */
static a2i2a_status find_generator(const char *dir, char *out, size_t n) {
  static const char *const exact[] = {"model.safetensors", "pytorch_model.bin"};
  DIR *d = opendir(dir);
  if (!d) return fail(A2I2A_ERR_IO, "%s: cannot read the folder", dir);
  char found[2][2][256] = {{"", ""}, {"", ""}}; /* [safetensors?][first, second] */
  int count[2] = {0, 0};
  struct dirent *e;
  while ((e = readdir(d))) {
    const char *s = e->d_name;
    int named = !strncmp(s, "generator", 9) || (!strncmp(s, "g_", 2) && s[2] >= '0' && s[2] <= '9');
    for (size_t i = 0; i < sizeof exact / sizeof *exact; i++) named |= !strcmp(s, exact[i]);
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", dir, s);
    if (!named || !is_file(path)) continue;
    int kind = ends_with(s, ".safetensors");
    if (count[kind] < 2) snprintf(found[kind][count[kind]], sizeof found[kind][0], "%s", s);
    count[kind]++;
  }
  closedir(d);
  int kind = count[1] ? 1 : 0;
  if (!count[kind])
    return fail(A2I2A_ERR_MODEL, "%s: HiFi-GAN config.json but no generator file (generator*, g_*, "
                "model.safetensors or pytorch_model.bin)", dir);
  if (count[kind] > 1)
    return fail(A2I2A_ERR_MODEL, "%s: %d generator files (%s, %s, ...): give the one to use as the path", dir,
                count[kind], found[kind][0], found[kind][1]);
  snprintf(out, n, "%s/%s", dir, found[kind][0]);
  return A2I2A_OK;
}

/* Vocos's weights in dir: as published (pytorch_model.bin), or converted (model.safetensors). */
static a2i2a_status find_vocos_weights(const char *dir, char *out, size_t n) {
  static const char *const names[] = {"model.safetensors", "pytorch_model.bin"};
  for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
    snprintf(out, n, "%s/%s", dir, names[i]);
    if (is_file(out)) return A2I2A_OK;
  }
  return fail(A2I2A_ERR_MODEL, "%s: Vocos config.yaml but no weights (model.safetensors or pytorch_model.bin)", dir);
}

/* Whether a config.json is HiFi-GAN's: it states the generator's upsampling. */
static int is_hifigan_config(const char *text, size_t len) {
  cJSON *j = cJSON_ParseWithLength(text, len);
  int yes = cJSON_GetObjectItemCaseSensitive(j, "upsample_rates") || cJSON_GetObjectItemCaseSensitive(j, "resblock");
  cJSON_Delete(j);
  return yes;
}

a2i2a_status vocoder_open(const char *path, vocoder **out) {
  *out = NULL;
  if (!path || !*path) return fail(A2I2A_ERR_PARAM, "no vocoder given");
  char dir[4096], weights_path[4400] = "", config[4400];
  struct stat sb;
  a2i2a_status st;
  if (stat(path, &sb) == 0) {
    snprintf(dir, sizeof dir, "%s", path);
    if (!S_ISDIR(sb.st_mode)) { /* a weights file (or the config): its folder holds the rest */
      char *slash = strrchr(dir, '/');
      const char *name = slash ? slash + 1 : dir;
      if (strcmp(name, "config.yaml") && strcmp(name, "config.json"))
        snprintf(weights_path, sizeof weights_path, "%s", path);
      if (slash) *slash = 0;
      else snprintf(dir, sizeof dir, ".");
    }
  } else if (hub_repo_valid(path)) {
    if ((st = hub_snapshot(NULL, path, dir, sizeof dir))) return st;
  } else {
    return fail(A2I2A_ERR_IO, "%s: no such file or folder", path);
  }

  vocoder *v = xcalloc(1, sizeof *v, "a vocoder");
  if (!v) return A2I2A_ERR_NOMEM;
  void *map = NULL;
  size_t len = 0;
  snprintf(config, sizeof config, "%s/config.yaml", dir);
  if (is_file(config)) {
    v->kind = VOCODER_VOCOS;
  } else {
    snprintf(config, sizeof config, "%s/config.json", dir);
    v->kind = VOCODER_HIFIGAN;
  }
  if (!is_file(config)) {
    st = fail(A2I2A_ERR_MODEL, "%s: not a vocoder: neither Vocos's config.yaml nor HiFi-GAN's config.json is there",
              path);
    goto done;
  }
  if ((st = st_map_file(config, &map, &len))) goto done;
  if (v->kind == VOCODER_HIFIGAN && !is_hifigan_config(map, len)) {
    st = fail(A2I2A_ERR_MODEL, "%s: not a vocoder: its config.json is not HiFi-GAN's (no upsample_rates)", path);
    goto done;
  }
  if (!weights_path[0])
    st = v->kind == VOCODER_VOCOS ? find_vocos_weights(dir, weights_path, sizeof weights_path)
                                  : find_generator(dir, weights_path, sizeof weights_path);
  if (st || (st = weights_open(weights_path, &v->weights))) goto done;
  st = v->kind == VOCODER_VOCOS ? vocos_load(config, map, len, &v->weights, &v->vocos, &v->features)
                                : hifigan_load(config, map, len, &v->weights, &v->hifigan, &v->features);
done:
  if (map) munmap(map, len);
  if (st) vocoder_close(v);
  else *out = v;
  return st;
}

void vocoder_close(vocoder *v) {
  if (!v) return;
  vocos_free(v->vocos);
  hifigan_free(v->hifigan);
  st_close(&v->weights);
  free(v);
}

vocoder_kind vocoder_kind_of(const vocoder *v) { return v->kind; }

const vocoder_features *vocoder_features_of(const vocoder *v) { return &v->features; }

void vocoder_describe(const vocoder *v, char *buf, size_t size) {
  if (v->kind == VOCODER_VOCOS) vocos_describe(v->vocos, buf, size);
  else hifigan_describe(v->hifigan, buf, size);
}

int64_t vocoder_samples(const vocoder_features *f, int frames) {
  return (int64_t)f->hop * (frames - 1 + f->whole_frames);
}

int vocoder_frames_for(const vocoder_features *f, int64_t n) {
  int64_t t = (n + f->hop / 2) / f->hop + 1 - f->whole_frames;
  return t < 1 ? 1 : t > VOCODER_MAX_FRAMES ? VOCODER_MAX_FRAMES : (int)t;
}

a2i2a_status vocoder_run(vocoder *v, const float *mel, int frames, float *audio, vocoder_tap tap, void *user,
                         a2i2a_job *job) {
  if (frames < 1 || frames > VOCODER_MAX_FRAMES || vocoder_samples(&v->features, frames) > INT32_MAX / 2)
    return fail(A2I2A_ERR_LIMIT, "%s: %d frames: a vocoder run takes 1 to %d, and at most 2^30 samples",
                v->weights.path, frames, VOCODER_MAX_FRAMES);
  return v->kind == VOCODER_VOCOS ? vocos_forward(v->vocos, mel, frames, audio, tap, user, job)
                                  : hifigan_forward(v->hifigan, mel, frames, audio, tap, user, job);
}
