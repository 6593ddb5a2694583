/* Downloading Stable Diffusion pipelines from the Hugging Face Hub into the Hugging Face
 * cache, in the layout huggingface_hub/diffusers use, so both share the files:
 *
 *   $HF_HUB_CACHE (or $HF_HOME/hub, default ~/.cache/huggingface/hub)
 *     models--ORG--NAME/blobs/<etag>                 the content (etag = SHA-256 for LFS files)
 *     models--ORG--NAME/snapshots/<commit>/<path>    → ../../blobs/<etag> (relative symlinks)
 *     models--ORG--NAME/refs/<revision>              the commit the revision pointed to
 *
 * Only what a2i2a's img2img pipeline needs is fetched: model_index.json,
 * scheduler/scheduler_config.json, the files in tokenizer/, and config.json + weights of text_encoder,
 * unet and vae. Weights are .safetensors only (never .bin/.ckpt: pickles can run code), the
 * *.fp16.safetensors variant when the repository has one. Downloads go to blobs/<etag>.incomplete
 * and resume from it (HTTP Range); LFS files are checked against their SHA-256 before they
 * enter the cache (a mismatch deletes the download). HF_ENDPOINT (default
 * https://huggingface.co) and HF_TOKEN (sent as "Authorization: Bearer", never to another
 * host after a redirect) are honoured. No locking: do not run two pulls of one model at once. */
#ifndef A2I2A_HUB_H
#define A2I2A_HUB_H

#include <stddef.h>
#include "a2i2a.h"

typedef struct {
  const char *repo;      /* ORG/NAME */
  const char *revision;  /* branch, tag or commit; NULL = "main" */
  const char *endpoint;  /* NULL = $HF_ENDPOINT or https://huggingface.co */
  const char *token;     /* NULL = $HF_TOKEN (none if unset) */
  const char *cache_dir; /* hub cache folder; NULL = hub_cache_dir() */
  int progress;          /* 0 = a live bar on stderr when it is a terminal, 1 = plain lines, -1 = quiet */
  int retries;           /* times an interrupted transfer is resumed before giving up (0 = 3) */
} hub_pull_params;

/* The hub cache folder from the environment, as huggingface_hub computes it. */
void hub_cache_dir(char *out, size_t n);

/* 1 if s has the ORG/NAME shape the Hub accepts (letters, digits, '-', '_', '.'). */
int hub_repo_valid(const char *s);

/* The relative paths hub_pull would fetch from a repository listing (siblings' rfilename):
 * returns how many were chosen (≤ max) into chosen[] (pointers into files[]), or -1 with an
 * error naming repo if a needed part is missing (e.g. only .bin weights). */
int hub_select_files(const char *repo, const char *const *files, int nfiles, const char **chosen, int max);

/* Downloads (or completes) the pipeline; snapshot (may be NULL) receives the snapshot folder. */
a2i2a_status hub_pull(const hub_pull_params *p, char *snapshot, size_t n);

#endif
