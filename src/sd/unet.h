/* SD's UNet (diffusers UNet2DConditionModel), one batch element per call.
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

#endif
