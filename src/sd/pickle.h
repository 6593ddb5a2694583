/* A pickle machine that can only build data: None, booleans, numbers, strings, tuples, lists,
 * dicts, and the storages and tensors of PyTorch state dicts. It runs the opcodes that
 * torch.save writes (protocols 2 to 5); a global is looked up in one table of accepted names
 * (collections.OrderedDict, torch's tensor rebuilds and storage classes, torch.Size,
 * torch.nn.parameter.Parameter) and any other is refused by name before anything happens. No
 * opcode calls anything: REDUCE is only ever the construction of an accepted rebuild, done
 * here in C; BUILD only on a dict (an OrderedDict's attributes, ignored); INST, OBJ, NEWOBJ and
 * the extension registry are refused. The stack, the memo, the MARK nesting, the number of
 * objects and of container items are bounded, and every size is checked before it is used.
 * A pure function of its bytes (it is fuzzed through tests/fuzz_pickle.c). */
#ifndef A2I2A_PICKLE_H
#define A2I2A_PICKLE_H

#include <stddef.h>
#include <stdint.h>

#include "sd/safetensors.h"

typedef enum {
  PK_NONE, PK_BOOL, PK_INT, PK_BIGINT, PK_FLOAT, PK_STR, PK_BYTES,
  PK_TUPLE, PK_LIST, PK_DICT, PK_GLOBAL, PK_STORAGE, PK_TENSOR
} pk_kind;

typedef uint32_t pk_ref; /* an object: its index in the machine's objects */
#define PK_EMPTY UINT32_MAX

typedef struct {
  uint8_t kind; /* pk_kind */
  uint32_t n;   /* STR, BYTES, BIGINT: bytes; TUPLE, LIST: items; DICT: key/value pairs */
  uint32_t cap; /* LIST, DICT: items allocated */
  union {
    int64_t i;          /* BOOL, INT */
    double f;           /* FLOAT */
    const uint8_t *s;   /* STR (UTF-8), BYTES, BIGINT (little-endian two's complement): in the pickle */
    pk_ref *items;      /* TUPLE, LIST; DICT: key, value, key, value, ... */
    uint32_t id;        /* GLOBAL: its row in the table; STORAGE, TENSOR: index in storages, tensors */
  } v;
} pk_obj;

/* A storage named by a persistent id ("storage", class, key, location, numel[, view]). */
typedef struct {
  st_dtype dtype;
  const uint8_t *key; /* in the pickle, not NUL-terminated */
  uint32_t keylen;
  uint64_t numel;
} pk_storage;

/* A view of a storage: element (i, j, ...) is storage[offset + i*stride[0] + j*stride[1] + ...]. */
typedef struct {
  uint32_t storage;
  int ndim;
  uint64_t offset, shape[ST_MAX_DIMS], stride[ST_MAX_DIMS];
  uint64_t numel;
} pk_tensor;

typedef struct {
  const char *label; /* names the file in errors */
  pk_obj *obj;
  uint32_t nobj, capobj;
  pk_storage *storages;
  uint32_t nstorages, capstorages;
  pk_tensor *tensors;
  uint32_t ntensors, captensors;
  pk_ref *stack;
  uint32_t nstack, capstack;
  uint32_t *marks;
  uint32_t nmarks;
  pk_ref *memo; /* PK_EMPTY: not set */
  uint32_t capmemo, nmemo;
  size_t items; /* container items allocated so far, against PK_MAX_ITEMS */
} pk_machine;

void pk_init(pk_machine *m, const char *label);
void pk_free(pk_machine *m);

/* Runs the pickle that starts at buf[0] up to its STOP (buf holds len bytes; what follows the
 * STOP is not read): *used receives the bytes it took, *root the object it made. Objects,
 * storages and tensors stay in the machine for the next pickle (the legacy format's five
 * pickles share storages); the stack and memo start empty. Refusals are A2I2A_ERR_FORMAT:
 * "LABEL: not a weights file: it calls MODULE.NAME", or the problem and its offset. */
a2i2a_status pk_run(pk_machine *m, const uint8_t *buf, size_t len, size_t *used, pk_ref *root);

static inline const pk_obj *pk_at(const pk_machine *m, pk_ref r) { return &m->obj[r]; }
/* s[0..n) for a message: at most 100 bytes, anything unprintable as '?'. */
void pk_printable(char out[101], const uint8_t *s, size_t n);
/* 1 if o is the string s. */
int pk_is_str(const pk_obj *o, const char *s);
/* The value for string key in a dict (the last one set, as in Python), or 0 with *found = 0. */
pk_ref pk_dict_get(const pk_machine *m, const pk_obj *dict, const char *key, int *found);

#endif
