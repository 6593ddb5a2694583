/* Travel between two endpoints (a2i2a_i2i_params.alpha, docs/travel.md), by its properties:
 * slerp keeps the norm of equal-norm endpoints within 1e-6 relative, equals lerp for identical
 * endpoints and gives the endpoints themselves at 0 and 1; the alpha schedule of a loop closes
 * exactly (the noise of frame N is frame 0's, bit for bit); and on the tiny SD 1.x model,
 * alpha 0 and alpha 1 reproduce the plain runs of each endpoint byte for byte. */
#include "check.h"

#include <math.h>

#include "a2i2a.h"
#include "chain/chain.h"
#include "common/rng.h"
#include "sd/scheduler.h"

static double norm(const float *x, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i++) s += (double)x[i] * x[i];
  return sqrt(s);
}

static void test_slerp(void) {
  enum { N = 4 * 64 * 48 }; /* a latent's size */
  static float a[N], b[N], out[N];
  torch_rng g;
  rng_seed(&g, 1);
  rng_randn(&g, a, N);
  rng_seed(&g, 2);
  rng_randn(&g, b, N);
  /* b scaled to a's norm: slerp stays on the sphere */
  double na = norm(a, N), nb = norm(b, N), worst = 0;
  for (size_t i = 0; i < N; i++) b[i] = (float)(b[i] * (na / nb));
  na = norm(a, N), nb = norm(b, N);
  for (int k = 1; k < 10; k++) {
    sd_slerp(a, b, out, N, k / 10.0);
    double r = fabs(norm(out, N) / na - 1);
    if (r > worst) worst = r;
  }
  CHECK(fabs(nb / na - 1) < 1e-6 && worst <= 1e-6, "slerp keeps the norm within 1e-6 relative: %.2g", worst);
  sd_slerp(a, b, out, N, 0);
  CHECK(!memcmp(out, a, sizeof a), "slerp at 0 is a, bit for bit");
  sd_slerp(a, b, out, N, 1);
  CHECK(!memcmp(out, b, sizeof b), "slerp at 1 is b, bit for bit");
  /* halfway between two nearly orthogonal tensors: both weights sin(θ/2)/sin θ */
  sd_slerp(a, b, out, N, 0.5);
  double dot = 0;
  for (size_t i = 0; i < N; i++) dot += (double)a[i] * b[i];
  double theta = acos(dot / (na * nb)), w = sin(theta / 2) / sin(theta), err = 0;
  for (size_t i = 0; i < N; i++) err = fmax(err, fabs(out[i] - w * (a[i] + b[i])));
  CHECK(err < 1e-5, "slerp at 0.5 is sin(θ/2)/sin θ·(a + b): %.2g", err);
  /* identical endpoints: the linear interpolation, which is a itself */
  int same = 1;
  for (int k = 1; k < 10; k++) {
    double t = k / 10.0;
    sd_slerp(a, a, out, N, t);
    for (size_t i = 0; i < N; i++) same &= out[i] == (float)((1 - t) * a[i] + t * a[i]) && fabs(out[i] - a[i]) <= 1e-6 * fabs(a[i]) + 1e-12;
  }
  CHECK(same, "slerp of identical endpoints is their lerp (and the endpoint)");
  /* the noise source: one draw at alpha is the slerp of the two generators' draws */
  torch_rng ga, gb;
  rng_seed(&ga, 1), rng_seed(&gb, 2);
  sd_noise ns = {.rng = &ga, .to_rng = &gb, .alpha = 0.3};
  rng_seed(&g, 2);
  rng_randn(&g, b, N); /* b unscaled again */
  sd_slerp(a, b, b, N, 0.3);
  CHECK(sd_noise_draw(&ns, out, N) == A2I2A_OK && !memcmp(out, b, sizeof b), "a travelled draw is the slerp");
}

/* The loop: alpha goes 0 → 1 → 0 over N frames; frame N (the one after the last) is frame 0. */
static void test_schedule(void) {
  for (int n = 2; n <= 9; n++) {
    CHECK(chain_travel_alpha(0, n, 0) == 0 && chain_travel_alpha(n - 1, n, 0) == 1, "travel: 0 .. 1 over %d", n);
    int rising = 1;
    for (int k = 1; k < n; k++) rising &= chain_travel_alpha(k, n, 0) > chain_travel_alpha(k - 1, n, 0);
    CHECK(rising, "travel over %d frames rises", n);
    CHECK(chain_travel_alpha(n, n, 1) == chain_travel_alpha(0, n, 1) && chain_travel_alpha(0, n, 1) == 0,
          "the loop over %d frames closes", n);
    double peak = 0;
    for (int k = 0; k < n; k++) peak = fmax(peak, chain_travel_alpha(k, n, 1));
    CHECK(n % 2 || peak == 1, "an even loop of %d frames reaches the other endpoint", n);
  }
  /* the noise of the frame after the last equals the first's, bit for bit */
  enum { N = 1000 };
  static float first[N], after[N];
  torch_rng ga, gb;
  int n = 6;
  rng_seed(&ga, 11), rng_seed(&gb, 12);
  sd_noise a = {.rng = &ga, .to_rng = &gb, .alpha = chain_travel_alpha(0, n, 1)};
  sd_noise_draw(&a, first, N);
  rng_seed(&ga, 11), rng_seed(&gb, 12);
  sd_noise b = {.rng = &ga, .to_rng = &gb, .alpha = chain_travel_alpha(n, n, 1)};
  sd_noise_draw(&b, after, N);
  CHECK(!memcmp(first, after, sizeof first), "the loop's noise closes exactly");
}

static uint8_t *paint(a2i2a_model *m, const uint8_t *rgb, const a2i2a_i2i_params *p) {
  uint8_t *out = NULL;
  int w, h;
  CHECK(a2i2a_i2i(m, rgb, 64, 48, p, &out, &w, &h, NULL) == A2I2A_OK, "i2i: %s", a2i2a_last_error());
  return out;
}

static void test_endpoints(void) {
  a2i2a_model *m = NULL;
  if (a2i2a_model_open("examples/tiny-sd1", &m) != A2I2A_OK) {
    CHECK(0, "tiny model: %s", a2i2a_last_error());
    return;
  }
  uint8_t rgb[64 * 48 * 3];
  for (size_t i = 0; i < sizeof rgb; i++) rgb[i] = (uint8_t)(i * 37 % 251);
  a2i2a_i2i_params a = a2i2a_i2i_default_params(), b = a, t;
  a.steps = b.steps = 3;
  a.sampler = b.sampler = "euler-a"; /* draws noise at every step: each draw travels */
  a.seed = 5, a.prompt = "warm amber haze", a.negative_prompt = "grey", a.strength = 0.7, a.guidance = 3;
  b.seed = 9, b.prompt = "cold blue lines", b.negative_prompt = "red", b.strength = 0.9, b.guidance = 5;
  t = a;
  t.to_seed = b.seed, t.to_prompt = b.prompt, t.to_negative_prompt = b.negative_prompt;
  t.to_strength = b.strength, t.to_guidance = b.guidance;
  size_t n = sizeof rgb;
  uint8_t *pa = paint(m, rgb, &a), *pb = paint(m, rgb, &b);
  t.alpha = 0;
  uint8_t *t0 = paint(m, rgb, &t);
  t.alpha = 1;
  uint8_t *t1 = paint(m, rgb, &t);
  t.alpha = 0.5;
  uint8_t *th = paint(m, rgb, &t);
  if (pa && pb && t0 && t1 && th) {
    CHECK(!memcmp(pa, t0, n), "alpha 0 is the plain run of the first endpoint, byte for byte");
    CHECK(!memcmp(pb, t1, n), "alpha 1 is the plain run of the second endpoint, byte for byte");
    CHECK(memcmp(th, pa, n) && memcmp(th, pb, n), "alpha 0.5 is neither");
  }
  free(pa), free(pb), free(t0), free(t1), free(th);
  a2i2a_model_close(m);
}

int main(void) {
  test_slerp();
  test_schedule();
  test_endpoints();
  return check_done();
}
