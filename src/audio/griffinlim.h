/* Griffin-Lim phase reconstruction as torchaudio 0.13.1's F.griffinlim ("fast" Griffin-Lim
 * with momentum, Perraudin et al. 2013), on top of stft_forward / stft_inverse. */
#ifndef A2I2A_GRIFFINLIM_H
#define A2I2A_GRIFFINLIM_H

#include <stdint.h>
#include "a2i2a.h"
#include "common/rng.h"

typedef struct {
  int n_fft, hop, win_length; /* win_length 0 = n_fft; the Hann window is centred in n_fft */
  int iters;                  /* torchaudio's n_iter (32) */
  double momentum;            /* 0.99; the update uses momentum / (1 + momentum) */
  int rand_init;              /* 1: torch.rand angles (a point in the unit square) from rng */
  a2i2a_job *job;             /* polled between iterations (cancel); NULL = none */
} griffinlim_params;

griffinlim_params griffinlim_default_params(int n_fft, int hop);

/* mag: target magnitudes [bins][frames] with bins = n_fft/2 + 1. y receives hop·(frames − 1)
 * samples. rng is used only when p->rand_init (torch's complex64 rand: re, im per bin, in
 * [bin][frame] order). sc, if not NULL, receives the spectral convergence
 * ‖mag − |stft(y)|‖ / ‖mag‖ of the result. */
a2i2a_status griffinlim(const float *mag, int frames, const griffinlim_params *p, torch_rng *rng, float *y,
                        double *sc);

/* The memory (bytes) griffinlim takes for these frames, besides mag and y: three complex
 * double spectra, the frames in the time domain and the overlap-add buffers. */
double griffinlim_memory(int n_fft, int hop, int frames);

/* Spectral convergence of y against the target magnitudes (float64 sums). */
a2i2a_status griffinlim_sc(const float *mag, int frames, const griffinlim_params *p, const float *y, double *sc);

#endif
