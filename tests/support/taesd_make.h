/* A TAESD of madebyollin/taesd's layout (encoder 1,3,3,3 blocks; decoder 3,3,3,1) and a given
 * width, with seeded He-uniform random weights: for bench/bench_taesd.c (the published 64
 * channels) and the tests that need a TAESD without the fixtures (a replay's record), not the
 * library. */
#ifndef A2I2A_TEST_TAESD_MAKE_H
#define A2I2A_TEST_TAESD_MAKE_H

#include "a2i2a.h"

/* Writes DIR/diffusion_pytorch_model.safetensors (no config.json: taesd_open reads the width
 * from the shapes). */
a2i2a_status taesd_make(const char *dir, int channels, unsigned long long seed);

#endif
