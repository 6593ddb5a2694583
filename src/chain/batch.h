/* a2i2a batch: a whole sample library as independent, addressable items (one sound × seed ×
 * prompt each, in OUTDIR/<id>/ as `run` writes it), resumable and sharded so that GNU parallel,
 * xargs -P or a Slurm array can spread them without a2i2a scheduling anything. */
#ifndef A2I2A_CHAIN_BATCH_H
#define A2I2A_CHAIN_BATCH_H

#include <stdint.h>
#include "a2i2a.h"

enum { BATCH_ID_LEN = 12 };

typedef struct {
  char id[BATCH_ID_LEN + 1];  /* hex: the input's SHA-256 and every setting that changes the outputs */
  const char *input;          /* the sound's path (as found in the folder, or resolved from the list) */
  int line;                   /* the SOURCE line it came from (0: a folder) */
  a2i2a_run_params p;         /* strings owned by the plan */
  char input_sha256[65];      /* "" when the input could not be read: the item fails with unreadable */
  const char *unreadable;     /* why the input could not be hashed (the item's failure), or NULL */
} batch_item;

typedef struct {
  batch_item *items;
  int nitems;
  const char *source;
  void *strings; /* storage of every string the items point to */
} batch_plan;

/* What the command line fixed for every item: the run's parameters, the keys of those it gave
 * explicitly (kept over a CSV row's preset), and the prompts and seeds to cross each sound with. */
typedef struct {
  const a2i2a_run_params *p;
  const char *const *given; /* run.json keys */
  int ngiven;
  const char *const *prompts;
  int nprompts; /* 0: p's prompt */
  const uint64_t *seeds;
  int nseeds;   /* 0: p's seed */
} batch_settings;

/* The items of SOURCE, in a stable order: a folder (every sound in it, recursively, by path in
 * byte order, hidden names and batch folders (OUTDIR may lie inside SOURCE) skipped), a .csv file (a header row with a "path" or "input" column,
 * the others run.json keys or their last part — "prompt", "seed", "steps", "preset", "readings"
 * — overriding the settings for that row; an empty cell overrides nothing), or any other file,
 * a list of paths one a line (blank lines and lines starting with # skipped). Paths in a list
 * or CSV are relative to its folder. Every value is checked by the parameters' table before any
 * work: errors name SOURCE:LINE and the column. An item that comes twice is kept once. */
a2i2a_status batch_expand(const char *source, const batch_settings *s, batch_plan *plan);
void batch_plan_free(batch_plan *plan);
/* The item with id (NULL: none). */
const batch_item *batch_find(const batch_plan *plan, const char *id);

typedef enum { BATCH_PENDING, BATCH_DONE, BATCH_FAILED } batch_state;
/* An item's state in outdir: done when OUTDIR/<id>/run.json records this input and every output
 * it lists is there (verify: with the recorded SHA-256); failed when a failure was recorded
 * (reason receives it); pending otherwise. */
batch_state batch_item_state(const char *outdir, const char *id, const char *input_sha256, int verify, char *reason,
                             size_t reason_size);

/* Runs one item into OUTDIR/<id>/ with an open model, replacing what an interrupted run left
 * there. A failure other than a cancel is recorded (its one line, a2i2a_last_error()) for
 * batch_item_state and --status; a success clears an earlier failure. */
a2i2a_status batch_run_item(a2i2a_model *model, const char *outdir, const batch_item *it, a2i2a_job *job);

/* OUTDIR/batch.json from the plan and the items' states on disk (presence, not hashes): written
 * atomically under a lock, so that shards finishing together each leave a whole file. */
a2i2a_status batch_write_json(const char *outdir, const batch_plan *plan);

/* An OUTDIR's batch as batch.json lists its items, each with its state as now on disk. */
typedef struct {
  char id[BATCH_ID_LEN + 1];
  char *input, *reason; /* reason: NULL unless failed */
  batch_state state;
} batch_status_item;
typedef struct {
  batch_status_item *items;
  int nitems, done, failed, pending;
} batch_status;
a2i2a_status batch_status_read(const char *outdir, batch_status *st);
void batch_status_free(batch_status *st);

/* Gathers the items of the batch folders dirs (one per shard, made where OUTDIR was not
 * shared) into outdir: every done item folder (hashes verified) not already done there is
 * copied in whole, through a private folder renamed into place; failures are carried over for
 * items done nowhere. batch.json lists the union of their items. *copied: the items copied. */
a2i2a_status batch_merge(const char *outdir, const char *const *dirs, int ndirs, int *copied);

#endif
