/* SD's UNet (diffusers UNet2DConditionModel), one batch element per call or a small batch.
 * SHARED INTERFACE (pipeline, bench): extend, do not change. */
#ifndef A2I2A_UNET_H
#define A2I2A_UNET_H

#include "sd/model.h"

typedef struct unet unet;

a2i2a_status unet_load(unet **out, const sd_model *m);
void unet_free(unet *u);
int unet_context_dim(const unet *u);
/* x [4][h][w], t a (possibly fractional) timestep, ctx [n_ctx][context_dim] -> out [4][h][w]
 * (the model's raw prediction: epsilon or v). */
a2i2a_status unet_forward(unet *u, const float *x, int h, int w, float t, const float *ctx, int n_ctx, float *out);

/* ---- additions (unet.c) ---- */

#define UNET_MAX_LEVELS 8
#define UNET_MAX_BATCH 4

/* nb images at once (1..UNET_MAX_BATCH), as diffusers' batch: x [nb][4][h][w], t [nb],
 * ctx [nb][n_ctx][context_dim] -> out [nb][4][h][w]. Each image's result is unet_forward's on
 * it alone (up to float rounding); the batch shares every weight read, which is what makes
 * classifier-free guidance's [uncond, cond] pair cheaper together than one after the other. */
a2i2a_status unet_forward_batch(unet *u, int nb, const float *x, int h, int w, const float *t, const float *ctx,
                                int n_ctx, float *out);

/* The architecture, as diffusers' config.json spells it, or as inferred from the tensor shapes
 * of a single-file LDM checkpoint. Per-level lists are in down-block order (level 0 = full
 * resolution); the up block at level l uses the same entry (diffusers' reversed lists), the
 * mid block the last one. */
typedef struct {
  int in_channels, out_channels;
  int n_levels, layers_per_block;
  int block_out_channels[UNET_MAX_LEVELS];
  int down_attention[UNET_MAX_LEVELS]; /* 1 = CrossAttnDownBlock2D, 0 = DownBlock2D */
  int up_attention[UNET_MAX_LEVELS];   /* by level: 1 = the up block at that level is CrossAttnUpBlock2D */
  int heads[UNET_MAX_LEVELS];          /* attention heads (legacy attention_head_dim, or num_attention_heads) */
  int transformer_depth[UNET_MAX_LEVELS];
  int cross_attention_dim;
  int linear_projection; /* 1 = proj_in/proj_out are Linear (SD 2.x), 0 = 1x1 convs (SD 1.x) */
  int norm_groups;
  float norm_eps;
  int flip_sin_to_cos, freq_shift;
  int time_embed_dim; /* 4 × block_out_channels[0] */
} unet_config;

/* Reads unet/config.json (diffusers) or infers the config from the tensor shapes (LDM). */
a2i2a_status unet_config_read(const sd_model *m, unet_config *c);
const unet_config *unet_get_config(const unet *u);
/* The float32 frequency table of the sinusoidal timestep features (block_out_channels[0]/2
 * values), bit-identical to torch's. */
const float *unet_time_freqs(const unet *u, int *n);
/* Timestep features proj [block_out_channels[0]] and the time MLP's output emb [time_embed_dim]
 * (either may be NULL). */
void unet_time_embedding(const unet *u, float t, float *proj, float *emb);
/* Every tensor unet_load reads for m's config (diffusers names for a folder, the full LDM keys
 * for a single file) with its element count, without reading any: for tools that make
 * checkpoints of a given architecture (bench). */
a2i2a_status unet_list_tensors(const sd_model *m, void (*fn)(const char *name, size_t numel, void *arg), void *arg);
/* The same list in either naming whatever m's layout (ldm_names: the full LDM keys, else the
 * diffusers names), in the same order: the two lists pair the namings (LoRA files name the
 * diffusers modules). */
a2i2a_status unet_list_tensor_names(const sd_model *m, int ldm_names,
                                    void (*fn)(const char *name, size_t numel, void *arg), void *arg);
/* Floating-point operations of one unet_forward (multiply-adds of convs, linears, attention). */
double unet_flops(const unet *u, int h, int w, int n_ctx);
/* Bytes of activation buffers held for the last (h, w, n_ctx) (reused while the size stays). */
size_t unet_buffer_bytes(const unet *u);

/* Keeps mapped only the weights of the blocks a forward pass runs first, up to resident_bytes
 * (SIZE_MAX, the default: all of them); each later block's pages are dropped right after it ran,
 * and read back from the page cache by the next pass. Results do not change. The low-memory
 * mode streams every block (0). */
void unet_set_resident_weights(unet *u, size_t resident_bytes);
/* Frees the activation buffers (the next forward allocates them again). */
void unet_release_buffers(unet *u);

/* Where a forward pass spends its time, by kind of work (bench/bench_unet prints it). */
enum {
  UNET_PROF_CONV3, UNET_PROF_CONV1, UNET_PROF_NORM, UNET_PROF_QKV, UNET_PROF_ATT_SELF, UNET_PROF_ATT_CROSS,
  UNET_PROF_FF, UNET_PROF_GEGLU, UNET_PROF_OTHER, UNET_PROF_N
};
extern const char *const unet_profile_names[UNET_PROF_N]; /* "conv3x3", "norms", ... */
typedef struct {
  int cpu;                  /* 1: process CPU time (all threads) instead of wall time */
  double total;             /* seconds of the last forward */
  double kind[UNET_PROF_N]; /* of which, by kind of work (the rest is untimed) */
} unet_profile;
/* Times every later forward of u into *p (the caller's; NULL stops). */
void unet_set_profile(unet *u, unet_profile *p);

#endif
