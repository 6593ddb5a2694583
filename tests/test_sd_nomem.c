/* Out of memory inside the networks: with the calling thread's kernel scratch refused
 * (kernels_refuse_scratch after a2i2a_release_scratch), the UNet, the VAE (encode and decode)
 * and the text encoder of tiny-sd1 return A2I2A_ERR_NOMEM with a one-line reason instead of
 * aborting, and the next call, scratch allowed again, gives exactly the result of a call made
 * before the failure. */
#include "check.h"
#include "sd/clip.h"
#include "sd/kernels.h"
#include "sd/model.h"
#include "sd/unet.h"
#include "sd/vae.h"

enum { NET_UNET, NET_VAE_ENCODE, NET_VAE_DECODE, NET_CLIP, NET_N };
static const char *net_names[NET_N] = {"unet_forward", "vae_encode", "vae_decode", "clip_encode"};

enum { LH = 8, LW = 8, IH = 64, IW = 64 }; /* latent and image sizes */

typedef struct {
  unet *u;
  vae *v;
  clip_text *c;
  float *latent, *image, *ctx, *t;
  int ids[CLIP_CTX];
} nets;

/* One call of the network; out receives its result (n floats). */
static a2i2a_status run(nets *n, int which, float *out) {
  switch (which) {
  case NET_UNET: return unet_forward_batch(n->u, 2, n->latent, LH, LW, n->t, n->ctx, CLIP_CTX, out);
  case NET_VAE_ENCODE: return vae_encode(n->v, n->image, IH, IW, out, out + 4 * LH * LW);
  case NET_VAE_DECODE: return vae_decode(n->v, n->latent, LH, LW, out);
  default: return clip_encode(n->c, n->ids, 0, out);
  }
}

int main(void) {
  sd_model m;
  nets n = {0};
  if (sd_model_open(fixture("sd/tiny-sd1"), &m)) {
    CHECK(0, "open tiny-sd1: %s", a2i2a_last_error());
    return check_done();
  }
  CHECK(unet_load(&n.u, &m) == A2I2A_OK && vae_load(&n.v, &m) == A2I2A_OK && clip_load(&n.c, &m) == A2I2A_OK,
        "load: %s", a2i2a_last_error());
  if (!n.u || !n.v || !n.c) return check_done();
  int dim = unet_context_dim(n.u);
  CHECK(clip_hidden_size(n.c) == dim, "context %d, text encoder %d", dim, clip_hidden_size(n.c));
  size_t nout = (size_t)CLIP_CTX * dim * 2 + 3 * IH * IW; /* the largest result */
  n.latent = malloc(sizeof(float) * 2 * 4 * LH * LW);
  n.image = malloc(sizeof(float) * 3 * IH * IW);
  n.ctx = malloc(sizeof(float) * 2 * CLIP_CTX * dim);
  float t[2] = {500, 981};
  n.t = t;
  uint32_t r = 12345;
  for (int i = 0; i < 2 * 4 * LH * LW; i++) n.latent[i] = (float)((r = r * 1664525u + 1013904223u) >> 8) / (1 << 24) - 0.5f;
  for (int i = 0; i < 3 * IH * IW; i++) n.image[i] = (float)((r = r * 1664525u + 1013904223u) >> 8) / (1 << 23) - 1;
  for (int i = 0; i < 2 * CLIP_CTX * dim; i++) n.ctx[i] = (float)((r = r * 1664525u + 1013904223u) >> 8) / (1 << 24) - 0.5f;
  for (int i = 0; i < CLIP_CTX; i++) n.ids[i] = i == 0 ? 49406 : i < 5 ? 320 + i : 49407;
  float *want = calloc(nout, sizeof(float)), *got = calloc(nout, sizeof(float));

  for (int k = 0; k < NET_N; k++) {
    memset(want, 0, nout * sizeof(float));
    a2i2a_status st = run(&n, k, want);
    CHECK(st == A2I2A_OK, "%s: %s", net_names[k], a2i2a_last_error());
    a2i2a_release_scratch();
    kernels_refuse_scratch(1);
    st = run(&n, k, got);
    kernels_refuse_scratch(0);
    CHECK(st == A2I2A_ERR_NOMEM && strstr(a2i2a_last_error(), "out of memory: kernel scratch of ") &&
              !strchr(a2i2a_last_error(), '\n'),
          "%s with the scratch refused: status %d, '%s'", net_names[k], st, a2i2a_last_error());
    memset(got, 0, nout * sizeof(float));
    st = run(&n, k, got);
    CHECK(st == A2I2A_OK && !memcmp(got, want, nout * sizeof(float)), "%s after the failure: status %d, %s",
          net_names[k], st, st ? a2i2a_last_error() : "a different result");
  }
  /* the handles' own buffers after a failure are freed as after a success */
  a2i2a_release_scratch();
  kernels_refuse_scratch(1);
  CHECK(run(&n, NET_UNET, got) == A2I2A_ERR_NOMEM, "unet with the scratch refused");
  kernels_refuse_scratch(0);
  free(want), free(got), free(n.latent), free(n.image), free(n.ctx);
  unet_free(n.u);
  vae_free(n.v);
  clip_free(n.c);
  sd_model_close(&m);
  a2i2a_release_scratch();
  return check_done();
}
