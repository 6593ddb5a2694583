/* Timings of the image module: Pillow-exact resizes and PNG write/read at the sizes the chain
 * uses. Usage: bench_image [repeats]  (single thread; prints the median thread CPU time of the repeats). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <time.h>
#include "image/image.h"

/* CPU time of this thread: the machine is shared, wall time mostly measures the others */
static double cpu_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void fill(image_u8 *im, int w, int h, int c) {
  image_alloc(im, w, h, c);
  uint32_t r = 1;
  for (size_t i = 0; i < (size_t)w * h * c; i++) {
    r = r * 1664525u + 1013904223u;
    im->px[i] = (uint8_t)((i % (size_t)(w * c)) / 3 + (r >> 29)); /* smooth with a little noise */
  }
}

#define TIME(label, reps, body)                                      \
  do {                                                               \
    double t[64];                                                    \
    for (int k = 0; k < reps; k++) {                                 \
      double t0 = cpu_seconds();                                     \
      body;                                                          \
      t[k] = cpu_seconds() - t0;                                     \
    }                                                                \
    qsort(t, reps, sizeof t[0], cmp_d);                              \
    printf("%-52s %8.2f ms CPU\n", label, 1e3 * t[reps / 2]);            \
  } while (0)

int main(int argc, char **argv) {
  int reps = argc > 1 ? atoi(argv[1]) : 9;
  if (reps < 1 || reps > 64) reps = 9;
  image_u8 spec, rgb, big, out;
  fill(&spec, 1876, 257, 1); /* a 30 s, 16 kHz notebook spectrogram: T = 1876 */
  fill(&rgb, 1876, 257, 3);
  fill(&big, 1024, 768, 3);
  TIME("bicubic grey 1876x257 -> 400x300", reps, (image_resize_bicubic(&spec, 400, 300, &out), image_free(&out)));
  TIME("bicubic RGB  1876x257 -> 400x300", reps, (image_resize_bicubic(&rgb, 400, 300, &out), image_free(&out)));
  TIME("bicubic RGB  400x296 -> 400x300 (chirp reading)", reps, ({
         image_u8 s2;
         fill(&s2, 400, 296, 3);
         image_resize_bicubic(&s2, 400, 300, &out);
         image_free(&out);
         image_free(&s2);
       }));
  TIME("lanczos RGB 1024x768 -> 512x384", reps, (image_resize_lanczos(&big, 512, 384, &out), image_free(&out)));
  TIME("lanczos RGB 1024x768 -> 768x576", reps, (image_resize_lanczos(&big, 768, 576, &out), image_free(&out)));
  char path[64];
  snprintf(path, sizeof path, "/tmp/bench_image_%d.png", (int)getpid());
  image_u8 sd;
  fill(&sd, 512, 512, 3);
  TIME("png_write RGB 512x512 (+ eXIf, text)", reps, ({
         png_meta m;
         png_meta_init(&m);
         png_meta_set(&m, "a2i2a", "{\"style\": \"seed\"}");
         png_write(path, &sd, &m, 1);
         png_meta_free(&m);
       }));
  TIME("image_read RGB 512x512", reps, (image_read(path, &out, NULL), image_free(&out)));
  unlink(path);
  image_free(&spec);
  image_free(&rgb);
  image_free(&big);
  image_free(&sd);
  return 0;
}
