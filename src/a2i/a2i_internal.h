/* Helpers shared by the a2i styles (not part of any public interface). */
#ifndef A2I2A_A2I_INTERNAL_H
#define A2I2A_A2I_INTERNAL_H

#include "a2i/styles.h"

/* Writes p as the "a2i2a" JSON text chunk into meta. */
a2i2a_status a2i_meta_put(png_meta *meta, const a2i_style_params *p);
/* a resampled to rate (a copy if it already has it). */
a2i2a_status a2i_at_rate(const audio_buf *a, double rate, audio_buf *out);
/* A copy of channel samples x[0..n) zero-padded to at least min_n samples (*out_n). */
float *a2i_padded(const float *x, int64_t n, int64_t min_n, int64_t *out_n);

/* A mel filter bank as one run of non-zero weights per band. */
typedef struct {
  int n_mels;
  int *k0, *k1;
  float **w;
  float *store;
} a2i_melbank;
a2i2a_status a2i_melbank_new(a2i_melbank *b, int n_freqs, double fmin, double fmax, int n_mels, double sr,
                             mel_scale scale, int norm);
void a2i_melbank_free(a2i_melbank *b);
/* out[m·out_stride + t] = Σ_k fb[k][m]·spec[k·nt + t] for t < nt (nt ≤ 256). */
void a2i_melbank_apply(const a2i_melbank *b, const float *spec, int nt, float *out, int64_t out_stride);

#endif
