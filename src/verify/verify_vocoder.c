/* vocos*, hifigan*: a neural vocoder against its reference run (shared/fixtures/vocoder): the
 * features of the recording (audio_in → mel), then, from every weights file of the case's model
 * folder (the pickle as published and the safetensors), the network on the reference mel with
 * each intermediate the manifest stores (Vocos: backbone_out, head_linear_out; HiFi-GAN:
 * after_upsample_N) and the audio, against the float32 and the float64 runs.
 * Tolerances: a tensor's own (tolerance.max_abs); one without (the intermediates, HiFi-GAN's
 * mel) gets the audio's tolerance scaled by the ratio of the two tensors' largest values, the
 * same relative accuracy; an *_f64 tensor its float32 sibling's. */
#include "verify/verify.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/err.h"
#include "sd/safetensors.h"
#include "vocoder/vocoder.h"

typedef struct {
  verify_ctx *v;
  const cJSON *manifest;
  const st_file *golden;
  char label[320]; /* "vocos[model.safetensors]" */
  int compared;
} vcase;

static double max_abs(const float *x, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; i++) m = fmax(m, fabs(x[i]));
  return m;
}

static float *load(const st_tensor *t) {
  float *p = malloc((t->numel ? t->numel : 1) * sizeof(float));
  if (p) st_to_f32(t, p);
  return p;
}

/* The tolerance of tensor name (see the top of the file). */
static double tolerance(const vcase *c, const char *name, const float *ref, size_t n) {
  char own[128];
  size_t len = strlen(name);
  snprintf(own, sizeof own, "%.*s", (int)(len > 4 && !strcmp(name + len - 4, "_f64") ? len - 4 : len), name);
  double tol = verify_tolerance(c->manifest, own, -1);
  if (tol >= 0) return tol;
  const st_tensor *out = st_find(c->golden, "audio_out");
  double out_tol = verify_tolerance(c->manifest, "audio_out", -1);
  float *audio = out ? load(out) : NULL;
  double scale = audio ? max_abs(audio, out->numel) : 0;
  free(audio);
  return out_tol >= 0 && scale > 0 ? out_tol * max_abs(ref, n) / scale : 0;
}

/* Compares got with the golden tensor name (and with name_f64 where the golden has it). */
static void compare(vcase *c, const char *name, const float *got, size_t n) {
  for (int f64 = 0; f64 < 2; f64++) {
    char key[128], label[512];
    snprintf(key, sizeof key, "%s%s", name, f64 ? "_f64" : "");
    const st_tensor *t = st_find(c->golden, key);
    if (!t) continue;
    snprintf(label, sizeof label, "%s.%s", c->label, key);
    if (t->numel != n) {
      char why[128];
      snprintf(why, sizeof why, "%zu values, the reference has %zu", n, t->numel);
      verify_error(c->v, label, why);
      continue;
    }
    float *ref = load(t);
    if (ref) verify_compare(c->v, label, got, ref, n, tolerance(c, key, ref, n));
    free(ref);
    c->compared++;
  }
}

static void tap(void *user, const char *name, const float *x, size_t n) { compare(user, name, x, n); }

/* The tensor as float32, with its element count; NULL (a failure reported) if it is missing. */
static float *golden_input(vcase *c, const char *name, size_t *n) {
  const st_tensor *t = st_find(c->golden, name);
  float *x = t ? load(t) : NULL;
  if (!x) {
    char label[400];
    snprintf(label, sizeof label, "%s.%s", c->label, name);
    verify_error(c->v, label, "missing from the golden file");
    return NULL;
  }
  *n = t->numel;
  return x;
}

/* The network from one weights file on the reference mel. */
static void run_form(vcase *c, const char *path, const char *stem, const char *file) {
  snprintf(c->label, sizeof c->label, "%s[%s]", stem, file);
  vocoder *voc;
  if (vocoder_open(path, &voc)) {
    verify_error(c->v, c->label, a2i2a_last_error());
    return;
  }
  const vocoder_features *f = vocoder_features_of(voc);
  size_t n;
  float *mel = golden_input(c, "mel", &n), *audio = NULL;
  int frames = (int)(n / (size_t)f->n_mels);
  if (mel && n % (size_t)f->n_mels) verify_error(c->v, c->label, "the reference mel does not fit the model's bands");
  else if (mel && (audio = malloc((size_t)vocoder_samples(f, frames) * sizeof(float)))) {
    if (vocoder_run(voc, mel, frames, audio, tap, c, NULL)) verify_error(c->v, c->label, a2i2a_last_error());
    else compare(c, "audio_out", audio, (size_t)vocoder_samples(f, frames));
  }
  free(mel), free(audio);
  vocoder_close(voc);
}

static int is_weights_name(const char *s) {
  return s[0] != '.' && strncmp(s, "config.", 7) && strncmp(s, "README", 6);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

void verify_vocoder(verify_ctx *v, const char *json_path, const char *stem) {
  cJSON *manifest = verify_read_json(json_path);
  if (!manifest) {
    verify_error(v, stem, a2i2a_last_error());
    return;
  }
  const cJSON *model = cJSON_GetObjectItemCaseSensitive(manifest, "model"),
              *file = cJSON_GetObjectItemCaseSensitive(manifest, "file");
  char path[4700], dir[4400];
  st_file golden = {0};
  vcase c = {.v = v, .manifest = manifest, .golden = &golden};
  snprintf(c.label, sizeof c.label, "%s", stem);
  if (!cJSON_IsString(model) || !cJSON_IsString(file)) {
    verify_error(v, stem, "the manifest names no model or file");
    goto done;
  }
  snprintf(path, sizeof path, "%s/golden/%s", v->dir, file->valuestring);
  if (st_open(path, &golden)) {
    verify_error(v, stem, a2i2a_last_error());
    goto done;
  }
  snprintf(dir, sizeof dir, "%s/%s", v->dir, model->valuestring);
  /* the features need only the config: the folder itself opens the vocoder */
  vocoder *voc;
  if (vocoder_open(dir, &voc)) {
    verify_error(v, stem, a2i2a_last_error());
    goto done;
  }
  size_t n = 0;
  float *audio = golden_input(&c, "audio_in", &n);
  const vocoder_features *f = vocoder_features_of(voc);
  size_t cells = (size_t)f->n_mels * vocoder_feature_frames(f, (int64_t)n);
  float *mel = audio ? malloc(cells * sizeof(float)) : NULL;
  if (mel && vocoder_features_of_audio(f, audio, (int64_t)n, mel)) verify_error(v, stem, a2i2a_last_error());
  else if (mel) compare(&c, "mel", mel, cells);
  free(audio), free(mel);
  vocoder_close(voc);

  /* every weights file of the model folder, in a stable order */
  DIR *d = opendir(dir);
  char *names[32];
  int k = 0;
  struct dirent *e;
  while (d && (e = readdir(d)) && k < 32)
    if (is_weights_name(e->d_name)) names[k++] = strdup(e->d_name);
  if (d) closedir(d);
  qsort(names, (size_t)k, sizeof *names, cmp_str);
  for (int i = 0; i < k; i++) {
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    run_form(&c, path, stem, names[i]);
    free(names[i]);
  }
  if (!k) verify_error(v, stem, "no weights files in the model folder");
  if (!c.compared) verify_error(v, stem, "no tensor of the golden file was compared");
done:
  st_close(&golden);
  cJSON_Delete(manifest);
}
