/* Loudness as EBU R128 measures it (ITU-R BS.1770-4, through Debian's libebur128): the gated
 * integrated loudness and the true peak of a sound, and a gain that brings a sound to a
 * loudness under a true-peak ceiling. Plain functions over an audio_buf: anything that holds a
 * sound can measure it the same way.
 *
 * Channels: one channel is measured as dual mono, the same signal on two loudspeakers (+3 dB,
 * EBU Tech 3344: what a mono file sounds like played on both sides), so that a mono and a
 * stereo sound at the same LUFS sound equally loud; a 1 kHz sine at −20 dBFS in one channel
 * measures −20.0 LUFS, and in both channels of a stereo file at −23 dBFS each −23.0 LUFS (EBU
 * Tech 3341, case 1). Two channels are left and right; more follow libebur128's default layout
 * (L, R, C, LFE unweighted, Ls, Rs). */
#ifndef A2I2A_AUDIO_LOUDNESS_H
#define A2I2A_AUDIO_LOUDNESS_H

#include <math.h>

#include "audio/audio.h"

/* What loudness_integrated gives for a sound with no gated 400 ms block above −70 LUFS:
 * silence, or a sound shorter than 0.4 s. */
#define LOUDNESS_NONE (-HUGE_VAL)

/* Integrated loudness in LUFS (LOUDNESS_NONE when there is none). */
a2i2a_status loudness_integrated(const audio_buf *a, double *lufs);
/* The true peak in dBTP: the largest sample of the 4× oversampled sound (2× at 96 kHz and
 * above), over all channels; LOUDNESS_NONE for digital silence. */
a2i2a_status loudness_true_peak(const audio_buf *a, double *dbtp);
/* Both, in one pass over the samples. */
a2i2a_status loudness_measure(const audio_buf *a, double *lufs, double *dbtp);

/* What loudness_normalise measured and did. */
typedef struct {
  double lufs, dbtp; /* after the gain (LOUDNESS_NONE: not measurable, the sound unchanged) */
  double gain_db;    /* the gain applied */
  int limited;       /* the true-peak ceiling kept the sound below the target loudness */
} loudness_result;

/* Multiplies a by the gain that brings its integrated loudness to target LUFS, or less if its
 * true peak would otherwise exceed ceiling dBTP. A sound without a measurable loudness (silent,
 * or shorter than 0.4 s) is left as it is. */
a2i2a_status loudness_normalise(audio_buf *a, double target, double ceiling, loudness_result *r);

#endif
