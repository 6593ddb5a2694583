/* The vocoder reading's cost, part by part: the image's magnitude spectrogram (the half of
 * `inverse` before Griffin-Lim), the vocoder's mel, the network, soxr back to the image's rate, and
 * the whole reading through the library (a2i2a_i2a_memory). Each is run RUNS times (default 5):
 * the minimum and the median wall time, in seconds (the machine is shared: the minimum is the
 * cost, the median how it went), and the minimum CPU time of the process, all threads together
 * (on a busy machine the wall time waits for other work, the CPU time much less).
 *   usage: bench_vocoder IMAGE VOCODER [RUNS] [THREADS]   (THREADS default 2) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "readings/readings.h"
#include "vocoder/vocoder.h"

typedef struct {
  double wall, cpu;
} stamp;

static stamp now(void) {
  struct timespec w, c;
  clock_gettime(CLOCK_MONOTONIC, &w);
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c);
  return (stamp){w.tv_sec + w.tv_nsec * 1e-9, c.tv_sec + c.tv_nsec * 1e-9};
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

enum { PARTS = 5, MAX_RUNS = 64 };
static const char *const part_names[PARTS] = {"spectrogram (inverse's half)", "vocoder mel", "network",
                                              "soxr to the image's rate", "whole reading (a2i2a_i2a_memory)"};

static int die(const char *what) {
  fprintf(stderr, "bench_vocoder: %s: %s\n", what, a2i2a_last_error());
  return 1;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s IMAGE VOCODER [RUNS] [THREADS]\n", argv[0]);
    return 2;
  }
  int runs = argc > 3 ? atoi(argv[3]) : 5, threads = argc > 4 ? atoi(argv[4]) : 2;
  if (runs < 1 || runs > MAX_RUNS) runs = 5;
  a2i2a_set_threads(threads);
  image_u8 img;
  png_meta meta;
  vocoder *v;
  if (image_read(argv[1], &img, &meta)) return die(argv[1]);
  if (vocoder_open(argv[2], &v)) return die(argv[2]);
  char desc[256];
  vocoder_describe(v, desc, sizeof desc);
  FILE *f = fopen(argv[1], "rb");
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  void *bytes = malloc((size_t)size);
  if (fread(bytes, 1, (size_t)size, f) != (size_t)size) return die("reading the image");
  fclose(f);
  a2i2a_i2a_params p = a2i2a_i2a_default_params();
  p.vocoder = argv[2];
  reading_input in = {&img, &meta, argv[1], p, NULL};
  const vocoder_features *vf = vocoder_features_of(v);
  double t[PARTS][MAX_RUNS], cpu[PARTS][MAX_RUNS], seconds = 0;
  int frames = 0;
  for (int r = 0; r < runs; r++) {
    image_spectrogram s;
    stamp t0 = now();
    if (image_spectrogram_estimate(&in, &s)) return die("spectrogram");
    stamp t1 = now();
    frames = vocoder_frames_for(vf, llround((double)s.samples * vf->rate / s.rate));
    float *mel = malloc(sizeof(float) * (size_t)s.channels * vf->n_mels * frames);
    if (vocoder_mel_of_image(&s, vf, frames, mel)) return die("mel");
    stamp t2 = now();
    audio_buf made, back;
    if (audio_alloc(&made, 1, vocoder_samples(vf, frames), vf->rate)) return die("alloc");
    stamp t3 = now(), t4 = t3;
    for (int c = 0; c < s.channels; c++) {
      if (vocoder_run(v, mel + (size_t)c * vf->n_mels * frames, frames, made.x, NULL, NULL, NULL)) return die("network");
      t4 = now();
      if (audio_resample(&made, s.rate, &back)) return die("soxr");
      audio_free(&back);
    }
    stamp t5 = now();
    a2i2a_sound sound;
    if (a2i2a_i2a_memory(bytes, (size_t)size, argv[1], "vocoder", &p, &sound, NULL)) return die("reading");
    stamp t6 = now();
    seconds = sound.frames / sound.rate;
    a2i2a_free(sound.samples);
    const stamp from[PARTS] = {t0, t1, t3, t4, t5}, to[PARTS] = {t1, t2, t4, t5, t6};
    for (int k = 0; k < PARTS; k++) t[k][r] = to[k].wall - from[k].wall, cpu[k][r] = to[k].cpu - from[k].cpu;
    audio_free(&made);
    free(mel);
    image_spectrogram_free(&s);
  }
  printf("%s: %.2f s of sound, %d frames of %s, %d threads, %d runs\n", argv[1], seconds, frames, desc, threads, runs);
  for (int k = 0; k < PARTS; k++) {
    qsort(t[k], (size_t)runs, sizeof(double), cmp);
    qsort(cpu[k], (size_t)runs, sizeof(double), cmp);
    printf("  %-34s min %7.3f s   median %7.3f s   CPU min %7.3f s\n", part_names[k], t[k][0], t[k][runs / 2],
           cpu[k][0]);
  }
  vocoder_close(v);
  image_free(&img);
  png_meta_free(&meta);
  free(bytes);
  return 0;
}
