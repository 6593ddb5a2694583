/* Writing safetensors files: the header, a whole st_file (atomically), and
 * a2i2a_models_convert, a PyTorch checkpoint rewritten as one. Apart from safetensors.c so that
 * the parser stays a pure function of its bytes, fuzzed alone. */
#include "common/err.h"
#include "common/job.h"
#include "common/outfile.h"
#include "sd/safetensors.h"
#include "sd/torch_file.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

a2i2a_status st_header(const st_tensor *t, int n, char *const *meta_keys, char *const *meta_values, int nmeta,
                       char **out, size_t *len) {
  *out = NULL;
  *len = 0;
  cJSON *root = cJSON_CreateObject(), *meta = nmeta ? cJSON_AddObjectToObject(root, "__metadata__") : NULL;
  int ok = root && (!nmeta || meta);
  for (int i = 0; ok && i < nmeta; i++) ok = cJSON_AddStringToObject(meta, meta_keys[i], meta_values[i]) != NULL;
  size_t off = 0;
  for (int i = 0; ok && i < n; i++) {
    cJSON *e = cJSON_AddObjectToObject(root, t[i].name), *shape = e ? cJSON_AddArrayToObject(e, "shape") : NULL,
          *offsets = e ? cJSON_AddArrayToObject(e, "data_offsets") : NULL;
    ok = offsets && cJSON_AddStringToObject(e, "dtype", st_dtype_name(t[i].dtype));
    for (int d = 0; ok && d < t[i].ndim; d++)
      ok = cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)t[i].shape[d]));
    ok = ok && cJSON_AddItemToArray(offsets, cJSON_CreateNumber((double)off)) &&
         cJSON_AddItemToArray(offsets, cJSON_CreateNumber((double)(off + t[i].nbytes)));
    off += t[i].nbytes;
  }
  char *json = ok ? cJSON_PrintUnformatted(root) : NULL;
  cJSON_Delete(root);
  if (!json) return fail(A2I2A_ERR_NOMEM, "out of memory writing a safetensors header");
  size_t jl = strlen(json), padded = (jl + 7) / 8 * 8;
  char *buf = malloc(8 + padded);
  if (!buf) {
    cJSON_free(json);
    return fail(A2I2A_ERR_NOMEM, "out of memory writing a safetensors header");
  }
  for (int i = 0; i < 8; i++) buf[i] = (char)((uint64_t)padded >> (8 * i));
  memcpy(buf + 8, json, jl);
  memset(buf + 8 + jl, ' ', padded - jl);
  cJSON_free(json);
  *out = buf;
  *len = 8 + padded;
  return A2I2A_OK;
}

a2i2a_status st_write(const st_file *f, const char *path, int force, a2i2a_job *job) {
  char *header;
  size_t hlen;
  outfile of;
  a2i2a_status st = st_header(f->tensors, f->n, f->meta_keys, f->meta_values, f->nmeta, &header, &hlen);
  if (st) return st;
  if ((st = outfile_open(&of, path, force))) {
    free(header);
    return st;
  }
  job_stage(job, "writing", path, f->n);
  int ok = fwrite(header, 1, hlen, of.f) == hlen;
  free(header);
  for (int i = 0; ok && i < f->n; i++) {
    if ((st = job_check(job))) break;
    ok = fwrite(f->tensors[i].data, 1, f->tensors[i].nbytes, of.f) == f->tensors[i].nbytes;
    job_step(job, i + 1);
  }
  if (!st && !ok) st = fail(A2I2A_ERR_IO, "%s: write failed: %s", path, strerror(errno));
  if (!st) st = outfile_commit(&of);
  if (st) outfile_abort(&of);
  return st;
}

/* ------------------------------------------------------------------ a2i2a_models_convert */

/* IN with .safetensors for its extension; transformers' pytorch_model[.fp16] is model[.fp16]. */
static void default_output(const char *in, char *out, size_t n) {
  char stem[4096];
  const char *base = strrchr(in, '/'), *dot = strrchr(base ? base : in, '.');
  snprintf(stem, sizeof stem, "%.*s", (int)(dot ? (size_t)(dot - in) : strlen(in)), in);
  char *b = strrchr(stem, '/');
  b = b ? b + 1 : stem;
  if (!strncmp(b, "pytorch_model", 13) && (!b[13] || !strcmp(b + 13, ".fp16"))) memmove(b, b + 8, strlen(b + 8) + 1);
  snprintf(out, n, "%s.safetensors", stem);
}

static a2i2a_status convert(const char *in, const char *out, int force, char *written, size_t written_size,
                            a2i2a_job *job) {
  if (!in || !*in) return fail(A2I2A_ERR_PARAM, "no checkpoint given");
  size_t n = strlen(in);
  if (n >= 12 && !strcasecmp(in + n - 12, ".safetensors"))
    return fail(A2I2A_ERR_PARAM, "%s: already a safetensors file", in);
  char dflt[4200];
  if (!out || !*out) {
    default_output(in, dflt, sizeof dflt);
    out = dflt;
  }
  a2i2a_status st = outfile_check(out, force); /* before the work */
  if (st) return st;
  job_stage(job, "reading", in, 0);
  st_file f;
  if ((st = pt_open(in, &f))) return st;
  /* what safetensors.torch writes: the tensors are PyTorch's */
  if (!st_meta(&f, "format")) st = st_add_meta(&f, strdup("format"), strdup("pt"));
  if (!st) st = st_write(&f, out, force, job);
  st_close(&f);
  if (!st && written) snprintf(written, written_size, "%s", out);
  return st;
}

a2i2a_status a2i2a_models_convert(const char *in, const char *out, int force, char *written, size_t written_size,
                                  a2i2a_job *job) {
  job_begin(job);
  return job_end(job, convert(in, out, force, written, written_size, job));
}
