/* The VAE (diffusers AutoencoderKL). Images are [3][H][W] in [-1, 1], H and W multiples of 8;
 * latents [4][H/8][W/8], unscaled (the pipeline multiplies by vae_scaling_factor).
 * SHARED INTERFACE (pipeline, bench): extend, do not change. */
#ifndef A2I2A_VAE_H
#define A2I2A_VAE_H

#include "sd/model.h"

typedef struct vae vae;

a2i2a_status vae_load(vae **out, const sd_model *m);
void vae_free(vae *v);
float vae_scaling_factor(const vae *v);
/* mean and logvar (clamped to [-30, 20]) of the posterior, each [4][H/8][W/8]. */
a2i2a_status vae_encode(vae *v, const float *image, int H, int W, float *mean, float *logvar);
/* latent [4][h][w] (unscaled) -> image [3][8h][8w], raw (not clamped). */
a2i2a_status vae_decode(vae *v, const float *latent, int h, int w, float *image);

/* Tiled decoding and encoding, for the low-memory mode: the latent is cut into the fewest equal
 * tiles of at most `tile` latent pixels a side that overlap by at least `overlap` (at most a
 * third of a tile), each tile is decoded (encoded) alone, and the tiles are blended with linear
 * ramps across their overlaps, as diffusers' AutoencoderKL.enable_tiling does. One tile that
 * covers the latent gives exactly vae_decode's (vae_encode's) result; more change it slightly
 * (each tile's group norms and attention see only the tile). */
enum { VAE_TILE = 40, VAE_TILE_OVERLAP = 8 }; /* latent pixels: the low-memory mode's */
a2i2a_status vae_decode_tiled(vae *v, const float *latent, int h, int w, float *image, int tile, int overlap);
a2i2a_status vae_encode_tiled(vae *v, const float *image, int H, int W, float *mean, float *logvar, int tile,
                              int overlap);
/* One axis of n latent pixels: the number of tiles; their starts into start (when not NULL) and
 * their common size into *size (when not NULL). */
int vae_tile_plan(int n, int tile, int overlap, int *start, int *size);
/* Tile i's blending weight at position x of the axis, in units of 1/scale latent pixel (8 for the
 * decoded picture, 1 for latents): 1 inside, a linear ramp across each overlap; the tiles'
 * weights add up to 1 at every x. */
float vae_tile_weight(const int *start, int k, int size, int scale, int i, int x);

/* Image side / latent side (8 for SD), latent channels (4), image channels (3). */
void vae_dims(const vae *v, int *factor, int *latent_channels, int *image_channels);

/* The posterior's helpers, shared by vae_encode and the pipeline: logvar clamped to [-30, 20]
 * in place, and sample = mean + exp(logvar/2)·noise (n values each; sample may alias mean). */
void vae_clamp_logvar(float *logvar, size_t n);
void vae_sample(float *sample, const float *mean, const float *logvar, const float *noise, size_t n);

#endif
