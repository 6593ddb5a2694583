/* Finding and opening a Stable Diffusion checkpoint: a diffusers folder, a single-file
 * checkpoint in the original LDM naming, or ORG/NAME in the Hugging Face cache.
 * Each network (vae.c, clip.c, unet.c) maps the names of its own weights from either layout.
 *
 * THIS INTERFACE IS SHARED by the VAE, CLIP and UNet code: extend it, do not change it. */
#ifndef A2I2A_MODEL_H
#define A2I2A_MODEL_H

#include <cjson/cJSON.h>
#include "sd/safetensors.h"

typedef enum { SD_LAYOUT_DIFFUSERS, SD_LAYOUT_LDM } sd_layout;
typedef enum { SD_UNET, SD_VAE, SD_TEXT, SD_NPARTS } sd_part;

typedef struct {
  char path[4096];      /* what was opened (folder or file) */
  char name[256];       /* a short name for messages and metadata (ORG/NAME or the file's name) */
  sd_layout layout;
  /* diffusers: one file per part (unet/, vae/, text_encoder/); LDM: part files all alias file[0] */
  st_file file[SD_NPARTS];
  /* diffusers: the part's config.json (NULL for LDM: inferred from shapes by each network) */
  cJSON *config[SD_NPARTS];
  cJSON *scheduler_config; /* scheduler/scheduler_config.json, or NULL (LDM: the family's default) */
  char tokenizer_dir[4096]; /* folder with vocab.json + merges.txt, or "" (use the bundled merges) */
  int family;               /* 1 = SD 1.x (CLIP ViT-L text encoder), 2 = SD 2.x (OpenCLIP ViT-H) */
  int v_prediction;         /* 1 = v-prediction, 0 = epsilon */
} sd_model;

/* Opens path_or_repo: a diffusers folder, a single file (.safetensors, or a PyTorch .ckpt, .pt,
 * .pth or .bin read without running anything: torch_file.h), or ORG/NAME resolved in the
 * Hugging Face cache (hub_snapshot). */
a2i2a_status sd_model_open(const char *path_or_repo, sd_model *m);
void sd_model_close(sd_model *m);

/* The tensor of a part by name: the diffusers name inside the part's file for the diffusers
 * layout, the full LDM key (e.g. "first_stage_model.decoder.conv_in.weight") for LDM.
 * NULL if absent. */
const st_tensor *sd_tensor(const sd_model *m, sd_part part, const char *name);

/* Bounds of the numbers a model's config may state (docs/reliability.md): far beyond SD 1.x and
 * 2.x (at most 1280 channels, a 1024-wide text encoder, 4 latent channels, 32 groups), small
 * enough that no size computed from them overflows. */
#define SD_MAX_WIDTH 16384    /* channels, hidden and attention widths */
#define SD_MAX_IO_CHANNELS 64 /* image and latent channels, in and out */
#define SD_MAX_GROUPS 1024    /* group-norm groups */
#define SD_MAX_HEADS 1024     /* attention heads */
#define SD_MAX_DEPTH 256      /* layers, transformer blocks */

/* A number of a model's JSON config (config.json, scheduler_config.json): the value v (NULL or
 * null: dflt; true/false: 1/0), which must be a number in [lo, hi] — a whole one if whole —
 * else A2I2A_ERR_MODEL "WHERE: KEY: VALUE is not a whole number in [LO, HI]" (the bounds are
 * listed in docs/reliability.md). sd_config_int looks key up in cfg. */
a2i2a_status sd_config_value(const cJSON *v, const char *where, const char *key, double dflt, double lo, double hi,
                             int whole, double *out);
a2i2a_status sd_config_int(const cJSON *cfg, const char *where, const char *key, int dflt, int lo, int hi, int *out);
/* n of them: one number for all (or dflt when absent), or a list of n numbers. */
a2i2a_status sd_config_ints(const cJSON *cfg, const char *where, const char *key, int n, int dflt, int lo, int hi,
                            int *out);

/* One line saying what was found: name, layout, family, prediction type, UNet size and dtype. */
void sd_model_describe(const sd_model *m, char *buf, size_t n);

/* Drops the part's weight pages from memory (they are clean file pages of a read-only mapping:
 * the next use reads them back from the page cache). The pipeline calls it for the text encoder
 * once the prompts are encoded and for the UNet before the VAE decodes, so that the peak is the
 * largest phase rather than the sum of all three networks. */
void sd_model_release(const sd_model *m, sd_part part);
/* The same for the bytes [p, p + n) of one weight (the pages they touch, whole), when they lie
 * in the read-only mapping [map, map + map_size); anything else is left alone. The low-memory
 * mode drops each UNet block's weights after use with it. */
void sd_release_pages(const void *map, size_t map_size, const void *p, size_t n);

/* Reads a JSON object (a config file) into *out (cJSON_Delete it); A2I2A_ERR_MODEL/FORMAT/IO
 * naming the file otherwise. */
a2i2a_status sd_read_json(const char *path, cJSON **out);

#endif
