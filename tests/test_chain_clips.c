/* Clip splitting and crossfade stitching: properties the issue states (length preserved,
 * a constant survives the crossfade, splitting then stitching gives the input back). */
#include <math.h>

#include "chain/chain.h"
#include "check.h"
#include "common/rng.h"

/* Splits x (total samples) into clips of len with overlap, zero-padding the last. */
static float **split(const float *x, int64_t total, int64_t len, int64_t overlap, int *n, int64_t **lens) {
  *n = (int)chain_clip_count(total, len, overlap);
  float **c = calloc((size_t)*n, sizeof *c);
  *lens = calloc((size_t)*n, sizeof **lens);
  for (int k = 0; k < *n; k++) {
    c[k] = calloc((size_t)len, sizeof **c);
    (*lens)[k] = len;
    for (int64_t i = 0; i < len && k * (len - overlap) + i < total; i++) c[k][i] = x[k * (len - overlap) + i];
  }
  return c;
}

static void free_clips(float **c, int n, int64_t *lens) {
  for (int k = 0; k < n; k++) free(c[k]);
  free(c);
  free(lens);
}

int main(void) {
  /* counts: hop 20, clips at 0, 20, 40, 60, 80 cover 100 samples */
  CHECK(chain_clip_count(100, 30, 10) == 5, "100/30/10: %lld", (long long)chain_clip_count(100, 30, 10));
  CHECK(chain_clip_count(30, 30, 10) == 1, "exactly one clip");
  CHECK(chain_clip_count(5, 30, 10) == 1, "short input: one clip");
  CHECK(chain_clip_count(31, 30, 10) == 2, "one sample more: two clips");
  CHECK(chain_clip_count(100, 10, 10) == 0, "overlap >= length is refused");
  /* Riffusion's defaults at 44.1 kHz: 5 s clips, 0.2 s overlap, a 60 s input */
  int64_t len = 220500, ov = 8820, total = 44100 * 60;
  int64_t n = chain_clip_count(total, len, ov);
  CHECK((n - 1) * (len - ov) < total - ov && (n - 1) * (len - ov) + len >= total, "clips cover 60 s: %lld", (long long)n);

  torch_rng g;
  rng_seed(&g, 7);
  const int64_t sizes[][3] = {{1000, 300, 50}, {1001, 300, 50}, {299, 300, 50}, {44100 * 7 + 13, 220500, 8820}, {5000, 100, 1}};
  for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
    int64_t T = sizes[s][0], L = sizes[s][1], O = sizes[s][2];
    float *x = malloc((size_t)T * sizeof *x), *y = malloc((size_t)T * sizeof *y);
    rng_rand(&g, x, (size_t)T);
    for (int64_t i = 0; i < T; i++) x[i] = 2 * x[i] - 1;
    int nc;
    int64_t *lens;
    float **c = split(x, T, L, O, &nc, &lens);
    chain_stitch((const float *const *)c, lens, nc, L - O, O, T, y);
    double err = 0;
    for (int64_t i = 0; i < T; i++) err = fmax(err, fabs(y[i] - x[i]));
    CHECK(err <= 1e-6, "split+stitch of %lld samples (clip %lld, overlap %lld) is not the identity: %g", (long long)T,
          (long long)L, (long long)O, err);
    free_clips(c, nc, lens);

    /* a constant signal stays constant, even when every clip is a different length's worth */
    for (int64_t i = 0; i < T; i++) x[i] = 0.25f;
    c = split(x, T, L, O, &nc, &lens);
    for (int k = 0; k < nc; k++)
      for (int64_t i = 0; i < L; i++) c[k][i] = 0.25f; /* the processed clips fill their padding */
    chain_stitch((const float *const *)c, lens, nc, L - O, O, T, y);
    err = 0;
    for (int64_t i = 0; i < T; i++) err = fmax(err, fabs(y[i] - 0.25));
    CHECK(err <= 1e-7, "constant through crossfade: max error %g", err);
    free_clips(c, nc, lens);
    free(x);
    free(y);
  }

  /* a crossfade from clip 0 = +1 to clip 1 = −1 falls monotonically through the overlap,
   * symmetric about its middle, and is exactly ±1 outside it */
  {
    float a[300], b[300], y[500];
    for (int i = 0; i < 300; i++) a[i] = 1, b[i] = -1;
    const float *c[2] = {a, b};
    int64_t lens[2] = {300, 300};
    chain_stitch(c, lens, 2, 200, 100, 500, y);
    int mono = 1;
    for (int i = 201; i < 300; i++) mono &= y[i] < y[i - 1];
    CHECK(mono, "crossfade not monotonic");
    CHECK(y[199] == 1 && y[300] == -1 && y[0] == 1 && y[499] == -1, "outside the overlap: %g %g", y[199], y[300]);
    CHECK(fabs(y[249] + y[250]) < 1e-6, "crossfade not symmetric: %g %g", y[249], y[250]);
  }
  /* clips longer than needed are cut at total; a short total is zero-filled past the clips */
  {
    float a[10] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, y[20];
    const float *c[1] = {a};
    int64_t lens[1] = {10};
    chain_stitch(c, lens, 1, 8, 2, 5, y);
    CHECK(y[4] == 1, "cut at total");
    chain_stitch(c, lens, 1, 8, 2, 20, y);
    CHECK(y[9] == 1 && y[10] == 0 && y[19] == 0, "zero past the clips");
  }
  return check_done();
}
