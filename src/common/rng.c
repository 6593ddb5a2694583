#include "common/rng.h"

#include <math.h>

void rng_seed(torch_rng *g, uint64_t seed) {
  /* torch keeps only the low 32 bits of the seed for MT19937 */
  g->mt[0] = (uint32_t)seed;
  for (int i = 1; i < 624; i++)
    g->mt[i] = 1812433253u * (g->mt[i - 1] ^ (g->mt[i - 1] >> 30)) + (uint32_t)i;
  g->index = 624;
}

static void twist(torch_rng *g) {
  for (int i = 0; i < 624; i++) {
    uint32_t y = (g->mt[i] & 0x80000000u) | (g->mt[(i + 1) % 624] & 0x7fffffffu);
    g->mt[i] = g->mt[(i + 397) % 624] ^ (y >> 1) ^ ((y & 1u) ? 0x9908b0dfu : 0u);
  }
  g->index = 0;
}

uint32_t rng_u32(torch_rng *g) {
  if (g->index >= 624) twist(g);
  uint32_t y = g->mt[g->index++];
  y ^= y >> 11;
  y ^= (y << 7) & 0x9d2c5680u;
  y ^= (y << 15) & 0xefc60000u;
  y ^= y >> 18;
  return y;
}

float rng_uniform(torch_rng *g) { return (float)(rng_u32(g) & 0xFFFFFFu) * (1.0f / 16777216.0f); }

void rng_rand(torch_rng *g, float *out, size_t n) {
  for (size_t i = 0; i < n; i++) out[i] = rng_uniform(g);
}

/* torch's normal_fill_16: Box–Muller on u[j], u[j+8]. */
static void normal_fill_16(float *d) {
  for (int j = 0; j < 8; j++) {
    float u1 = 1.0f - d[j];
    float u2 = d[j + 8];
    float radius = sqrtf(-2.0f * logf(u1));
    float theta = 2.0f * (float)M_PI * u2;
    d[j] = radius * cosf(theta);
    d[j + 8] = radius * sinf(theta);
  }
}

void rng_randn(torch_rng *g, float *out, size_t n) {
  if (n < 16) {
    /* torch's serial path: normal_distribution<double> with 53-bit uniforms from two 32-bit
     * outputs, Box–Muller in double, the sine half cached for the next value */
    int have_cached = 0;
    double cached = 0;
    for (size_t i = 0; i < n; i++) {
      if (have_cached) {
        out[i] = (float)cached;
        have_cached = 0;
        continue;
      }
      double u[2];
      for (int k = 0; k < 2; k++) {
        uint64_t hi = rng_u32(g), lo = rng_u32(g);
        u[k] = (double)(((hi << 32) | lo) & ((1ULL << 53) - 1)) * 0x1p-53;
      }
      double r = sqrt(-2.0 * log1p(-u[1])), theta = 2.0 * M_PI * u[0];
      cached = r * sin(theta);
      have_cached = 1;
      out[i] = (float)(r * cos(theta));
    }
    return;
  }
  rng_rand(g, out, n);
  for (size_t i = 0; i + 16 <= n; i += 16) normal_fill_16(out + i);
  if (n % 16) {
    float *d = out + n - 16;
    rng_rand(g, d, 16);
    normal_fill_16(d);
  }
}
