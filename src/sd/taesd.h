/* TAESD, the tiny autoencoder (diffusers AutoencoderTiny, madebyollin/taesd): about a hundred
 * times fewer operations than the VAE for the same latents, which makes a decode per step
 * affordable (previews) and quick drafts possible.
 *
 * Its latents are the UNet's own (scaling factor 1.0): the encoder's output is the initial
 * latent as it is (no distribution, no sampling) and the decoder takes the final latents
 * unchanged. Images are [3][H][W] in [-1, 1], H and W multiples of 8; latents [4][H/8][W/8]. */
#ifndef A2I2A_TAESD_H
#define A2I2A_TAESD_H

#include <stddef.h>

#include "a2i2a.h"

typedef struct taesd taesd;

/* Opens path: a diffusers folder (config.json + diffusion_pytorch_model.safetensors), that
 * .safetensors alone (madebyollin/taesd's layout and widths read from the shapes), or ORG/NAME
 * in the Hugging Face cache. Every tensor's shape is checked: A2I2A_ERR_MODEL naming the file and
 * the tensor when one is missing or of another shape. */
a2i2a_status taesd_open(const char *path, taesd **out);
void taesd_free(taesd *t);
/* The weights file opened (what run.json's taesd_sha256 fingerprints). */
const char *taesd_weights_path(const taesd *t);
/* Image side / latent side (8), latent channels (4), image channels (3), as vae_dims. */
void taesd_dims(const taesd *t, int *factor, int *latent_channels, int *image_channels);

/* image [3][H][W] in [-1, 1] -> latents [4][H/8][W/8], the UNet's scale. */
a2i2a_status taesd_encode(taesd *t, const float *image, int H, int W, float *latents);
/* latents [4][h][w] -> image [3][8h][8w] in about [-1, 1] (not clamped). */
a2i2a_status taesd_decode(taesd *t, const float *latents, int h, int w, float *image);
/* Frees the activation buffers kept between calls (a preview decodes every step). */
void taesd_release(taesd *t);

#endif
