/* The chain's parameters (A2I2A_LIST_PARAMS): one row per field of a2i2a_run_params with its
 * run.json key, stage, type, accepted range or choices, help line and place in the struct.
 * The library's checks, run.json (written and read), the presets' JSON and the CLI's options
 * all read these rows. */
#ifndef A2I2A_CHAIN_PARAMS_H
#define A2I2A_CHAIN_PARAMS_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "a2i2a.h"
#include "common/registry.h"

typedef enum { PARAM_INT, PARAM_NUMBER, PARAM_TEXT, PARAM_CHOICE, PARAM_FLAG, PARAM_SEED } param_type;

enum {
  PARAM_PRESET = 1 << 0,   /* the presets set it */
  PARAM_NULLABLE = 1 << 1, /* text, choice: NULL allowed (see unset) */
  PARAM_ZERO = 1 << 2,     /* int, number: 0 allowed besides [min, max] (see unset) */
  PARAM_LIST = 1 << 3,     /* choice: a comma-separated list of them, or "all" */
  PARAM_NEWER = 1 << 4,    /* not in every run.json: a file without it gets 0 or NULL, what the
                              code before it used */
};

typedef struct {
  a2i2a_entry entry;       /* name: the run.json key ("i2i.strength"), description: a help line */
  const char *stage;       /* "a2i", "i2i", "i2a" or "run" */
  param_type type;
  double min, max;         /* int, number: the accepted range */
  int step;                /* int: the values are min, min + step, ... (0: every whole number) */
  const registry_table *choices; /* choice */
  unsigned flags;
  const char *unset;       /* PARAM_ZERO, PARAM_NULLABLE: what 0 or NULL means */
  size_t offset, size;     /* the field in a2i2a_run_params */
} param_def;

extern const registry_table param_registry;
int param_count(void);
const param_def *param_at(int i);
const param_def *param_find(const char *key);

/* d's field in p. */
void *param_field(const param_def *d, a2i2a_run_params *p);
const void *param_cfield(const param_def *d, const a2i2a_run_params *p);

/* Sets d's field in p from text as typed on a command line (numbers strictly, choices from
 * their list); strings keep pointing to text. A2I2A_ERR_PARAM with a message that names the
 * value and what is accepted, not the key (the caller names the option). */
a2i2a_status param_parse(const param_def *d, const char *text, a2i2a_run_params *p);
/* Whether d's value in p is accepted; A2I2A_ERR_PARAM "KEY: VALUE is not ..." otherwise. */
a2i2a_status param_check(const param_def *d, const a2i2a_run_params *p);
/* Every field of p, then what ties fields together (the clips' overlap). */
a2i2a_status params_check(const a2i2a_run_params *p);
/* The fields of one stage's own struct, as the stage's public call receives it. */
a2i2a_status params_check_a2i(const a2i2a_a2i_params *p);
a2i2a_status params_check_i2i(const a2i2a_i2i_params *p);
a2i2a_status params_check_i2a(const a2i2a_i2a_params *p);

/* d's value in p as JSON (NULL strings as null; seeds beyond 2^53 as decimal strings; doubles
 * printed so that they read back exactly). */
cJSON *param_to_json(const param_def *d, const a2i2a_run_params *p);
/* Sets d's field in p from JSON v (strings point into v). A2I2A_ERR_FORMAT "'KEY' must be ..."
 * for a wrong type; the range is param_check's. */
a2i2a_status param_from_json(const param_def *d, const cJSON *v, a2i2a_run_params *p);
/* d's value in p as text ("0.9", "pndm", "" for NULL), for help. */
void param_format(const param_def *d, const a2i2a_run_params *p, char *buf, size_t size);
/* What d accepts, as text: "a number in [0, 1]", "16, 24 or 32", "a whole number >= 0". */
void param_expect(const param_def *d, char *buf, size_t size);

#endif
