#include "verify/verify.h"
#include "common/err.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void verify_line(verify_ctx *v, const char *name, double max_abs, double tol, int ok) {
  printf("%-48s max_abs %-10.3g tol %-10.3g %s\n", name, max_abs, tol, ok ? "pass" : "FAIL");
  fflush(stdout);
  if (ok) v->pass++;
  else v->fail++;
}

void verify_skip(verify_ctx *v, const char *name, const char *why) {
  printf("%-48s skipped (%s)\n", name, why);
  fflush(stdout);
  v->skip++;
}

void verify_error(verify_ctx *v, const char *name, const char *why) {
  printf("%-48s FAIL (%s)\n", name, why);
  fflush(stdout);
  v->fail++;
}

/* Python's json writes Infinity, -Infinity and NaN (e.g. DPM's lambda_min_clipped), which cJSON
 * rejects: outside strings they become numbers strtod reads as inf/nan of the same length. */
static void json_python_constants(char *s) {
  int in_str = 0;
  for (char *p = s; *p; p++) {
    if (in_str) {
      if (*p == '\\' && p[1]) p++;
      else if (*p == '"') in_str = 0;
    } else if (*p == '"') {
      in_str = 1;
    } else if (!strncmp(p, "Infinity", 8)) {
      memcpy(p, "1e999   ", 8);
      p += 7;
    } else if (!strncmp(p, "NaN", 3)) {
      memcpy(p, "0  ", 3); /* cJSON has no NaN: 0 keeps the document readable */
      p += 2;
    }
  }
}

cJSON *verify_read_json(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fail(A2I2A_ERR_IO, "%s: cannot open", path);
    return NULL;
  }
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  size_t got = buf ? fread(buf, 1, (size_t)n, f) : 0;
  fclose(f);
  if (!buf || got != (size_t)n) {
    free(buf);
    fail(A2I2A_ERR_IO, "%s: cannot read", path);
    return NULL;
  }
  buf[n] = 0;
  json_python_constants(buf);
  cJSON *j = cJSON_Parse(buf);
  free(buf);
  if (!j) fail(A2I2A_ERR_FORMAT, "%s: not valid JSON", path);
  return j;
}

double verify_tolerance(const cJSON *manifest, const char *tensor, double fallback) {
  const cJSON *t = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(manifest, "tensors"), tensor);
  const cJSON *tol = cJSON_GetObjectItemCaseSensitive(t, "tolerance");
  const cJSON *ma = cJSON_GetObjectItemCaseSensitive(tol, "max_abs");
  return cJSON_IsNumber(ma) ? ma->valuedouble : fallback;
}

int verify_compare(verify_ctx *v, const char *name, const float *got, const float *ref, size_t n, double tol) {
  double m = 0;
  int nan = 0;
  for (size_t i = 0; i < n; i++) {
    double d = fabs((double)got[i] - (double)ref[i]);
    if (isnan(d)) nan = 1;
    else if (d > m) m = d;
  }
  int ok = !nan && m <= tol;
  verify_line(v, name, nan ? NAN : m, tol, ok);
  return ok;
}

static int add_form(verify_form *out, int n, int max, const char *dir, const char *name, int folders_only, int extra) {
  struct stat sb;
  if (n >= max) return n;
  verify_form *f = &out[n];
  snprintf(f->path, sizeof f->path, "%s/%s", dir, name);
  if (stat(f->path, &sb) != 0 || (!S_ISDIR(sb.st_mode) && (folders_only || !S_ISREG(sb.st_mode)))) return n;
  snprintf(f->name, sizeof f->name, "%s", name);
  f->folder = S_ISDIR(sb.st_mode);
  f->extra = extra;
  return n + 1;
}

static int cmp_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int verify_model_forms(const verify_ctx *v, const char *model, int folders_only, verify_form *out, int max) {
  char name[128];
  int n = add_form(out, 0, max, v->dir, model, folders_only, 0);
  snprintf(name, sizeof name, "%s.safetensors", model);
  n = add_form(out, n, max, v->dir, name, folders_only, 0);
  if (!v->model_dir) return n;
  /* the folders NAME and NAME-SUFFIX, in a stable order */
  DIR *d = opendir(v->model_dir);
  char *names[64];
  int k = 0;
  size_t ml = strlen(model);
  struct dirent *e;
  while (d && (e = readdir(d)) && k < 64)
    if (!strncmp(e->d_name, model, ml) && (!e->d_name[ml] || e->d_name[ml] == '-')) names[k++] = strdup(e->d_name);
  if (d) closedir(d);
  qsort(names, (size_t)k, sizeof *names, cmp_name);
  for (int i = 0; i < k; i++) {
    char idx[4700];
    struct stat sb;
    snprintf(idx, sizeof idx, "%s/%s/model_index.json", v->model_dir, names[i]);
    if (names[i] && stat(idx, &sb) == 0) n = add_form(out, n, max, v->model_dir, names[i], 1, 1);
    free(names[i]);
  }
  static const char *ext[] = {".safetensors", ".ckpt", ".pt", ".pth", ".bin"};
  for (size_t i = 0; i < sizeof ext / sizeof *ext && !folders_only; i++) {
    snprintf(name, sizeof name, "%s%s", model, ext[i]);
    n = add_form(out, n, max, v->model_dir, name, 0, 1);
  }
  return n;
}
