#include "sd/safetensors.h"
#include "common/err.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define ST_MAX_HEADER (100u << 20) /* the reference implementation's own bound */

static const struct { const char *name; st_dtype t; size_t size; } dtypes[] = {
    {"F32", ST_F32, 4}, {"F16", ST_F16, 2}, {"BF16", ST_BF16, 2}, {"F64", ST_F64, 8},
    {"I64", ST_I64, 8}, {"I32", ST_I32, 4}, {"I16", ST_I16, 2},   {"I8", ST_I8, 1},
    {"U8", ST_U8, 1},   {"BOOL", ST_BOOL, 1}};

size_t st_dtype_size(st_dtype t) {
  for (size_t i = 0; i < sizeof dtypes / sizeof *dtypes; i++)
    if (dtypes[i].t == t) return dtypes[i].size;
  return 0;
}

const char *st_dtype_name(st_dtype t) {
  for (size_t i = 0; i < sizeof dtypes / sizeof *dtypes; i++)
    if (dtypes[i].t == t) return dtypes[i].name;
  return "?";
}

static int cmp_tensor_name(const void *a, const void *b) {
  return strcmp(((const st_tensor *)a)->name, ((const st_tensor *)b)->name);
}

typedef struct { size_t begin, end; int idx; } span;
static int cmp_span(const void *a, const void *b) {
  const span *x = a, *y = b;
  return x->begin < y->begin ? -1 : x->begin > y->begin ? 1 : (x->end < y->end ? -1 : x->end > y->end);
}

static void free_parsed(st_file *f) {
  for (int i = 0; i < f->n; i++) free(f->tensors[i].name);
  free(f->tensors);
  for (int i = 0; i < f->nmeta; i++) {
    free(f->meta_keys[i]);
    free(f->meta_values[i]);
  }
  free(f->meta_keys);
  free(f->meta_values);
  for (int i = 0; i < f->nowned; i++) free(f->owned[i]);
  free(f->owned);
  f->tensors = NULL;
  f->meta_keys = f->meta_values = NULL;
  f->owned = NULL;
  f->n = f->nmeta = f->nowned = 0;
}

a2i2a_status st_parse(const uint8_t *buf, size_t len, const char *label, st_file *out) {
  memset(out, 0, sizeof *out);
  snprintf(out->path, sizeof out->path, "%s", label);
  if (len < 8) return fail(A2I2A_ERR_FORMAT, "%s: not a safetensors file (%zu bytes, too short)", label, len);
  uint64_t hlen = 0;
  for (int i = 7; i >= 0; i--) hlen = (hlen << 8) | buf[i];
  if (hlen < 2 || hlen > ST_MAX_HEADER || hlen > len - 8)
    return fail(A2I2A_ERR_FORMAT, "%s: not a safetensors file (header length %llu, file %zu bytes)", label,
                (unsigned long long)hlen, len);
  const uint8_t *data = buf + 8 + hlen;
  size_t data_len = len - 8 - (size_t)hlen;
  cJSON *root = cJSON_ParseWithLength((const char *)buf + 8, (size_t)hlen);
  if (!root || !cJSON_IsObject(root)) {
    cJSON_Delete(root);
    return fail(A2I2A_ERR_FORMAT, "%s: safetensors header is not a JSON object", label);
  }
  int count = 0;
  for (cJSON *e = root->child; e; e = e->next) count++;
  out->tensors = calloc((size_t)count + 1, sizeof(st_tensor));
  out->meta_keys = calloc((size_t)count + 1, sizeof(char *));
  out->meta_values = calloc((size_t)count + 1, sizeof(char *));
  span *spans = calloc((size_t)count + 1, sizeof(span));
  a2i2a_status st = A2I2A_OK;
  if (!out->tensors || !spans || !out->meta_keys || !out->meta_values) {
    st = fail(A2I2A_ERR_NOMEM, "%s: out of memory reading the header", label);
    goto done;
  }
  for (cJSON *e = root->child; e; e = e->next) {
    const char *name = e->string ? e->string : "";
    if (!strcmp(name, "__metadata__")) {
      if (!cJSON_IsObject(e)) {
        st = fail(A2I2A_ERR_FORMAT, "%s: __metadata__ is not an object", label);
        goto done;
      }
      for (cJSON *m = e->child; m; m = m->next) {
        if (!cJSON_IsString(m)) continue; /* the format says strings; tolerate others by skipping */
        if ((st = st_add_meta(out, strdup(m->string ? m->string : ""), strdup(m->valuestring)))) goto done;
      }
      continue;
    }
    if (!cJSON_IsObject(e)) {
      st = fail(A2I2A_ERR_FORMAT, "%s: tensor '%s': entry is not an object", label, name);
      goto done;
    }
    cJSON *jd = cJSON_GetObjectItemCaseSensitive(e, "dtype");
    cJSON *js = cJSON_GetObjectItemCaseSensitive(e, "shape");
    cJSON *jo = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
    if (!cJSON_IsString(jd) || !cJSON_IsArray(js) || !cJSON_IsArray(jo) || cJSON_GetArraySize(jo) != 2) {
      st = fail(A2I2A_ERR_FORMAT, "%s: tensor '%s': needs dtype, shape and data_offsets [begin, end]", label, name);
      goto done;
    }
    st_tensor *t = &out->tensors[out->n];
    size_t esize = 0;
    for (size_t i = 0; i < sizeof dtypes / sizeof *dtypes; i++)
      if (!strcmp(jd->valuestring, dtypes[i].name)) {
        t->dtype = dtypes[i].t;
        esize = dtypes[i].size;
      }
    if (!esize) {
      st = fail(A2I2A_ERR_UNSUPPORTED, "%s: tensor '%s': unknown dtype '%.16s'", label, name, jd->valuestring);
      goto done;
    }
    int nd = cJSON_GetArraySize(js);
    if (nd > ST_MAX_DIMS) {
      st = fail(A2I2A_ERR_FORMAT, "%s: tensor '%s': %d dimensions (at most %d)", label, name, nd, ST_MAX_DIMS);
      goto done;
    }
    size_t numel = 1;
    int overflow = 0;
    t->ndim = nd;
    for (int d = 0; d < nd; d++) {
      cJSON *x = cJSON_GetArrayItem(js, d);
      if (!cJSON_IsNumber(x) || x->valuedouble < 0 || x->valuedouble > 9.0e15 ||
          x->valuedouble != (double)(int64_t)x->valuedouble) {
        st = fail(A2I2A_ERR_FORMAT, "%s: tensor '%s': invalid shape", label, name);
        goto done;
      }
      t->shape[d] = (int64_t)x->valuedouble;
      if (t->shape[d] && numel > SIZE_MAX / (size_t)t->shape[d]) overflow = 1;
      else numel *= (size_t)t->shape[d];
    }
    if (overflow || numel > SIZE_MAX / esize) {
      st = fail(A2I2A_ERR_FORMAT, "%s: tensor '%s': shape too large", label, name);
      goto done;
    }
    double b = cJSON_GetArrayItem(jo, 0)->valuedouble, en = cJSON_GetArrayItem(jo, 1)->valuedouble;
    /* range checks before any conversion to an integer (a cast of 1e30 is undefined) */
    if (!cJSON_IsNumber(cJSON_GetArrayItem(jo, 0)) || !cJSON_IsNumber(cJSON_GetArrayItem(jo, 1)) || b < 0 ||
        en < b || en > (double)data_len || b != floor(b) || en != floor(en)) {
      st = fail(A2I2A_ERR_FORMAT, "%s: tensor '%s': data_offsets [%.0f, %.0f] outside the data (%zu bytes)", label,
                name, b, en, data_len);
      goto done;
    }
    size_t begin = (size_t)b, end = (size_t)en;
    if (end > data_len) {
      st = fail(A2I2A_ERR_FORMAT, "%s: tensor '%s': data runs past the end of the file", label, name);
      goto done;
    }
    if (end - begin != numel * esize) {
      st = fail(A2I2A_ERR_FORMAT, "%s: tensor '%s': %zu bytes of data but shape x %s needs %zu", label, name,
                end - begin, jd->valuestring, numel * esize);
      goto done;
    }
    t->name = strdup(name);
    t->numel = numel;
    t->nbytes = end - begin;
    t->data = data + begin;
    spans[out->n] = (span){begin, end, out->n};
    out->n++;
  }
  /* no two tensors may share bytes */
  qsort(spans, (size_t)out->n, sizeof *spans, cmp_span);
  for (int i = 1; i < out->n; i++)
    if (spans[i].begin < spans[i - 1].end) {
      st = fail(A2I2A_ERR_FORMAT, "%s: tensors '%s' and '%s' overlap", label, out->tensors[spans[i - 1].idx].name,
                out->tensors[spans[i].idx].name);
      goto done;
    }
  qsort(out->tensors, (size_t)out->n, sizeof *out->tensors, cmp_tensor_name);
  for (int i = 1; i < out->n; i++)
    if (!strcmp(out->tensors[i].name, out->tensors[i - 1].name)) {
      st = fail(A2I2A_ERR_FORMAT, "%s: tensor '%s' appears twice", label, out->tensors[i].name);
      goto done;
    }
done:
  free(spans);
  cJSON_Delete(root);
  if (st) free_parsed(out);
  return st;
}

a2i2a_status st_map_file(const char *path, void **map, size_t *len) {
  *map = NULL;
  *len = 0;
  int fd = open(path, O_RDONLY | O_NONBLOCK); /* a FIFO where a file should be: refused below, not waited on */
  if (fd < 0) return fail(A2I2A_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
  struct stat sb;
  if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
    close(fd);
    return fail(A2I2A_ERR_IO, "%s: not a regular file", path);
  }
  size_t n = (size_t)sb.st_size;
  void *p = n ? mmap(NULL, n, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
  close(fd);
  if (n && p == MAP_FAILED) return fail(A2I2A_ERR_IO, "%s: cannot map: %s", path, strerror(errno));
  *map = p;
  *len = n;
  return A2I2A_OK;
}

a2i2a_status st_open(const char *path, st_file *out) {
  memset(out, 0, sizeof *out);
  void *map;
  size_t len;
  a2i2a_status st = st_map_file(path, &map, &len);
  if (st) return st;
  st = st_parse(map ? map : (const void *)"", len, path, out);
  if (st) {
    if (map) munmap(map, len);
    return st;
  }
  out->map = map;
  out->map_size = len;
  out->owns_map = 1;
  return A2I2A_OK;
}

void st_close(st_file *f) {
  if (!f) return;
  free_parsed(f);
  if (f->owns_map && f->map) munmap(f->map, f->map_size);
  f->map = NULL;
}

a2i2a_status st_add_meta(st_file *f, char *k, char *v) {
  char **ks = k && v ? realloc(f->meta_keys, sizeof *ks * (size_t)(f->nmeta + 1)) : NULL;
  if (ks) f->meta_keys = ks;
  char **vs = ks ? realloc(f->meta_values, sizeof *vs * (size_t)(f->nmeta + 1)) : NULL;
  if (vs) f->meta_values = vs;
  if (!vs) {
    free(k), free(v);
    return fail(A2I2A_ERR_NOMEM, "%s: out of memory", f->path);
  }
  f->meta_keys[f->nmeta] = k;
  f->meta_values[f->nmeta++] = v;
  return A2I2A_OK;
}

const st_tensor *st_find(const st_file *f, const char *name) {
  st_tensor key = {.name = (char *)name};
  return bsearch(&key, f->tensors, (size_t)f->n, sizeof key, cmp_tensor_name);
}

const char *st_meta(const st_file *f, const char *key) {
  for (int i = 0; i < f->nmeta; i++)
    if (!strcmp(f->meta_keys[i], key)) return f->meta_values[i];
  return NULL;
}

float f16_to_f32(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
  if (exp == 0) {
    if (!man) bits = sign;
    else { /* subnormal: normalise */
      exp = 127 - 15 + 1;
      while (!(man & 0x400)) { man <<= 1; exp--; }
      bits = sign | (exp << 23) | ((man & 0x3ff) << 13);
    }
  } else if (exp == 31) bits = sign | 0x7f800000u | (man << 13);
  else bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

uint16_t f32_to_f16(float f) {
  uint32_t x;
  memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000;
  int32_t exp = (int32_t)((x >> 23) & 0xff) - 127 + 15;
  uint32_t man = x & 0x7fffff;
  if (((x >> 23) & 0xff) == 0xff) return (uint16_t)(sign | 0x7c00 | (man ? 0x200 : 0));
  if (exp >= 31) return (uint16_t)(sign | 0x7c00);
  if (exp <= 0) {
    if (exp < -10) return (uint16_t)sign;
    man |= 0x800000;
    uint32_t shift = (uint32_t)(14 - exp);
    uint32_t half = man >> shift, rem = man & ((1u << shift) - 1), mid = 1u << (shift - 1);
    if (rem > mid || (rem == mid && (half & 1))) half++;
    return (uint16_t)(sign | half);
  }
  uint32_t h = sign | ((uint32_t)exp << 10) | (man >> 13);
  uint32_t rem = man & 0x1fff;
  if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) h++; /* carries into the exponent correctly */
  return (uint16_t)h;
}

float bf16_to_f32(uint16_t h) {
  uint32_t bits = (uint32_t)h << 16;
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

void st_to_f32(const st_tensor *t, float *dst) {
  const uint8_t *p = t->data;
  size_t n = t->numel;
  switch (t->dtype) {
  case ST_F32: memcpy(dst, p, n * 4); break;
  case ST_F16: for (size_t i = 0; i < n; i++) { uint16_t h; memcpy(&h, p + 2 * i, 2); dst[i] = f16_to_f32(h); } break;
  case ST_BF16: for (size_t i = 0; i < n; i++) { uint16_t h; memcpy(&h, p + 2 * i, 2); dst[i] = bf16_to_f32(h); } break;
  case ST_F64: for (size_t i = 0; i < n; i++) { double d; memcpy(&d, p + 8 * i, 8); dst[i] = (float)d; } break;
  case ST_I64: for (size_t i = 0; i < n; i++) { int64_t v; memcpy(&v, p + 8 * i, 8); dst[i] = (float)v; } break;
  case ST_I32: for (size_t i = 0; i < n; i++) { int32_t v; memcpy(&v, p + 4 * i, 4); dst[i] = (float)v; } break;
  case ST_I16: for (size_t i = 0; i < n; i++) { int16_t v; memcpy(&v, p + 2 * i, 2); dst[i] = (float)v; } break;
  case ST_I8: for (size_t i = 0; i < n; i++) dst[i] = (float)(int8_t)p[i]; break;
  case ST_U8: case ST_BOOL: for (size_t i = 0; i < n; i++) dst[i] = (float)p[i]; break;
  }
}

float *st_load_f32(const st_file *f, const char *name, size_t numel_expected) {
  const st_tensor *t = st_find(f, name);
  if (!t) {
    fail(A2I2A_ERR_MODEL, "%s: tensor '%s' is missing", f->path, name);
    return NULL;
  }
  if (numel_expected && t->numel != numel_expected) {
    fail(A2I2A_ERR_MODEL, "%s: tensor '%s' has %zu values, expected %zu", f->path, name, t->numel, numel_expected);
    return NULL;
  }
  float *dst = xmalloc(t->numel * sizeof(float), name);
  if (dst) st_to_f32(t, dst);
  return dst;
}
