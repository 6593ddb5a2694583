/* The pickle machine of pickle.h. Opcodes as Python's Modules/_pickle.c reads them (names from
 * Lib/pickletools.py); what a state dict never uses (protocol 0's text opcodes, sets,
 * out-of-band buffers) is refused as unsupported. */
#include "sd/pickle.h"
#include "common/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A state dict's pickle needs a few thousand stack slots (SETITEMS in batches of 1000), a MARK
 * nesting of about five, some ten objects and memo entries per tensor: these bounds are far
 * above any checkpoint and keep a hostile pickle within some 100 MB. */
#define PK_MAX_STACK 65536u
#define PK_MAX_MARKS 256u
#define PK_MAX_MEMO (1u << 20)
#define PK_MAX_OBJECTS (1u << 20)
#define PK_MAX_ITEMS (1u << 22)
#define PK_MAX_NAME 256 /* a GLOBAL's module or name */

enum { REF_NONE, REF_FALSE, REF_TRUE }; /* the first three objects of every machine */

typedef enum {
  G_ORDERED_DICT, G_REBUILD_TENSOR_V2, G_REBUILD_TENSOR, G_REBUILD_PARAMETER, G_SIZE, G_PARAMETER, G_STORAGE
} global_kind;

/* The only globals a pickle may name. */
static const struct {
  const char *module, *name;
  global_kind kind;
  st_dtype dtype; /* G_STORAGE */
} accepted[] = {
    {"collections", "OrderedDict", G_ORDERED_DICT, 0},
    {"torch._utils", "_rebuild_tensor_v2", G_REBUILD_TENSOR_V2, 0},
    {"torch._utils", "_rebuild_tensor", G_REBUILD_TENSOR, 0},
    {"torch._utils", "_rebuild_parameter", G_REBUILD_PARAMETER, 0},
    {"torch", "Size", G_SIZE, 0},
    {"torch.nn.parameter", "Parameter", G_PARAMETER, 0},
    {"torch", "FloatStorage", G_STORAGE, ST_F32},
    {"torch", "HalfStorage", G_STORAGE, ST_F16},
    {"torch", "BFloat16Storage", G_STORAGE, ST_BF16},
    {"torch", "DoubleStorage", G_STORAGE, ST_F64},
    {"torch", "LongStorage", G_STORAGE, ST_I64},
    {"torch", "IntStorage", G_STORAGE, ST_I32},
    {"torch", "ShortStorage", G_STORAGE, ST_I16},
    {"torch", "CharStorage", G_STORAGE, ST_I8},
    {"torch", "ByteStorage", G_STORAGE, ST_U8},
    {"torch", "BoolStorage", G_STORAGE, ST_BOOL},
};
enum { NACCEPTED = sizeof accepted / sizeof *accepted };

/* ------------------------------------------------------------------ errors */

static a2i2a_status bad(const pk_machine *m, size_t at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static a2i2a_status bad(const pk_machine *m, size_t at, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return fail(A2I2A_ERR_FORMAT, "%s: not a valid PyTorch checkpoint: %s (pickle byte %zu)", m->label, msg, at);
}

void pk_printable(char out[101], const uint8_t *s, size_t n) {
  if (n > 100) n = 100;
  for (size_t i = 0; i < n; i++) out[i] = s[i] >= 0x20 && s[i] < 0x7f ? (char)s[i] : '?';
  out[n] = 0;
}

static a2i2a_status refuse_call(const pk_machine *m, const uint8_t *module, size_t ml, const uint8_t *name, size_t nl) {
  char a[101], b[101];
  pk_printable(a, module, ml);
  pk_printable(b, name, nl);
  return fail(A2I2A_ERR_FORMAT, "%s: not a weights file: it calls %s.%s", m->label, a, b);
}

/* ------------------------------------------------------------------ memory */

/* Makes room for need elements in *p (capacity *cap, at most max). */
static int grow(void **p, uint32_t *cap, uint32_t need, size_t size, uint32_t max) {
  if (need <= *cap) return 1;
  if (need > max) return 0;
  uint32_t c = *cap ? *cap : 16;
  while (c < need) c = c > max / 2 ? max : 2 * c;
  void *q = realloc(*p, (size_t)c * size);
  if (!q) return 0;
  *p = q;
  *cap = c;
  return 1;
}

void pk_init(pk_machine *m, const char *label) {
  memset(m, 0, sizeof *m);
  m->label = label;
}

void pk_free(pk_machine *m) {
  for (uint32_t i = 0; i < m->nobj; i++) {
    pk_kind k = m->obj[i].kind;
    if (k == PK_TUPLE || k == PK_LIST || k == PK_DICT) free(m->obj[i].v.items);
  }
  free(m->obj);
  free(m->storages);
  free(m->tensors);
  free(m->stack);
  free(m->marks);
  free(m->memo);
  memset(m, 0, sizeof *m);
}

static a2i2a_status new_obj(pk_machine *m, size_t at, pk_kind kind, pk_ref *out) {
  if (!grow((void **)&m->obj, &m->capobj, m->nobj + 1, sizeof *m->obj, PK_MAX_OBJECTS))
    return m->nobj + 1 > PK_MAX_OBJECTS ? bad(m, at, "more than %u objects", PK_MAX_OBJECTS)
                                        : fail(A2I2A_ERR_NOMEM, "%s: out of memory reading the pickle", m->label);
  pk_obj *o = &m->obj[m->nobj];
  memset(o, 0, sizeof *o);
  o->kind = (uint8_t)kind;
  *out = m->nobj++;
  return A2I2A_OK;
}

/* Gives container o room for n items more. */
static a2i2a_status reserve_items(pk_machine *m, size_t at, pk_obj *o, uint32_t n) {
  uint32_t per = o->kind == PK_DICT ? 2 : 1, used = o->n * per, old = o->cap;
  if (used + n <= o->cap) return A2I2A_OK; /* used and n are at most PK_MAX_ITEMS each: no overflow */
  if (!grow((void **)&o->v.items, &o->cap, used + n, sizeof(pk_ref), PK_MAX_ITEMS))
    return bad(m, at, "containers of more than %u items", PK_MAX_ITEMS);
  m->items += o->cap - old;
  if (m->items > PK_MAX_ITEMS) return bad(m, at, "containers of more than %u items in all", PK_MAX_ITEMS);
  return A2I2A_OK;
}

/* ------------------------------------------------------------------ the stack */

static uint32_t fence(const pk_machine *m) { return m->nmarks ? m->marks[m->nmarks - 1] : 0; }

static a2i2a_status push(pk_machine *m, size_t at, pk_ref r) {
  if (!grow((void **)&m->stack, &m->capstack, m->nstack + 1, sizeof *m->stack, PK_MAX_STACK))
    return m->nstack + 1 > PK_MAX_STACK ? bad(m, at, "more than %u objects on the stack", PK_MAX_STACK)
                                        : fail(A2I2A_ERR_NOMEM, "%s: out of memory reading the pickle", m->label);
  m->stack[m->nstack++] = r;
  return A2I2A_OK;
}

static a2i2a_status pop(pk_machine *m, size_t at, pk_ref *r) {
  if (m->nstack <= fence(m)) return bad(m, at, "the stack is empty");
  *r = m->stack[--m->nstack];
  return A2I2A_OK;
}

static a2i2a_status top(pk_machine *m, size_t at, pk_ref *r) {
  if (m->nstack <= fence(m)) return bad(m, at, "the stack is empty");
  *r = m->stack[m->nstack - 1];
  return A2I2A_OK;
}

/* The items above the last MARK: *first is their index in the stack; the mark is removed. */
static a2i2a_status pop_mark(pk_machine *m, size_t at, uint32_t *first) {
  if (!m->nmarks) return bad(m, at, "no MARK");
  *first = m->marks[--m->nmarks];
  return A2I2A_OK;
}

/* ------------------------------------------------------------------ values */

static a2i2a_status push_new(pk_machine *m, size_t at, pk_kind kind, pk_obj **o) {
  pk_ref r;
  a2i2a_status st = new_obj(m, at, kind, &r);
  if (!st) st = push(m, at, r);
  *o = st ? NULL : &m->obj[r];
  return st;
}

static a2i2a_status push_int(pk_machine *m, size_t at, int64_t v) {
  pk_obj *o;
  a2i2a_status st = push_new(m, at, PK_INT, &o);
  if (!st) o->v.i = v;
  return st;
}

/* LONG1/LONG4: n bytes of little-endian two's complement; more than 8 stay a BIGINT. */
static a2i2a_status push_long(pk_machine *m, size_t at, const uint8_t *p, size_t n) {
  if (n > 8) {
    pk_obj *o;
    a2i2a_status st = push_new(m, at, PK_BIGINT, &o);
    if (!st) o->v.s = p, o->n = (uint32_t)n;
    return st;
  }
  uint64_t u = 0;
  for (size_t i = n; i > 0; i--) u = u << 8 | p[i - 1];
  if (n && n < 8 && (p[n - 1] & 0x80)) u |= ~(uint64_t)0 << (8 * n); /* sign extension */
  int64_t v;
  memcpy(&v, &u, sizeof v);
  return push_int(m, at, v);
}

static a2i2a_status push_bytes(pk_machine *m, size_t at, pk_kind kind, const uint8_t *p, uint64_t n) {
  if (n > UINT32_MAX) return bad(m, at, "a string of %llu bytes", (unsigned long long)n);
  pk_obj *o;
  a2i2a_status st = push_new(m, at, kind, &o);
  if (!st) o->v.s = p, o->n = (uint32_t)n;
  return st;
}

/* A tuple, list or dict of the stack's items from index first on (popped). */
static a2i2a_status push_container(pk_machine *m, size_t at, pk_kind kind, uint32_t first) {
  uint32_t n = m->nstack - first;
  if (kind == PK_DICT && n % 2) return bad(m, at, "DICT with an odd number of items");
  pk_ref r;
  a2i2a_status st = new_obj(m, at, kind, &r);
  if (st || (st = reserve_items(m, at, &m->obj[r], n))) return st;
  pk_obj *o = &m->obj[r];
  if (n) memcpy(o->v.items, m->stack + first, n * sizeof(pk_ref));
  o->n = kind == PK_DICT ? n / 2 : n;
  m->nstack = first;
  return push(m, at, r);
}

static a2i2a_status append_items(pk_machine *m, size_t at, pk_ref target, const pk_ref *items, uint32_t n) {
  pk_obj *o = &m->obj[target];
  uint32_t per = o->kind == PK_DICT ? 2 : 1;
  a2i2a_status st = reserve_items(m, at, o, n);
  if (st) return st;
  if (!n) return A2I2A_OK; /* an empty list's items may be NULL: no pointer arithmetic on it */
  memcpy(o->v.items + o->n * per, items, n * sizeof(pk_ref));
  o->n += n / per;
  return A2I2A_OK;
}

static const char *kind_name(pk_kind k) {
  static const char *names[] = {"None", "bool", "int", "int", "float", "str", "bytes", "tuple", "list", "dict",
                                "global", "storage", "tensor"};
  return k <= PK_TENSOR ? names[k] : "?";
}

int pk_is_str(const pk_obj *o, const char *s) {
  size_t n = strlen(s);
  return o->kind == PK_STR && o->n == n && !memcmp(o->v.s, s, n);
}

pk_ref pk_dict_get(const pk_machine *m, const pk_obj *dict, const char *key, int *found) {
  *found = 0;
  pk_ref r = 0;
  for (uint32_t i = 0; dict->kind == PK_DICT && i < dict->n; i++)
    if (pk_is_str(pk_at(m, dict->v.items[2 * i]), key)) r = dict->v.items[2 * i + 1], *found = 1;
  return r;
}

/* ------------------------------------------------------------------ memo */

static a2i2a_status memo_put(pk_machine *m, size_t at, uint64_t idx) {
  pk_ref r;
  a2i2a_status st = top(m, at, &r);
  if (st) return st;
  if (idx >= PK_MAX_MEMO) return bad(m, at, "memo index %llu (at most %u)", (unsigned long long)idx, PK_MAX_MEMO - 1);
  uint32_t old = m->capmemo;
  if (!grow((void **)&m->memo, &m->capmemo, (uint32_t)idx + 1, sizeof *m->memo, PK_MAX_MEMO))
    return fail(A2I2A_ERR_NOMEM, "%s: out of memory reading the pickle", m->label);
  for (uint32_t i = old; i < m->capmemo; i++) m->memo[i] = PK_EMPTY;
  if (m->memo[idx] == PK_EMPTY) m->nmemo++;
  m->memo[idx] = r;
  return A2I2A_OK;
}

static a2i2a_status memo_get(pk_machine *m, size_t at, uint64_t idx) {
  if (idx >= m->capmemo || m->memo[idx] == PK_EMPTY)
    return bad(m, at, "memo entry %llu is not set", (unsigned long long)idx);
  return push(m, at, m->memo[idx]);
}

/* ------------------------------------------------------------------ globals, storages, tensors */

static a2i2a_status push_global(pk_machine *m, size_t at, const uint8_t *module, size_t ml, const uint8_t *name,
                                size_t nl) {
  for (int i = 0; i < NACCEPTED; i++)
    if (strlen(accepted[i].module) == ml && !memcmp(accepted[i].module, module, ml) && strlen(accepted[i].name) == nl &&
        !memcmp(accepted[i].name, name, nl)) {
      pk_obj *o;
      a2i2a_status st = push_new(m, at, PK_GLOBAL, &o);
      if (!st) o->v.id = (uint32_t)i;
      return st;
    }
  return refuse_call(m, module, ml, name, nl);
}

/* One line of a GLOBAL or INST argument: its bytes, without the newline. */
static a2i2a_status read_line(const pk_machine *m, const uint8_t *buf, size_t len, size_t *pos, const uint8_t **s,
                              size_t *n) {
  const uint8_t *p = buf + *pos, *nl = memchr(p, '\n', len - *pos < PK_MAX_NAME ? len - *pos : PK_MAX_NAME);
  if (!nl) return bad(m, *pos, "a global's name is not a line of at most %d bytes", PK_MAX_NAME);
  *s = p;
  *n = (size_t)(nl - p);
  *pos += *n + 1;
  return A2I2A_OK;
}

static int as_int(const pk_obj *o, int64_t *v) {
  if (o->kind != PK_INT) return 0;
  *v = o->v.i;
  return 1;
}

/* BINPERSID: ("storage", class, key, location, numel) as torch.save writes it; legacy files add
 * a sixth element, the view of another storage, which is None in practice. */
static a2i2a_status persistent_load(pk_machine *m, size_t at) {
  pk_ref r = 0;
  a2i2a_status st = pop(m, at, &r);
  if (st) return st;
  const pk_obj *pid = pk_at(m, r);
  if (pid->kind != PK_TUPLE || (pid->n != 5 && pid->n != 6) || !pk_is_str(pk_at(m, pid->v.items[0]), "storage"))
    return bad(m, at, "a persistent id that is not a storage");
  const pk_obj *cls = pk_at(m, pid->v.items[1]), *key = pk_at(m, pid->v.items[2]), *numel = pk_at(m, pid->v.items[4]);
  if (cls->kind != PK_GLOBAL || accepted[cls->v.id].kind != G_STORAGE)
    return bad(m, at, "a storage without a storage class");
  if (key->kind != PK_STR) return bad(m, at, "a storage whose key is a %s", kind_name(key->kind));
  char k[101];
  pk_printable(k, key->v.s, key->n);
  int64_t count;
  st_dtype dtype = accepted[cls->v.id].dtype;
  if (!as_int(numel, &count) || count < 0 || (uint64_t)count > SIZE_MAX / st_dtype_size(dtype))
    return bad(m, at, "storage '%s' has an impossible size", k);
  if (pid->n == 6 && pk_at(m, pid->v.items[5])->kind != PK_NONE)
    return fail(A2I2A_ERR_UNSUPPORTED,
                "%s: storage '%s' is a view of another storage (an old PyTorch format), not supported", m->label, k);
  if (!grow((void **)&m->storages, &m->capstorages, m->nstorages + 1, sizeof *m->storages, PK_MAX_OBJECTS))
    return fail(A2I2A_ERR_NOMEM, "%s: out of memory reading the pickle", m->label);
  m->storages[m->nstorages] = (pk_storage){dtype, key->v.s, key->n, (uint64_t)count};
  pk_obj *o;
  if ((st = push_new(m, at, PK_STORAGE, &o))) return st;
  o->v.id = m->nstorages++;
  return A2I2A_OK;
}

/* A tuple (or torch.Size, or list) of at most ST_MAX_DIMS whole numbers >= 0. */
static int dims_of(const pk_machine *m, const pk_obj *o, uint64_t *out, int *n) {
  if ((o->kind != PK_TUPLE && o->kind != PK_LIST) || o->n > ST_MAX_DIMS) return 0;
  for (uint32_t i = 0; i < o->n; i++) {
    int64_t v;
    if (!as_int(pk_at(m, o->v.items[i]), &v) || v < 0) return 0;
    out[i] = (uint64_t)v;
  }
  *n = (int)o->n;
  return 1;
}

static void dims_text(char *out, size_t size, const uint64_t *d, int n) {
  size_t k = 0;
  out[0] = 0;
  for (int i = 0; i < n && k < size; i++)
    k += (size_t)snprintf(out + k, size - k, "%s%llu", i ? " x " : "", (unsigned long long)d[i]);
}

/* _rebuild_tensor_v2(storage, storage_offset, size, stride, ...): the view is checked against the
 * storage here, with overflow-safe arithmetic, before anything is allocated for it. */
static a2i2a_status rebuild_tensor(pk_machine *m, size_t at, const pk_ref *args) {
  const pk_obj *so = pk_at(m, args[0]);
  pk_tensor t = {0};
  int64_t off;
  int nstride = -1;
  if (so->kind != PK_STORAGE) return bad(m, at, "a tensor rebuilt from a %s, not a storage", kind_name(so->kind));
  if (!as_int(pk_at(m, args[1]), &off) || off < 0 || !dims_of(m, pk_at(m, args[2]), t.shape, &t.ndim) ||
      !dims_of(m, pk_at(m, args[3]), t.stride, &nstride) || nstride != t.ndim)
    return bad(m, at, "a tensor whose offset, shape or strides are not %d whole numbers >= 0", ST_MAX_DIMS);
  const pk_storage *s = &m->storages[so->v.id];
  char k[101];
  pk_printable(k, s->key, s->keylen);
  t.storage = so->v.id;
  t.offset = (uint64_t)off;
  uint64_t numel = 1, last = t.offset;
  int overflow = 0;
  for (int d = 0; d < t.ndim; d++) overflow |= __builtin_mul_overflow(numel, t.shape[d], &numel);
  for (int d = 0; d < t.ndim && numel; d++) {
    uint64_t reach;
    overflow |=
        __builtin_mul_overflow(t.shape[d] - 1, t.stride[d], &reach) || __builtin_add_overflow(last, reach, &last);
  }
  char shape[200];
  dims_text(shape, sizeof shape, t.shape, t.ndim);
  if (overflow || numel > SIZE_MAX / st_dtype_size(s->dtype))
    return bad(m, at, "a tensor of storage '%s' has shape %s, more values than any memory holds", k, shape);
  if (numel && last >= s->numel)
    return fail(A2I2A_ERR_FORMAT,
                "%s: not a valid PyTorch checkpoint: a tensor of shape %s reads element %llu of storage '%s', which "
                "has %llu",
                m->label, shape, (unsigned long long)last, k, (unsigned long long)s->numel);
  t.numel = numel;
  if (!grow((void **)&m->tensors, &m->captensors, m->ntensors + 1, sizeof *m->tensors, PK_MAX_OBJECTS))
    return fail(A2I2A_ERR_NOMEM, "%s: out of memory reading the pickle", m->label);
  m->tensors[m->ntensors] = t;
  pk_obj *o;
  a2i2a_status st = push_new(m, at, PK_TENSOR, &o);
  if (!st) o->v.id = m->ntensors++;
  return st;
}

/* REDUCE: only the accepted constructions, done here. */
static a2i2a_status reduce(pk_machine *m, size_t at) {
  pk_ref fr = 0, ar = 0;
  a2i2a_status st = pop(m, at, &ar);
  if (st || (st = pop(m, at, &fr))) return st;
  const pk_obj *f = pk_at(m, fr), *a = pk_at(m, ar);
  if (f->kind != PK_GLOBAL) return bad(m, at, "REDUCE of a %s", kind_name(f->kind));
  const char *name = accepted[f->v.id].name;
  if (a->kind != PK_TUPLE) return bad(m, at, "%s called without an argument tuple", name);
  const pk_ref *args = a->v.items;
  uint32_t n = a->n;
  switch (accepted[f->v.id].kind) {
  case G_ORDERED_DICT: {
    if (n) return bad(m, at, "OrderedDict with arguments");
    pk_obj *o;
    return push_new(m, at, PK_DICT, &o);
  }
  case G_SIZE: {
    uint64_t dims[ST_MAX_DIMS];
    int nd;
    if (n != 1 || !dims_of(m, pk_at(m, args[0]), dims, &nd))
      return bad(m, at, "torch.Size of something else than sizes");
    return push(m, at, args[0]);
  }
  case G_PARAMETER:
  case G_REBUILD_PARAMETER:
    if (n < 1 || n > 3 || pk_at(m, args[0])->kind != PK_TENSOR)
      return bad(m, at, "%s of something else than a tensor", name);
    return push(m, at, args[0]);
  case G_REBUILD_TENSOR:
    if (n != 4) return bad(m, at, "%s with %u arguments", name, n);
    return rebuild_tensor(m, at, args);
  case G_REBUILD_TENSOR_V2:
    /* (storage, offset, size, stride, requires_grad, backward_hooks[, metadata]) */
    if (n != 6 && n != 7) return bad(m, at, "%s with %u arguments", name, n);
    return rebuild_tensor(m, at, args);
  case G_STORAGE: break;
  }
  return bad(m, at, "REDUCE of torch.%s is not a tensor rebuild", name);
}

/* ------------------------------------------------------------------ the machine */

static uint64_t le(const uint8_t *p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
  return v;
}

a2i2a_status pk_run(pk_machine *m, const uint8_t *buf, size_t len, size_t *used, pk_ref *root) {
  a2i2a_status st = A2I2A_OK;
  m->nstack = m->nmarks = m->nmemo = 0;
  for (uint32_t i = 0; i < m->capmemo; i++) m->memo[i] = PK_EMPTY;
  if (!m->nobj) { /* None, False, True: shared by every use */
    pk_ref r;
    for (int k = 0; k < 3 && !st; k++) st = new_obj(m, 0, k ? PK_BOOL : PK_NONE, &r);
    if (st) return st;
    m->obj[REF_TRUE].v.i = 1;
  }
  if (!m->marks && !(m->marks = malloc(PK_MAX_MARKS * sizeof *m->marks)))
    return fail(A2I2A_ERR_NOMEM, "%s: out of memory reading the pickle", m->label);
  size_t pos = 0;
/* the opcode's argument of n bytes, or a refusal */
#define NEED(n)                                                                                                 \
  do {                                                                                                          \
    if ((uint64_t)(n) > len - pos) return bad(m, at, "the pickle ends inside opcode 0x%02x", op);              \
  } while (0)
  for (;;) {
    if (st) return st;
    if (pos >= len) return bad(m, pos, "the pickle ends without STOP");
    size_t at = pos;
    uint8_t op = buf[pos++];
    pk_ref r = 0, r2 = 0;
    uint32_t first = 0;
    uint64_t n;
    switch (op) {
    case 0x80: /* PROTO */
      NEED(1);
      if (buf[pos] > 5) return bad(m, at, "pickle protocol %d", buf[pos]);
      pos++;
      break;
    case 0x95: /* FRAME: a length prefix the data does not need */
      NEED(8);
      if (le(buf + pos, 8) > len - pos - 8) return bad(m, at, "a frame runs past the end");
      pos += 8;
      break;
    case '.': /* STOP */
      if ((st = pop(m, at, root))) return st;
      *used = pos;
      return A2I2A_OK;
    case '(': /* MARK */
      if (m->nmarks == PK_MAX_MARKS) return bad(m, at, "MARKs nested deeper than %u", PK_MAX_MARKS);
      m->marks[m->nmarks++] = m->nstack;
      break;
    case '0': /* POP: an item, or a MARK with nothing above it */
      if (m->nmarks && m->nstack == fence(m)) m->nmarks--;
      else st = pop(m, at, &r);
      break;
    case '1': /* POP_MARK */
      if (!(st = pop_mark(m, at, &first))) m->nstack = first;
      break;
    case '2': /* DUP */
      if (!(st = top(m, at, &r))) st = push(m, at, r);
      break;
    case 'N': st = push(m, at, REF_NONE); break;
    case 0x88: st = push(m, at, REF_TRUE); break;
    case 0x89: st = push(m, at, REF_FALSE); break;
    case 'J': /* BININT */
      NEED(4);
      st = push_int(m, at, (int32_t)(uint32_t)le(buf + pos, 4));
      pos += 4;
      break;
    case 'K': /* BININT1 */
      NEED(1);
      st = push_int(m, at, buf[pos++]);
      break;
    case 'M': /* BININT2 */
      NEED(2);
      st = push_int(m, at, (int64_t)le(buf + pos, 2));
      pos += 2;
      break;
    case 0x8a: /* LONG1 */
      NEED(1);
      n = buf[pos++];
      NEED(n);
      st = push_long(m, at, buf + pos, n);
      pos += n;
      break;
    case 0x8b: /* LONG4 */
      NEED(4);
      n = le(buf + pos, 4);
      pos += 4;
      if (n > INT32_MAX) return bad(m, at, "LONG4 of negative length");
      NEED(n);
      st = push_long(m, at, buf + pos, n);
      pos += n;
      break;
    case 'G': { /* BINFLOAT: big-endian */
      NEED(8);
      uint64_t u = 0;
      for (int i = 0; i < 8; i++) u = u << 8 | buf[pos + i];
      pos += 8;
      pk_obj *o;
      if (!(st = push_new(m, at, PK_FLOAT, &o))) memcpy(&o->v.f, &u, 8);
      break;
    }
    case 'X': case 'T': case 'B': /* BINUNICODE, BINSTRING, BINBYTES: 4-byte length */
    case 0x8c: case 'U': case 'C':  /* SHORT_BINUNICODE, SHORT_BINSTRING, SHORT_BINBYTES: 1 */
    case 0x8d: case 0x8e: case 0x96: { /* BINUNICODE8, BINBYTES8, BYTEARRAY8: 8 */
      int w = op == 0x8c || op == 'U' || op == 'C' ? 1 : op == 'X' || op == 'T' || op == 'B' ? 4 : 8;
      NEED(w);
      n = le(buf + pos, w);
      pos += w;
      if (op == 'T' && n > INT32_MAX) return bad(m, at, "BINSTRING of negative length");
      NEED(n);
      st = push_bytes(m, at, op == 'X' || op == 'T' || op == 0x8c || op == 'U' || op == 0x8d ? PK_STR : PK_BYTES,
                      buf + pos, n);
      pos += n;
      break;
    }
    case ')': /* EMPTY_TUPLE */
      st = push_container(m, at, PK_TUPLE, m->nstack);
      break;
    case 't': /* TUPLE */
      if (!(st = pop_mark(m, at, &first))) st = push_container(m, at, PK_TUPLE, first);
      break;
    case 0x85: case 0x86: case 0x87: /* TUPLE1, TUPLE2, TUPLE3 */
      if (m->nstack - fence(m) < (uint32_t)(op - 0x84)) return bad(m, at, "the stack is empty");
      st = push_container(m, at, PK_TUPLE, m->nstack - (op - 0x84));
      break;
    case ']': /* EMPTY_LIST */
      st = push_container(m, at, PK_LIST, m->nstack);
      break;
    case 'l': /* LIST */
      if (!(st = pop_mark(m, at, &first))) st = push_container(m, at, PK_LIST, first);
      break;
    case '}': /* EMPTY_DICT */
      st = push_container(m, at, PK_DICT, m->nstack);
      break;
    case 'd': /* DICT */
      if (!(st = pop_mark(m, at, &first))) st = push_container(m, at, PK_DICT, first);
      break;
    case 'a': case 's': { /* APPEND, SETITEM: Python would call the target's append or __setitem__,
                             so the target must be a real list or dict */
      pk_kind want = op == 'a' ? PK_LIST : PK_DICT;
      uint32_t k = want == PK_DICT ? 2 : 1;
      if (m->nstack - fence(m) < k + 1) return bad(m, at, "the stack is empty");
      r = m->stack[m->nstack - k - 1];
      if (m->obj[r].kind != want)
        return bad(m, at, "%s into a %s", op == 'a' ? "APPEND" : "SETITEM", kind_name(m->obj[r].kind));
      st = append_items(m, at, r, m->stack + m->nstack - k, k);
      m->nstack -= k;
      break;
    }
    case 'e': case 'u': { /* APPENDS, SETITEMS */
      pk_kind want = op == 'e' ? PK_LIST : PK_DICT;
      if ((st = pop_mark(m, at, &first))) return st;
      if (first <= fence(m)) return bad(m, at, "the stack is empty");
      r = m->stack[first - 1];
      if (m->obj[r].kind != want)
        return bad(m, at, "%s into a %s", op == 'e' ? "APPENDS" : "SETITEMS", kind_name(m->obj[r].kind));
      if (want == PK_DICT && (m->nstack - first) % 2) return bad(m, at, "SETITEMS with an odd number of items");
      st = append_items(m, at, r, m->stack + first, m->nstack - first);
      m->nstack = first;
      break;
    }
    case 'q': /* BINPUT */
      NEED(1);
      st = memo_put(m, at, buf[pos++]);
      break;
    case 'r': /* LONG_BINPUT */
      NEED(4);
      st = memo_put(m, at, le(buf + pos, 4));
      pos += 4;
      break;
    case 0x94: /* MEMOIZE */
      st = memo_put(m, at, m->nmemo);
      break;
    case 'h': /* BINGET */
      NEED(1);
      st = memo_get(m, at, buf[pos++]);
      break;
    case 'j': /* LONG_BINGET */
      NEED(4);
      st = memo_get(m, at, le(buf + pos, 4));
      pos += 4;
      break;
    case 'c': case 'i': { /* GLOBAL; INST (a call of the class named: refused by name) */
      const uint8_t *mod = NULL, *name = NULL;
      size_t ml = 0, nl = 0;
      if ((st = read_line(m, buf, len, &pos, &mod, &ml)) || (st = read_line(m, buf, len, &pos, &name, &nl))) return st;
      st = op == 'c' ? push_global(m, at, mod, ml, name, nl) : refuse_call(m, mod, ml, name, nl);
      break;
    }
    case 0x93: { /* STACK_GLOBAL */
      if ((st = pop(m, at, &r2)) || (st = pop(m, at, &r))) return st;
      const pk_obj *mod = pk_at(m, r), *name = pk_at(m, r2);
      if (mod->kind != PK_STR || name->kind != PK_STR) return bad(m, at, "STACK_GLOBAL of something else than names");
      st = push_global(m, at, mod->v.s, mod->n, name->v.s, name->n);
      break;
    }
    case 'Q': /* BINPERSID */
      st = persistent_load(m, at);
      break;
    case 'R': /* REDUCE */
      st = reduce(m, at);
      break;
    case 'b': /* BUILD: an OrderedDict's attributes (a state dict's _metadata), ignored */
      if ((st = pop(m, at, &r2)) || (st = top(m, at, &r))) return st;
      if (m->obj[r].kind != PK_DICT) return bad(m, at, "BUILD of a %s", kind_name(m->obj[r].kind));
      break;
    case 'o': case 0x81: case 0x92: { /* OBJ, NEWOBJ, NEWOBJ_EX: calls of a class */
      const pk_obj *cls = NULL;
      if (op == 'o' && m->nmarks && fence(m) < m->nstack) cls = pk_at(m, m->stack[fence(m)]);
      else if (op != 'o' && m->nstack - fence(m) >= (op == 0x81 ? 2u : 3u))
        cls = pk_at(m, m->stack[m->nstack - (op == 0x81 ? 2 : 3)]);
      if (cls && cls->kind == PK_GLOBAL) {
        const char *mod = accepted[cls->v.id].module, *name = accepted[cls->v.id].name;
        return refuse_call(m, (const uint8_t *)mod, strlen(mod), (const uint8_t *)name, strlen(name));
      }
      return bad(m, at, "a call of a %s", cls ? kind_name(cls->kind) : "missing class");
    }
    case 0x82: case 0x83: case 0x84: /* EXT1, EXT2, EXT4 */
      return fail(A2I2A_ERR_FORMAT, "%s: not a weights file: it calls a function of the copyreg extension registry",
                  m->label);
    default:
      return bad(m, at, "unsupported pickle opcode 0x%02x", op);
    }
  }
#undef NEED
}
