/* Vocoders with seeded random weights, of any size, in their published layouts (Vocos:
 * config.yaml + model.safetensors; HiFi-GAN: config.json + generator.safetensors with weight_g and
 * weight_v): for the tests that run without the reference fixtures and for the full-size speed
 * figures (bench/make_vocoder_checkpoint). Weights are uniform with variance 1/fan_in, norm
 * scales 1, biases 0, Vocos's layer scale 1/layers (its initial value); HiFi-GAN's weight_g is
 * ‖weight_v‖, so the normed weight is weight_v. Random weights make noise: these serve the
 * arithmetic and its speed, not the sound. */
#ifndef A2I2A_TEST_RANDOM_VOCODER_H
#define A2I2A_TEST_RANDOM_VOCODER_H

#include <stdint.h>

#include "a2i2a.h"

/* charactr/vocos-mel-24khz's features (24 kHz, 100 mels, n_fft 1024, hop 256) with a backbone of
 * dim, intermediate and layers (published: 512, 1536, 8). dir must exist. */
a2i2a_status write_random_vocos(const char *dir, int dim, int intermediate, int layers, uint64_t seed);
/* HiFi-GAN V1's config (22.05 kHz, 80 mels 0–8 kHz, upsampling 8·8·2·2 with kernels 16, 16, 4, 4,
 * resblocks "1" of kernels 3, 7, 11 and dilations 1, 3, 5) with `channels` initial channels
 * (V1: 512). dir must exist. */
a2i2a_status write_random_hifigan(const char *dir, int channels, uint64_t seed);

#endif
