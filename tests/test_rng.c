/* The generator against PyTorch's: README (seed) §5.2's first outputs, and torch_rng's randn. */
#include <math.h>

#include "check.h"
#include "common/rng.h"
#include "sd/safetensors.h"

int main(void) {
  torch_rng g;
  rng_seed(&g, 0);
  const uint32_t first[4] = {2357136044u, 2546248239u, 3071714933u, 3626093760u};
  for (int i = 0; i < 4; i++) {
    uint32_t v = rng_u32(&g);
    CHECK(v == first[i], "seed 0 output %d: %u, expected %u", i, v, first[i]);
  }
  rng_seed(&g, 0);
  const float angles[4] = {0.49625659f, 0.76822180f, 0.08847743f, 0.13203049f};
  for (int i = 0; i < 4; i++) {
    float u = rng_uniform(&g);
    CHECK(fabsf(u - angles[i]) < 1e-7f, "seed 0 uniform %d: %.8f, expected %.8f", i, u, angles[i]);
  }

  st_file f;
  a2i2a_status st = st_open(fixture("sd/golden/torch_rng.safetensors"), &f);
  CHECK(st == A2I2A_OK, "open torch_rng: %s", a2i2a_last_error());
  if (!st) {
    int cases = 0;
    for (int i = 0; i < f.n; i++) {
      const st_tensor *t = &f.tensors[i];
      unsigned long long seed;
      char rest[64];
      /* names like "seed_<N>.randn_..." or "randn_seed<N>..." vary: find the seed digits */
      const char *p = strstr(t->name, "seed");
      if (!p || t->dtype != ST_F32 || t->numel < 16) continue;
      p += 4;
      while (*p && (*p < '0' || *p > '9')) p++;
      if (sscanf(p, "%llu%63s", &seed, rest) < 1) continue;
      if (strstr(t->name, "rand") == NULL || strstr(t->name, "randn") == NULL) continue;
      float *ref = malloc(t->numel * 4), *got = malloc(t->numel * 4);
      st_to_f32(t, ref);
      rng_seed(&g, seed);
      rng_randn(&g, got, t->numel);
      double maxrel = 0;
      for (size_t j = 0; j < t->numel; j++) {
        double d = fabs((double)got[j] - ref[j]) / fmax(1.0, fabs(ref[j]));
        if (d > maxrel) maxrel = d;
      }
      CHECK(maxrel < 1e-5, "%s: max relative difference %.3g", t->name, maxrel);
      cases++;
      free(ref);
      free(got);
    }
    CHECK(cases > 0, "no randn cases found in torch_rng");
    st_close(&f);
  }
  return check_done();
}
