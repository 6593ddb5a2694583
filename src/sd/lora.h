/* LoRA: low-rank weight patches merged into an open model's weights (W += scale·alpha/rank·up·down,
 * in float32, stored back in the tensor's dtype). Files in the kohya-ss naming (lora_unet_*,
 * lora_te_*) or the diffusers/PEFT one (unet.*, text_encoder.*) are both mapped onto the
 * diffusers module names, whatever the layout the model was opened from. */
#ifndef A2I2A_LORA_H
#define A2I2A_LORA_H

#include "a2i2a.h"
#include "sd/safetensors.h"

/* One LoRA of the set merged into a model: what the records need. */
typedef struct {
  char name[256];        /* the file's name without .safetensors: what <lora:NAME:SCALE> names */
  char path[4096];       /* as given ("" for a buffer given without one) */
  char sha256[65];       /* of the whole file */
  char short_hash[13];   /* A1111's "Lora hashes": SHA-256 of the bytes after the header, 12 digits */
  double scale;
  int layers;            /* its layers merged (those matching a layer of the model) */
  long long size, mtime; /* a file's identity: the next job with the same list reuses the merge */
  const void *data;      /* the caller's buffer (only compared, never read after the call) */
} sd_lora_info;

/* A model tensor the set changed: its original bytes (the mapping's) and the merged copy. */
typedef struct {
  st_tensor *t;
  const void *orig;
  void *merged;
} sd_lora_patch;

typedef struct {
  int n;
  sd_lora_info *info;
  int npatches;
  sd_lora_patch *patch;
} sd_lora_set;

struct a2i2a_model;

/* Makes loras[0..n) the model's LoRA set: nothing when it already is (same files unchanged, same
 * scales); otherwise the weights go back to the checkpoint's and the new set is merged, the
 * networks reload their views and the cached prompt embeddings are dropped. Every refusal comes
 * before any change. Some layers matching nothing: one warning on the job's log. */
a2i2a_status sd_lora_apply(struct a2i2a_model *mdl, const a2i2a_lora *loras, int n, a2i2a_job *job);
/* Whether f holds LoRA layers (a *.lora_down.weight or *.lora_A.weight tensor): what `models
 * list` tells a LoRA from a checkpoint by. */
int sd_lora_file_is_lora(const st_file *f);
/* Frees the set's merged copies after pointing their tensors back at the checkpoint. */
void sd_lora_set_free(sd_lora_set *s);

/* A1111's prompt tags: every <lora:NAME> or <lora:NAME:SCALE> is removed from prompt (with the
 * space before it) and listed; *stripped is malloc'd, *names and *scales too (*n of them).
 * A2I2A_ERR_PARAM for a tag whose SCALE is not a number. */
a2i2a_status sd_lora_prompt_tags(const char *prompt, char **stripped, char ***names, double **scales, int *n);

/* The set as A1111 records it: " <lora:NAME:SCALE>" per LoRA (appended to the prompt) and the
 * "Lora hashes" value "NAME: HASH12, ..." (empty strings without LoRAs). */
void sd_lora_prompt_suffix(const sd_lora_set *s, char *buf, size_t n);
void sd_lora_a1111_hashes(const sd_lora_set *s, char *buf, size_t n);

#endif
