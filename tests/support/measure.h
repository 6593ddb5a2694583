/* How close a reconstruction is to the original sound: serves the round-trip tests and
 * bench/bench_roundtrip.c (bench/RESULTS.md), not the library. */
#ifndef A2I2A_TEST_MEASURE_H
#define A2I2A_TEST_MEASURE_H

#include "a2i2a.h"
#include "audio/audio.h"

/* Compares a reconstruction with the original sound: both mixed to mono at the
 * reconstruction's rate, STFT magnitudes (n_fft 2048, hop 512) over the common length; the
 * best single gain g is applied to the reconstruction (gain_db = −20·log10 g: how much louder
 * it came out); sc = ‖X − gY‖/‖X‖; lsd = mean over frames of the RMS dB difference per bin,
 * with a floor 80 dB below the original's loudest cell. */
a2i2a_status measure_reconstruction(const audio_buf *orig, const audio_buf *recon, double *sc, double *lsd,
                                    double *gain_db);

/* 10·log10(peak² / mean squared error) of x against ref (n values), the peak being ref's
 * max − min; infinite when they are equal (the tiled VAE's tests and bench). */
double measure_psnr(const float *x, const float *ref, size_t n);

#endif
