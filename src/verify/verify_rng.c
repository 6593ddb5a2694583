#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/rng.h"
#include "sd/safetensors.h"
#include "verify/verify.h"

/* torch_rng: every "seed<N>.randn_<shape>" tensor with >= 16 values is regenerated from its seed.
 * Bit-exactness would need SLEEF's vector logf/sinf/cosf; glibc's are within 2 ulp (README §8). */
void verify_torch_rng(verify_ctx *v, const char *json_path, const char *stem) {
  char path[4096];
  snprintf(path, sizeof path, "%.*s.safetensors", (int)(strlen(json_path) - 5), json_path);
  st_file f;
  if (st_open(path, &f)) {
    verify_error(v, stem, a2i2a_last_error());
    return;
  }
  for (int i = 0; i < f.n; i++) {
    const st_tensor *t = &f.tensors[i];
    unsigned long long seed;
    char name[300];
    snprintf(name, sizeof name, "%s.%s", stem, t->name);
    char kind[32];
    if (sscanf(t->name, "seed%llu.%31[a-z_]", &seed, kind) != 2 || t->dtype != ST_F32) continue;
    /* "seq_second" is the second of two consecutive draws of the same shape from one generator */
    int second = !strcmp(kind, "seq_second_");
    if (strcmp(kind, "randn_") && strcmp(kind, "seq_first_") && !second) continue;
    float *ref = malloc(t->numel * sizeof(float)), *got = malloc(t->numel * sizeof(float));
    st_to_f32(t, ref);
    torch_rng g;
    rng_seed(&g, seed);
    rng_randn(&g, got, t->numel);
    if (second) rng_randn(&g, got, t->numel);
    verify_compare(v, name, got, ref, t->numel, 1e-5);
    free(ref);
    free(got);
  }
  st_close(&f);
}
