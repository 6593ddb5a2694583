#include "verify/verify.h"
#include "common/err.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
