/* The one random generator of a2i2a: PyTorch's CPU generator (MT19937 seeded with
 * init_genrand, torch.rand's 24-bit floats, torch.randn's 16-wide Box–Muller layout), so a
 * seed means what it means in the notebook and in diffusers. */
#ifndef A2I2A_RNG_H
#define A2I2A_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
  uint32_t mt[624];
  int index;
} torch_rng;

void rng_seed(torch_rng *g, uint64_t seed);
uint32_t rng_u32(torch_rng *g);
/* torch.rand (float32): (next & 0xFFFFFF) * 2^-24, in [0, 1). */
float rng_uniform(torch_rng *g);
void rng_rand(torch_rng *g, float *out, size_t n);
/* torch.randn (float32) for n >= 16, the case every SD noise tensor is in. */
void rng_randn(torch_rng *g, float *out, size_t n);

#endif
