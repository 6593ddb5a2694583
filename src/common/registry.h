/* The tables behind the registries (a2i2a_list_*): each list a user chooses from is one const
 * table in the module that owns the thing (styles in src/a2i, samplers in src/sd, ...), whose
 * rows begin with (or contain) an a2i2a_entry. A registry_table describes such a table, so that
 * the public functions, the errors that list names, and the CLI's help, validation and
 * completion all read the same rows. */
#ifndef A2I2A_REGISTRY_H
#define A2I2A_REGISTRY_H

#include <stddef.h>

#include "a2i2a.h"

typedef struct registry_table {
  const char *name;          /* the list's name ("samplers"), as the PARAMS json names it */
  const char *noun;          /* one of its things, for errors ("sampler") */
  const a2i2a_entry *first;  /* the entry of the table's first row */
  size_t stride;             /* bytes from one row to the next */
  int count;
  void (*init)(void);        /* NULL, or makes the rows' JSON once (thread-safe); called before
                                an entry's json is handed out */
} registry_table;

/* A registry_table for the array t whose rows have an a2i2a_entry member named entry. */
#define REGISTRY_TABLE(list_name, thing, t, init_fn) \
  {list_name, thing, &(t)[0].entry, sizeof(t)[0], (int)(sizeof(t) / sizeof(t)[0]), init_fn}

/* Storage for a row's JSON that its owner writes once in the table's init function (a file-scope
 * compound literal: static, writable, its address a constant). */
#define REGISTRY_JSON_SLOT(size) ((char[size]){0})

/* Row i's entry, or NULL past the end. */
const a2i2a_entry *registry_entry(const registry_table *t, int i);
/* The row named name (exactly), or -1. */
int registry_index(const registry_table *t, const char *name);
/* The names, separated by ", " ("pndm, ddim, euler"), cut to fit buf. Returns buf. */
const char *registry_names(const registry_table *t, char *buf, size_t size);
/* Records "unknown NOUN 'name' (one of: a, b, c)" and returns A2I2A_ERR_PARAM. */
a2i2a_status registry_unknown(const registry_table *t, const char *name);

/* A comma-separated list of names, or "all" (every row, in table order): the row numbers into
 * idx[], each once, in the order given (at most max). Errors name the unknown name, an empty
 * list or an empty name. */
a2i2a_status registry_parse_list(const registry_table *t, const char *list, int *idx, int max, int *n);

#endif
