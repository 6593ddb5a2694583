/* The Hugging Face cache: downloading Stable Diffusion pipelines from the Hub into it, and
 * finding them there, in the layout huggingface_hub/diffusers use, so both share the files:
 *
 *   $HF_HUB_CACHE (or $HF_HOME/hub, default ~/.cache/huggingface/hub)
 *     models--ORG--NAME/blobs/<etag>                 the content (etag = SHA-256 for LFS files)
 *     models--ORG--NAME/snapshots/<commit>/<path>    → ../../blobs/<etag> (relative symlinks)
 *     models--ORG--NAME/refs/<revision>              the commit the revision pointed to
 *
 * Only what a2i2a's img2img pipeline needs is fetched: model_index.json,
 * scheduler/scheduler_config.json, the files in tokenizer/, and config.json + weights of text_encoder,
 * unet and vae; from a repository holding one diffusers model at its top instead (a TAESD,
 * madebyollin/taesd), config.json and diffusion_pytorch_model.safetensors. Weights are .safetensors, the *.fp16.safetensors variant when the repository has
 * one, else PyTorch's .bin (fp16 variant first), which sd/torch_file.h reads without running
 * anything. Downloads go to blobs/<etag>.incomplete
 * and resume from it (HTTP Range); LFS files are checked against their SHA-256 before they
 * enter the cache (a mismatch deletes the download). HF_ENDPOINT (default
 * https://huggingface.co) and HF_TOKEN (sent as "Authorization: Bearer", never to another
 * host after a redirect) are honoured. Each blob is downloaded under an exclusive lock in
 * <cache>/.locks/models--ORG--NAME/, where huggingface_hub keeps its own.
 *
 * Opening ORG/NAME (sd/model.c) resolves it here too, so the cache's location and layout are
 * known in this one place. */
#ifndef A2I2A_HUB_H
#define A2I2A_HUB_H

#include <stddef.h>
#include "a2i2a.h"

/* The hub cache folder from the environment, as huggingface_hub computes it. */
void hub_cache_dir(char *out, size_t n);

/* 1 if s has the ORG/NAME shape the Hub accepts (letters, digits, '-', '_', '.'). */
int hub_repo_valid(const char *s);

/* The snapshot folder ORG/NAME's refs/main names in the cache (cache_dir NULL = hub_cache_dir()),
 * or its only snapshot when there is no refs/main. A2I2A_ERR_MODEL naming the repository when
 * it is not in the cache. */
a2i2a_status hub_snapshot(const char *cache_dir, const char *repo, char *out, size_t n);

/* The relative paths hub_pull would fetch from a repository listing (siblings' rfilename): a
 * diffusers pipeline's, or without model_index.json a vocoder's (Vocos, HiFi-GAN):
 * returns how many were chosen (≤ max) into chosen[] (pointers into files[]), or -1 with an
 * error naming repo if a needed part is missing. */
int hub_select_files(const char *repo, const char *const *files, int nfiles, const char **chosen, int max);

/* Downloads (or completes) the pipeline or vocoder repo; snapshot (may be NULL) receives the snapshot
 * folder. Progress, notes and cancel through job (a2i2a_models_pull's contract). */
a2i2a_status hub_pull(const char *repo, const a2i2a_pull_params *p, char *snapshot, size_t n, a2i2a_job *job);

#endif
