/* `a2i2a verify [DIR]`: runs every case found in a folder laid out like shared/fixtures/sd.
 * Each part of the engine contributes a runner in its own file (verify_<part>.c); runners
 * read everything (shapes, settings, tolerances) from the case's files, never hard-code it. */
#ifndef A2I2A_VERIFY_H
#define A2I2A_VERIFY_H

#include <cjson/cJSON.h>
#include <stddef.h>

typedef struct {
  const char *dir;       /* the fixtures folder */
  const char *model_dir; /* --model-dir: more forms of the cases' models, or NULL */
  int pass, fail, skip;
  /* a folder of extensions (sd-ext) names its models in models.json: the base model's folder
   * ("base" relative to dir, then "base_model") and the TAESD's ("taesd.folder"); NULL without */
  const cJSON *models;
  const char *base_model, *taesd;
} verify_ctx;

/* One form of a case's model: a diffusers folder or a single file. */
typedef struct {
  char path[4200];
  char name[128]; /* its folder or file name: "tiny-sd1", "tiny-sd1.safetensors", "tiny-sd1.ckpt" */
  int folder;
  int extra;      /* found in model_dir */
} verify_form;

/* The forms of model NAME a case runs on: the fixtures folder's NAME/ and NAME.safetensors, then
 * model_dir's diffusers folders NAME and NAME-SUFFIX (holding a model_index.json) and single files
 * NAME.safetensors, .ckpt, .pt, .pth and .bin (shared/fixtures/pickle holds tiny-sd1-bin/ and
 * tiny-sd1.ckpt: the same weights as PyTorch checkpoints). folders_only: diffusers folders only.
 * Returns how many were found, at most max. */
int verify_model_forms(const verify_ctx *v, const char *model, int folders_only, verify_form *out, int max);

/* One line: name, max abs error, tolerance, pass/fail. */
void verify_line(verify_ctx *v, const char *name, double max_abs, double tol, int ok);
void verify_skip(verify_ctx *v, const char *name, const char *why);
/* A case that could not run because of an error (missing file, bad model): a failure. */
void verify_error(verify_ctx *v, const char *name, const char *why);

/* Reads and parses a JSON file (NULL + verify_error-able message in a2i2a_last_error()). */
cJSON *verify_read_json(const char *path);
/* The manifest's tolerance for a tensor: tensors.<name>.tolerance.max_abs (fallback if absent). */
double verify_tolerance(const cJSON *manifest, const char *tensor, double fallback);
/* Compares n values, reports "<case>.<tensor>" with max abs error against tol; returns ok. */
int verify_compare(verify_ctx *v, const char *name, const float *got, const float *ref, size_t n, double tol);

/* The runners. json_path is golden/<stem>.json; stem is e.g. "vae_sd1". */
void verify_torch_rng(verify_ctx *v, const char *json_path, const char *stem);
void verify_tokenizer(verify_ctx *v, const char *prompts_json_path);
void verify_text_encoder(verify_ctx *v, const char *json_path, const char *stem);
void verify_vae(verify_ctx *v, const char *json_path, const char *stem);
void verify_unet(verify_ctx *v, const char *json_path, const char *stem);
void verify_schedulers(verify_ctx *v, const char *json_path, const char *stem);
void verify_scheduler_steps(verify_ctx *v, const char *json_path, const char *stem);
/* img2img_*: a case whose settings name no model runs on the ctx's base model; one whose stem
 * ends in _taesd with the ctx's TAESD in place of the VAE. */
void verify_img2img(verify_ctx *v, const char *json_path, const char *stem);
/* shared/fixtures/sd-ext's LoRA cases (verify_lora.c): lora_* (merged weights, text encoder,
 * UNet) and img2img_*_lora (the whole run), on the base model its models.json names. */
void verify_lora(verify_ctx *v, const char *json_path, const char *stem);
void verify_img2img_lora(verify_ctx *v, const char *json_path, const char *stem);
void verify_vocoder(verify_ctx *v, const char *json_path, const char *stem);
/* taesd*: the TAESD's encoder and decoder on their own (verify_taesd.c). */
void verify_taesd(verify_ctx *v, const char *json_path, const char *stem);

#endif
