/* Long inputs for styles with a fixed duration per image: split into overlapping clips, and
 * stitch the clips' sounds back with a linear crossfade over each overlap. */
#include <math.h>
#include <string.h>

#include "chain/chain.h"

int64_t chain_clip_count(int64_t total, int64_t len, int64_t overlap) {
  if (len <= overlap || overlap < 0) return 0;
  int64_t hop = len - overlap;
  if (total <= len) return 1;
  return 1 + (total - len + hop - 1) / hop; /* the last clip reaches total */
}

void chain_stitch(const float *const *clips, const int64_t *lens, int nclips, int64_t hop, int64_t overlap,
                  int64_t total, float *out) {
  memset(out, 0, (size_t)total * sizeof *out);
  for (int k = 0; k < nclips; k++) {
    int64_t start = (int64_t)k * hop;
    /* clip k fades in over its first `overlap` samples (not the first clip) and fades out over
     * [hop, hop + overlap) (not the last clip): fade-in weight (i + 0.5)/overlap and the
     * previous clip's fade-out 1 − that sum to one */
    int64_t end = k + 1 < nclips ? hop + overlap : lens[k];
    if (end > lens[k]) end = lens[k];
    for (int64_t i = 0; i < end && start + i < total; i++) {
      double w = 1.0;
      if (k > 0 && i < overlap) w = (i + 0.5) / (double)overlap;
      if (k + 1 < nclips && i >= hop) w = 1.0 - (i - hop + 0.5) / (double)overlap;
      out[start + i] += (float)(w * clips[k][i]);
    }
  }
}

double chain_travel_alpha(int k, int n, int loop) {
  if (loop) return n > 0 ? 1 - fabs(1 - 2.0 * k / n) : 0;
  return n > 1 ? (double)k / (n - 1) : 0;
}
