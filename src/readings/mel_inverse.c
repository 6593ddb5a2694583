/* Undoing a mel filter bank: given mel = fbᵀ·s (s ≥ 0 a linear spectrum, one frame per
 * column), find s. There are far more bins than bands, so we look for s in the span of the
 * filters, s = fb·z with z ≥ 0 (s is then a non-negative, piecewise-linear spectrum), and
 * choose z by minimising ½‖fb·z − s‖², which needs only mel: ½zᵀGz − melᵀz + const with
 * G = fbᵀfb. G is small (bands × bands) and banded (neighbouring triangles overlap), so each
 * frame is a tiny non-negative quadratic programme, solved by projected Gauss–Seidel
 * (coordinate descent with clamping at zero, which converges for positive semi-definite G),
 * started from the flat-spectrum guess z = mel / (G·1). Frames are independent, so the result
 * does not depend on the number of threads. No gradient descent on the full spectrum, and no
 * randomness. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "readings/readings.h"

a2i2a_status mel_invert(const float *fb, int n_freqs, int n_mels, const float *mel, int64_t frames, int sweeps,
                        float *spec) {
  if (sweeps <= 0) sweeps = 200;
  /* the non-zero run of each bin's row of fb, and of each band's row of G */
  int *k_lo = malloc(sizeof(int) * n_freqs * 2), *g_lo = malloc(sizeof(int) * n_mels * 2);
  double *G = calloc((size_t)n_mels * n_mels, sizeof(double));
  if (!k_lo || !g_lo || !G) {
    free(k_lo), free(g_lo), free(G);
    return fail(A2I2A_ERR_NOMEM, "mel inversion: out of memory for %d bands", n_mels);
  }
  int *k_hi = k_lo + n_freqs, *g_hi = g_lo + n_mels;
  for (int k = 0; k < n_freqs; k++) {
    const float *row = fb + (size_t)k * n_mels;
    int lo = n_mels, hi = -1;
    for (int m = 0; m < n_mels; m++)
      if (row[m] != 0) lo = m < lo ? m : lo, hi = m;
    k_lo[k] = lo, k_hi[k] = hi;
    for (int a = lo; a <= hi; a++)
      for (int b = lo; b <= hi; b++) G[(size_t)a * n_mels + b] += (double)row[a] * row[b];
  }
  for (int m = 0; m < n_mels; m++) {
    int lo = n_mels, hi = -1;
    for (int j = 0; j < n_mels; j++)
      if (G[(size_t)m * n_mels + j] != 0) lo = j < lo ? j : lo, hi = j;
    g_lo[m] = lo, g_hi[m] = hi;
  }
  const int nt = a2i2a_get_threads() > 0 ? a2i2a_get_threads() : 1;
  double *rowsum = calloc(n_mels, sizeof(double));
  if (!rowsum) return free(k_lo), free(g_lo), free(G), fail(A2I2A_ERR_NOMEM, "mel inversion: out of memory");
  for (int m = 0; m < n_mels; m++)
    for (int j = g_lo[m]; j <= g_hi[m]; j++) rowsum[m] += G[(size_t)m * n_mels + j];
#pragma omp parallel num_threads(nt)
  {
    double *z = calloc(n_mels, sizeof(double)), *b = malloc(sizeof(double) * n_mels);
#pragma omp for schedule(static)
    for (int64_t t = 0; t < frames; t++) {
      double bmax = 0;
      for (int m = 0; m < n_mels; m++) b[m] = mel[(size_t)m * frames + t], bmax = fmax(bmax, fabs(b[m]));
      for (int m = 0; m < n_mels; m++) z[m] = rowsum[m] > 0 && b[m] > 0 ? b[m] / rowsum[m] : 0;
      if (bmax > 0) {
        for (int s = 0; s < sweeps; s++) {
          double change = 0, zmax = 0;
          for (int m = 0; m < n_mels; m++) {
            const double *Gm = G + (size_t)m * n_mels, d = Gm[m];
            if (d <= 0) {
              z[m] = 0;
              continue;
            }
            double r = b[m];
            for (int j = g_lo[m]; j < m; j++) r -= Gm[j] * z[j];
            for (int j = m + 1; j <= g_hi[m]; j++) r -= Gm[j] * z[j];
            double v = r / d;
            if (v < 0) v = 0;
            /* comparisons, not fmax: GCC calls libm's for it, a tenth of the time here */
            const double step = fabs(v - z[m]);
            if (step > change) change = step;
            if (v > zmax) zmax = v;
            z[m] = v;
          }
          if (change <= 1e-7 * zmax) break;
        }
      }
      for (int k = 0; k < n_freqs; k++) {
        double v = 0;
        for (int m = k_lo[k]; m <= k_hi[k]; m++) v += fb[(size_t)k * n_mels + m] * z[m];
        spec[(size_t)k * frames + t] = (float)v;
      }
    }
    free(z), free(b);
  }
  free(k_lo), free(g_lo), free(G), free(rowsum);
  return A2I2A_OK;
}
