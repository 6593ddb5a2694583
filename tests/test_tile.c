/* Tiling (a2i2a_i2i_params.tile): with circular padding the painting wraps around, so its last
 * and first columns (rows) join like any two neighbouring ones.
 *
 * The statistic: the seam step is the mean over rows and channels of |p[r][W-1] - p[r][0]|;
 * the ordinary steps are the same mean for each pair of neighbouring columns (c, c+1); their
 * ratio to the median ordinary step, averaged over SEEDS seeds, must be at most 1.2 (for rows
 * alike). The input is a picture that itself wraps around (whole periods across it), so only
 * the painting can make a seam: the same runs without tiling, whose zero padding marks the
 * edges, must exceed that bound (the test can fail). On the tiny SD 1.x model of examples/
 * (random weights, whose paintings are noisy: one seed alone varies by +-0.2). */
#include "check.h"

#include <math.h>

#include "a2i2a.h"

enum { W = 128, H = 64, SEEDS = 6 };
#define BOUND 1.2

/* Mean |difference| between column a and column b (axis 0) or row a and row b (axis 1). */
static double step(const uint8_t *p, int w, int h, int axis, int a, int b) {
  double s = 0;
  int n = axis == 0 ? h : w;
  for (int i = 0; i < n; i++)
    for (int ch = 0; ch < 3; ch++) {
      size_t pa = axis == 0 ? ((size_t)i * w + a) * 3 + ch : ((size_t)a * w + i) * 3 + ch;
      size_t pb = axis == 0 ? ((size_t)i * w + b) * 3 + ch : ((size_t)b * w + i) * 3 + ch;
      s += fabs((double)p[pa] - p[pb]);
    }
  return s / (3.0 * n);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The seam step along axis over the median of the ordinary steps. */
static double seam_ratio(const uint8_t *p, int w, int h, int axis) {
  int n = axis == 0 ? w : h;
  double *steps = malloc((size_t)(n - 1) * sizeof(double));
  for (int i = 0; i + 1 < n; i++) steps[i] = step(p, w, h, axis, i, i + 1);
  qsort(steps, (size_t)(n - 1), sizeof(double), cmp_double);
  double median = steps[(n - 1) / 2], seam = step(p, w, h, axis, n - 1, 0);
  free(steps);
  return seam / median;
}

static uint8_t *paint(a2i2a_model *m, const uint8_t *rgb, const char *tile, uint64_t seed, int *ow, int *oh) {
  a2i2a_i2i_params p = a2i2a_i2i_default_params();
  p.steps = 2;
  p.strength = 0.75;
  p.seed = seed;
  p.tile = tile;
  uint8_t *out = NULL;
  a2i2a_status st = a2i2a_i2i(m, rgb, W, H, &p, &out, ow, oh, NULL);
  CHECK(st == A2I2A_OK, "i2i tile %s: %s", tile ? tile : "none", a2i2a_last_error());
  return out;
}

int main(void) {
  a2i2a_model *m = NULL;
  if (a2i2a_model_open("examples/tiny-sd1", &m) != A2I2A_OK) {
    CHECK(0, "tiny model: %s", a2i2a_last_error());
    return check_done();
  }
  uint8_t *rgb = malloc((size_t)W * H * 3);
  const double pi = 3.14159265358979323846;
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      for (int c = 0; c < 3; c++) {
        double v = 128 + 60 * sin(2 * pi * (x / (double)W * (c + 1) + y / (double)H)) +
                   40 * cos(2 * pi * (2 * y / (double)H + c / 3.0));
        rgb[((size_t)y * W + x) * 3 + c] = (uint8_t)lround(v);
      }
  CHECK(seam_ratio(rgb, W, H, 0) <= BOUND && seam_ratio(rgb, W, H, 1) <= BOUND, "the input wraps around both ways");

  /* mean ratios over the seeds: [untiled, x, y, xy][axis] */
  static const char *const tiles[4] = {NULL, "x", "y", "xy"};
  double ratio[4][2] = {{0}};
  int w = 0, h = 0, painted = 1;
  for (uint64_t seed = 1; seed <= SEEDS && painted; seed++) {
    uint8_t *out[4];
    for (int t = 0; t < 4; t++) {
      out[t] = paint(m, rgb, tiles[t], seed, &w, &h);
      painted &= out[t] != NULL;
      for (int axis = 0; axis < 2 && out[t]; axis++) ratio[t][axis] += seam_ratio(out[t], w, h, axis) / SEEDS;
    }
    if (painted && seed == 1) CHECK(memcmp(out[0], out[1], (size_t)w * h * 3) != 0, "tiling changes the painting");
    for (int t = 0; t < 4; t++) free(out[t]);
  }
  if (painted) {
    printf("seam step / median neighbouring step, mean of %d seeds: untiled x %.2f y %.2f; --tile x: x %.2f; "
           "y: y %.2f; xy: x %.2f y %.2f\n",
           SEEDS, ratio[0][0], ratio[0][1], ratio[1][0], ratio[2][1], ratio[3][0], ratio[3][1]);
    CHECK(ratio[1][0] <= BOUND, "--tile x: the last and first columns join like neighbours (%.2f)", ratio[1][0]);
    CHECK(ratio[2][1] <= BOUND, "--tile y: the last and first rows join like neighbours (%.2f)", ratio[2][1]);
    CHECK(ratio[3][0] <= BOUND && ratio[3][1] <= BOUND, "--tile xy: both (%.2f, %.2f)", ratio[3][0], ratio[3][1]);
    CHECK(ratio[0][0] > BOUND && ratio[0][1] > BOUND, "untiled: a seam both ways (%.2f, %.2f): the bound can fail",
          ratio[0][0], ratio[0][1]);
  }
  /* an unknown tiling is refused before any work */
  a2i2a_i2i_params p = a2i2a_i2i_default_params();
  p.tile = "z";
  uint8_t *out = NULL;
  CHECK(a2i2a_i2i(m, rgb, W, H, &p, &out, &w, &h, NULL) == A2I2A_ERR_PARAM && !out &&
            strstr(a2i2a_last_error(), "'z'"),
        "tile z refused: %s", a2i2a_last_error());
  free(rgb);
  a2i2a_model_close(m);
  return check_done();
}
