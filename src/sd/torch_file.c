/* PyTorch checkpoints as st_files (torch_file.h): the two containers around the pickle, the
 * state dict found in it, and its tensors laid out as safetensors' are. */
#include "sd/torch_file.h"
#include "common/err.h"
#include "sd/pickle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <utf8proc.h>
#include <zip.h>

/* Copies of strided views may take the file's size and this much more: a view that repeats its
 * storage's elements (a stride of 0) could otherwise ask for far more memory than the file has. */
#define PT_COPY_SLACK (16u << 20)

/* Where a storage's bytes are: the container's part of the work. */
typedef a2i2a_status (*record_fn)(void *ctx, const pk_storage *s, const uint8_t **data, size_t *bytes);

static void key_text(char out[101], const pk_storage *s) { pk_printable(out, s->key, s->keylen); }

/* ------------------------------------------------------------------ the state dict */

/* A NUL-free, valid UTF-8 copy of a pickled string, or NULL. */
static char *text_of(const pk_obj *o) {
  if (o->kind != PK_STR || memchr(o->v.s, 0, o->n)) return NULL;
  for (utf8proc_ssize_t i = 0, k; i < (utf8proc_ssize_t)o->n; i += k) {
    utf8proc_int32_t cp;
    if ((k = utf8proc_iterate(o->v.s + i, (utf8proc_ssize_t)o->n - i, &cp)) <= 0) return NULL;
  }
  char *s = malloc((size_t)o->n + 1);
  if (s) memcpy(s, o->v.s, o->n), s[o->n] = 0;
  return s;
}

/* A scalar entry as Python's str() writes it, or NULL for anything else. */
static char *scalar_text(const pk_obj *o) {
  char buf[64];
  switch (o->kind) {
  case PK_BOOL: return strdup(o->v.i ? "True" : "False");
  case PK_INT: snprintf(buf, sizeof buf, "%lld", (long long)o->v.i); return strdup(buf);
  case PK_FLOAT: snprintf(buf, sizeof buf, "%.17g", o->v.f); return strdup(buf);
  case PK_STR: return text_of(o);
  default: return NULL;
  }
}

static int keep(st_file *f, void *p) {
  void **q = realloc(f->owned, sizeof *q * (size_t)(f->nowned + 1));
  if (!q) return 0;
  f->owned = q;
  f->owned[f->nowned++] = p;
  return 1;
}

/* A scalar under a name becomes metadata; anything else is not kept. */
static a2i2a_status add_meta(st_file *f, const pk_obj *key, const pk_obj *value) {
  char *v = scalar_text(value), *k = v ? text_of(key) : NULL;
  if (!k) {
    free(v);
    return A2I2A_OK;
  }
  return st_add_meta(f, k, v);
}

static int contiguous(const pk_tensor *t) {
  uint64_t expect = 1;
  for (int d = t->ndim - 1; d >= 0; d--) {
    if (t->shape[d] != 1 && t->stride[d] != expect) return 0;
    expect *= t->shape[d];
  }
  return 1;
}

/* Element i of the view, in order, to dst[i] (the view was checked to lie inside the storage). */
static void copy_view(uint8_t *dst, const uint8_t *base, const pk_tensor *t, size_t es) {
  uint64_t idx[ST_MAX_DIMS] = {0};
  for (uint64_t i = 0; i < t->numel; i++) {
    uint64_t e = t->offset;
    for (int d = 0; d < t->ndim; d++) e += idx[d] * t->stride[d];
    memcpy(dst + i * es, base + e * es, es);
    for (int d = t->ndim - 1; d >= 0 && ++idx[d] == t->shape[d]; d--) idx[d] = 0;
  }
}

static int cmp_name(const void *a, const void *b) {
  return strcmp(((const st_tensor *)a)->name, ((const st_tensor *)b)->name);
}

/* The tensors of the state dict the pickle made, each on its storage's bytes (record()). */
static a2i2a_status state_dict(const pk_machine *m, pk_ref root, record_fn record, void *ctx, size_t budget,
                               st_file *out) {
  const pk_obj *top = pk_at(m, root), *sd = top;
  if (top->kind != PK_DICT) {
    const char *what = top->kind == PK_LIST ? "list" : top->kind == PK_TUPLE ? "tuple" : "single value";
    return fail(A2I2A_ERR_FORMAT, "%s: not a state dict (the pickle holds a %s)", m->label, what);
  }
  /* a .ckpt's weights are its "state_dict", those of HiFi-GAN's generator files its "generator" */
  static const char *const wrappers[] = {"state_dict", "generator"};
  int found = 0;
  pk_ref inner = 0;
  for (size_t w = 0; w < sizeof wrappers / sizeof *wrappers && !(found && pk_at(m, inner)->kind == PK_DICT); w++)
    inner = pk_dict_get(m, top, wrappers[w], &found);
  a2i2a_status st = A2I2A_OK;
  if (found && pk_at(m, inner)->kind == PK_DICT) {
    sd = pk_at(m, inner);
    for (uint32_t i = 0; i < top->n && !st; i++) /* a .ckpt's global_step, epoch, ... */
      if (top->v.items[2 * i + 1] != inner)
        st = add_meta(out, pk_at(m, top->v.items[2 * i]), pk_at(m, top->v.items[2 * i + 1]));
  }
  if (st) return st;
  if (!(out->tensors = calloc((size_t)sd->n + 1, sizeof *out->tensors)))
    return fail(A2I2A_ERR_NOMEM, "%s: out of memory", m->label);
  for (uint32_t i = 0; i < sd->n && !st; i++) {
    const pk_obj *key = pk_at(m, sd->v.items[2 * i]), *value = pk_at(m, sd->v.items[2 * i + 1]);
    if (value->kind != PK_TENSOR) {
      st = add_meta(out, key, value);
      continue;
    }
    char *name = text_of(key);
    if (!name) return fail(A2I2A_ERR_FORMAT, "%s: a tensor whose name is not a UTF-8 string", m->label);
    st_tensor *t = &out->tensors[out->n++];
    t->name = name;
    const pk_tensor *v = &m->tensors[value->v.id];
    const pk_storage *s = &m->storages[v->storage];
    const uint8_t *base;
    size_t bytes, es = st_dtype_size(s->dtype);
    if ((st = record(ctx, s, &base, &bytes))) return st;
    if (bytes != s->numel * es) { /* numel * es was checked not to overflow */
      char k[101];
      key_text(k, s);
      return fail(A2I2A_ERR_FORMAT, "%s: tensor '%s': its storage '%s' holds %zu bytes, not %llu %s values", m->label,
                  name, k, bytes, (unsigned long long)s->numel, st_dtype_name(s->dtype));
    }
    t->dtype = s->dtype;
    t->ndim = v->ndim;
    for (int d = 0; d < v->ndim; d++) t->shape[d] = (int64_t)v->shape[d];
    t->numel = v->numel;
    t->nbytes = v->numel * es;
    if (contiguous(v) || !v->numel) {
      t->data = v->numel ? base + v->offset * es : (const void *)"";
    } else {
      if (t->nbytes > budget) return fail(A2I2A_ERR_FORMAT, "%s: tensor '%s': its strided view repeats its storage's "
                                          "values more than a weights file would", m->label, name);
      budget -= t->nbytes;
      uint8_t *copy = malloc(t->nbytes);
      if (!copy || !keep(out, copy)) {
        free(copy);
        return fail(A2I2A_ERR_NOMEM, "%s: out of memory copying tensor '%s'", m->label, name);
      }
      copy_view(copy, base, v, es);
      t->data = copy;
    }
  }
  if (st) return st;
  if (!out->n) return fail(A2I2A_ERR_FORMAT, "%s: not a state dict (no tensors)", m->label);
  qsort(out->tensors, (size_t)out->n, sizeof *out->tensors, cmp_name);
  for (int i = 1; i < out->n; i++)
    if (!strcmp(out->tensors[i].name, out->tensors[i - 1].name))
      return fail(A2I2A_ERR_FORMAT, "%s: tensor '%s' appears twice", m->label, out->tensors[i].name);
  return A2I2A_OK;
}

/* ------------------------------------------------------------------ zip */

/* The file's bytes as a libzip source. It notes where the first read after a reset begins:
 * once libzip has read an entry's local header and opens its data, that is the data's offset
 * in the file, which libzip does not otherwise tell. */
typedef struct {
  const uint8_t *buf;
  size_t len;
  zip_uint64_t pos;
  int64_t first_read;
  zip_error_t error;
} mem_source;

static zip_int64_t mem_source_cb(void *user, void *data, zip_uint64_t n, zip_source_cmd_t cmd) {
  mem_source *s = user;
  switch (cmd) {
  case ZIP_SOURCE_OPEN: s->pos = 0; return 0;
  case ZIP_SOURCE_READ:
    if (s->pos > s->len) n = 0;
    else if (n > s->len - s->pos) n = s->len - s->pos;
    if (s->first_read < 0) s->first_read = (int64_t)s->pos;
    if (n) memcpy(data, s->buf + s->pos, n);
    s->pos += n;
    return (zip_int64_t)n;
  case ZIP_SOURCE_CLOSE: return 0;
  case ZIP_SOURCE_STAT: {
    zip_stat_t *st = data;
    zip_stat_init(st);
    st->size = s->len;
    st->valid |= ZIP_STAT_SIZE;
    return sizeof *st;
  }
  case ZIP_SOURCE_ERROR: return zip_error_to_data(&s->error, data, n);
  case ZIP_SOURCE_SEEK: {
    zip_int64_t p = zip_source_seek_compute_offset(s->pos, s->len, data, n, &s->error);
    if (p < 0) return -1;
    s->pos = (zip_uint64_t)p;
    return 0;
  }
  case ZIP_SOURCE_TELL: return (zip_int64_t)s->pos;
  case ZIP_SOURCE_SUPPORTS: /* all of "seekable" (libzip 1.7 leaks entries of a source that is not) */
    return zip_source_make_command_bitmap(ZIP_SOURCE_OPEN, ZIP_SOURCE_READ, ZIP_SOURCE_CLOSE, ZIP_SOURCE_STAT,
                                          ZIP_SOURCE_ERROR, ZIP_SOURCE_SEEK, ZIP_SOURCE_TELL, ZIP_SOURCE_SUPPORTS,
                                          ZIP_SOURCE_FREE, -1);
  case ZIP_SOURCE_FREE: return 0;
  default: zip_error_set(&s->error, ZIP_ER_OPNOTSUPP, 0); return -1;
  }
}

typedef struct {
  zip_t *za;
  mem_source *src;
  const char *label;
  char prefix[256]; /* the archive's one folder */
} zip_ctx;

/* An entry's bytes in place: stored, not encrypted, and where libzip reads them from. */
static a2i2a_status entry_bytes(zip_ctx *z, zip_int64_t idx, const char *name, const uint8_t **data, size_t *size) {
  zip_stat_t zs;
  mem_source *s = z->src;
  if (zip_stat_index(z->za, (zip_uint64_t)idx, 0, &zs) != 0)
    return fail(A2I2A_ERR_FORMAT, "%s: not a valid PyTorch checkpoint: %s: %s", z->label, name, zip_strerror(z->za));
  if (!(zs.valid & ZIP_STAT_COMP_METHOD) || zs.comp_method != ZIP_CM_STORE ||
      ((zs.valid & ZIP_STAT_ENCRYPTION_METHOD) && zs.encryption_method != ZIP_EM_NONE))
    return fail(A2I2A_ERR_UNSUPPORTED, "%s: %s is compressed or encrypted (torch.save stores its entries as they are)",
                z->label, name);
  if (!(zs.valid & ZIP_STAT_SIZE) || zs.size > s->len || ((zs.valid & ZIP_STAT_COMP_SIZE) && zs.comp_size != zs.size))
    return fail(A2I2A_ERR_FORMAT, "%s: not a valid PyTorch checkpoint: %s has an impossible size", z->label, name);
  *size = (size_t)zs.size;
  *data = s->buf;
  if (!zs.size) return A2I2A_OK;
  zip_file_t *zf = zip_fopen_index(z->za, (zip_uint64_t)idx, ZIP_FL_COMPRESSED);
  if (!zf)
    return fail(A2I2A_ERR_FORMAT, "%s: not a valid PyTorch checkpoint: %s: %s", z->label, name, zip_strerror(z->za));
  uint8_t probe[64];
  zip_uint64_t want = zs.size < sizeof probe ? zs.size : sizeof probe;
  s->first_read = -1;
  zip_int64_t got = zip_fread(zf, probe, want);
  zip_fclose(zf);
  int64_t at = s->first_read;
  if (got != (zip_int64_t)want || at < 0 || (uint64_t)at > s->len || zs.size > s->len - (uint64_t)at ||
      memcmp(s->buf + at, probe, want))
    return fail(A2I2A_ERR_FORMAT, "%s: not a valid PyTorch checkpoint: cannot find the bytes of %s", z->label, name);
  *data = s->buf + at;
  return A2I2A_OK;
}

static a2i2a_status zip_record(void *ctx, const pk_storage *s, const uint8_t **data, size_t *bytes) {
  zip_ctx *z = ctx;
  char name[512], k[101];
  key_text(k, s);
  if (snprintf(name, sizeof name, "%s/data/%.*s", z->prefix, (int)s->keylen, (const char *)s->key) >=
          (int)sizeof name ||
      memchr(s->key, 0, s->keylen))
    return fail(A2I2A_ERR_FORMAT, "%s: not a valid PyTorch checkpoint: storage key '%s'", z->label, k);
  zip_int64_t idx = zip_name_locate(z->za, name, 0);
  if (idx < 0)
    return fail(A2I2A_ERR_FORMAT, "%s: not a valid PyTorch checkpoint: no record %s for storage '%s'", z->label, name,
                k);
  return entry_bytes(z, idx, name, data, bytes);
}

static a2i2a_status parse_zip(const uint8_t *buf, size_t len, const char *label, st_file *out) {
  mem_source src = {.buf = buf, .len = len, .first_read = -1};
  zip_error_t ze;
  zip_error_init(&ze);
  zip_error_init(&src.error);
  zip_source_t *zs = zip_source_function_create(mem_source_cb, &src, &ze);
  zip_t *za = zs ? zip_open_from_source(zs, ZIP_RDONLY | ZIP_CHECKCONS, &ze) : NULL;
  if (!za) {
    a2i2a_status st = fail(A2I2A_ERR_FORMAT, "%s: not a PyTorch checkpoint: not a valid zip archive (%s)", label,
                           zip_error_strerror(&ze));
    if (zs) zip_source_free(zs);
    zip_error_fini(&ze);
    zip_error_fini(&src.error);
    return st;
  }
  zip_error_fini(&ze);
  zip_ctx z = {za, &src, label, ""};
  a2i2a_status st = A2I2A_OK;
  const char *first = zip_get_num_entries(za, 0) > 0 ? zip_get_name(za, 0, ZIP_FL_ENC_RAW) : NULL;
  const char *slash = first ? strchr(first, '/') : NULL;
  char name[300];
  zip_int64_t idx = -1;
  if (slash && slash - first < (ptrdiff_t)sizeof z.prefix) {
    snprintf(z.prefix, sizeof z.prefix, "%.*s", (int)(slash - first), first);
    snprintf(name, sizeof name, "%s/data.pkl", z.prefix);
    idx = zip_name_locate(za, name, 0);
  }
  if (idx < 0) {
    st = fail(A2I2A_ERR_FORMAT, "%s: not a PyTorch checkpoint: the zip archive has no %s/data.pkl", label,
              z.prefix[0] ? z.prefix : "FOLDER");
  } else {
    /* the byte order of the records, when the file says it (PyTorch >= 2.1): only little-endian */
    const uint8_t *p, *order;
    size_t n, on;
    char oname[300];
    snprintf(oname, sizeof oname, "%s/byteorder", z.prefix);
    zip_int64_t oidx = zip_name_locate(za, oname, 0);
    if (oidx >= 0 && !(st = entry_bytes(&z, oidx, oname, &order, &on)) && !(on == 6 && !memcmp(order, "little", 6)))
      st = fail(A2I2A_ERR_UNSUPPORTED, "%s: a big-endian checkpoint (only little-endian ones are read)", label);
    if (!st) st = entry_bytes(&z, idx, name, &p, &n);
    pk_machine m;
    pk_init(&m, label);
    size_t used;
    pk_ref root;
    if (!st) st = pk_run(&m, p, n, &used, &root);
    if (!st) st = state_dict(&m, root, zip_record, &z, len + PT_COPY_SLACK, out);
    pk_free(&m);
  }
  zip_discard(za);
  zip_error_fini(&src.error);
  return st;
}

/* ------------------------------------------------------------------ legacy */

typedef struct {
  const uint8_t *key;
  uint32_t keylen;
  const uint8_t *data;
  size_t bytes;
} legacy_record;

typedef struct {
  const char *label;
  legacy_record *records; /* sorted by key */
  uint32_t n;
} legacy_ctx;

static int cmp_key(const uint8_t *a, uint32_t al, const uint8_t *b, uint32_t bl) {
  int c = memcmp(a, b, al < bl ? al : bl);
  return c ? c : (al > bl) - (al < bl);
}
static int cmp_record(const void *a, const void *b) {
  const legacy_record *x = a, *y = b;
  return cmp_key(x->key, x->keylen, y->key, y->keylen);
}
typedef struct {
  const uint8_t *key;
  uint32_t keylen, storage;
} named_storage;
static int cmp_named(const void *a, const void *b) {
  const named_storage *x = a, *y = b;
  return cmp_key(x->key, x->keylen, y->key, y->keylen);
}

static a2i2a_status legacy_record_of(void *ctx, const pk_storage *s, const uint8_t **data, size_t *bytes) {
  legacy_ctx *c = ctx;
  legacy_record key = {s->key, s->keylen, NULL, 0};
  const legacy_record *r = bsearch(&key, c->records, c->n, sizeof key, cmp_record);
  if (!r) {
    char k[101];
    key_text(k, s);
    return fail(A2I2A_ERR_FORMAT, "%s: not a valid PyTorch checkpoint: storage '%s' is not in the file", c->label, k);
  }
  *data = r->data;
  *bytes = r->bytes;
  return A2I2A_OK;
}

/* Where each storage listed by keys lies after pos: its element count (u64) and its bytes, in
 * the list's order; the element size is that of the storage's class in the main pickle. */
static a2i2a_status legacy_layout(const pk_machine *m, const pk_obj *keys, const uint8_t *buf, size_t len, size_t pos,
                                  legacy_ctx *c) {
  named_storage *named = malloc(sizeof *named * ((size_t)m->nstorages + 1));
  c->records = calloc((size_t)keys->n + 1, sizeof *c->records);
  if (!named || !c->records) {
    free(named);
    return fail(A2I2A_ERR_NOMEM, "%s: out of memory", m->label);
  }
  for (uint32_t i = 0; i < m->nstorages; i++) named[i] = (named_storage){m->storages[i].key, m->storages[i].keylen, i};
  qsort(named, m->nstorages, sizeof *named, cmp_named);
  a2i2a_status st = A2I2A_OK;
  for (uint32_t i = 0; i < keys->n && !st; i++) {
    const pk_obj *k = pk_at(m, keys->v.items[i]);
    if (k->kind != PK_STR) {
      st = fail(A2I2A_ERR_FORMAT, "%s: not a valid PyTorch checkpoint: a storage key that is not a string", m->label);
      break;
    }
    /* a storage with this key: its class gives the element size (every use of a key names the
     * same storage, as torch.load assumes) */
    named_storage want = {k->v.s, k->n, 0};
    const named_storage *found = bsearch(&want, named, m->nstorages, sizeof want, cmp_named);
    const pk_storage *s = found ? &m->storages[found->storage] : NULL;
    char kt[101];
    pk_printable(kt, k->v.s, k->n);
    if (!s) {
      st = fail(A2I2A_ERR_FORMAT, "%s: not a valid PyTorch checkpoint: storage '%s' is listed but not used", m->label,
                kt);
      break;
    }
    size_t es = st_dtype_size(s->dtype);
    uint64_t count = 0;
    if (len - pos >= 8)
      for (int b = 7; b >= 0; b--) count = count << 8 | buf[pos + b];
    if (len - pos < 8 || count != s->numel || count * es > len - pos - 8) {
      st = fail(A2I2A_ERR_FORMAT, "%s: not a valid PyTorch checkpoint: storage '%s' (%llu values) is cut short or of "
                "another size", m->label, kt, (unsigned long long)s->numel);
      break;
    }
    c->records[i] = (legacy_record){k->v.s, k->n, buf + pos + 8, (size_t)(count * es)};
    pos += 8 + (size_t)(count * es);
  }
  free(named);
  c->n = keys->n;
  if (!st) qsort(c->records, c->n, sizeof *c->records, cmp_record);
  for (uint32_t i = 1; i < c->n && !st; i++)
    if (!cmp_record(&c->records[i - 1], &c->records[i]))
      st = fail(A2I2A_ERR_FORMAT, "%s: not a valid PyTorch checkpoint: a storage is listed twice", m->label);
  return st;
}

static a2i2a_status parse_legacy(const uint8_t *buf, size_t len, const char *label, st_file *out) {
  static const uint8_t magic[10] = {0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
  pk_machine m;
  pk_init(&m, label);
  pk_ref r[5];
  size_t pos = 0, used;
  a2i2a_status st = A2I2A_OK;
  /* magic number, protocol version, sys_info, the state dict, the storage keys */
  for (int i = 0; i < 5 && !st; i++) {
    st = pk_run(&m, buf + pos, len - pos, &used, &r[i]);
    pos += used;
    if (st) break;
    const pk_obj *o = pk_at(&m, r[i]);
    if (i == 0 && !(o->kind == PK_BIGINT && o->n == sizeof magic && !memcmp(o->v.s, magic, sizeof magic)))
      st = fail(A2I2A_ERR_FORMAT, "%s: not a PyTorch checkpoint (a pickle without PyTorch's magic number)", label);
    else if (i == 1 && !(o->kind == PK_INT && o->v.i == 1001))
      st = fail(A2I2A_ERR_UNSUPPORTED, "%s: a PyTorch checkpoint of an unknown legacy version", label);
    else if (i == 2) {
      int found;
      pk_ref le = pk_dict_get(&m, o, "little_endian", &found);
      if (o->kind != PK_DICT || (found && pk_at(&m, le)->kind == PK_BOOL && !pk_at(&m, le)->v.i))
        st = fail(A2I2A_ERR_UNSUPPORTED, "%s: a big-endian checkpoint (only little-endian ones are read)", label);
    } else if (i == 4 && o->kind != PK_LIST)
      st = fail(A2I2A_ERR_FORMAT, "%s: not a valid PyTorch checkpoint: no storage list after the state dict", label);
  }
  legacy_ctx c = {label, NULL, 0};
  if (!st) st = legacy_layout(&m, pk_at(&m, r[4]), buf, len, pos, &c);
  if (!st) st = state_dict(&m, r[3], legacy_record_of, &c, len + PT_COPY_SLACK, out);
  free(c.records);
  pk_free(&m);
  return st;
}

/* ------------------------------------------------------------------ files */

a2i2a_status pt_parse(const uint8_t *buf, size_t len, const char *label, st_file *out) {
  memset(out, 0, sizeof *out);
  snprintf(out->path, sizeof out->path, "%s", label);
  a2i2a_status st;
  if (len >= 4 && buf[0] == 'P' && buf[1] == 'K') st = parse_zip(buf, len, label, out);
  else if (len >= 2 && buf[0] == 0x80) st = parse_legacy(buf, len, label, out);
  else
    st = fail(A2I2A_ERR_FORMAT, "%s: not a PyTorch checkpoint (neither the zip nor the legacy format of torch.save)",
              label);
  if (st) {
    char path[sizeof out->path];
    memcpy(path, out->path, sizeof path);
    st_close(out);
    memcpy(out->path, path, sizeof path);
  }
  return st;
}

a2i2a_status pt_open(const char *path, st_file *out) {
  memset(out, 0, sizeof *out);
  void *map;
  size_t len;
  a2i2a_status st = st_map_file(path, &map, &len);
  if (st) return st;
  if ((st = pt_parse(map ? map : (const void *)"", len, path, out))) {
    if (map) munmap(map, len);
    return st;
  }
  out->map = map;
  out->map_size = len;
  out->owns_map = 1;
  return A2I2A_OK;
}

static int ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

int pt_is_pickle_name(const char *path) {
  return ends_with(path, ".bin") || ends_with(path, ".ckpt") || ends_with(path, ".pt") || ends_with(path, ".pth");
}

a2i2a_status weights_open(const char *path, st_file *out) {
  if (ends_with(path, ".safetensors")) return st_open(path, out);
  if (pt_is_pickle_name(path)) return pt_open(path, out);
  uint8_t head[2] = {0, 0};
  FILE *f = fopen(path, "rb");
  if (f) {
    if (fread(head, 1, 2, f) != 2) head[0] = 0;
    fclose(f);
  }
  return (head[0] == 'P' && head[1] == 'K') || head[0] == 0x80 ? pt_open(path, out) : st_open(path, out);
}
