/* pngdiff A B: compares two pictures value by value (RGB, 8-bit) for the CLI tests.
 * Prints "W H MAX OFF TOTAL": the largest difference in levels, how many values differ, how many
 * values there are. Exit status 0, or 2 if a file cannot be read or the sizes differ. */
#include <stdio.h>
#include <stdlib.h>

#include "image/image.h"

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: pngdiff A.png B.png\n");
    return 2;
  }
  image_u8 a = {0}, b = {0};
  if (image_read(argv[1], &a, NULL) || image_read(argv[2], &b, NULL)) {
    fprintf(stderr, "pngdiff: %s\n", a2i2a_last_error());
    return 2;
  }
  if (a.w != b.w || a.h != b.h || a.c != b.c) {
    fprintf(stderr, "pngdiff: sizes differ: %dx%dx%d and %dx%dx%d\n", a.w, a.h, a.c, b.w, b.h, b.c);
    return 2;
  }
  size_t n = (size_t)a.w * a.h * a.c, off = 0;
  int max = 0;
  for (size_t i = 0; i < n; i++) {
    int d = abs((int)a.px[i] - (int)b.px[i]);
    if (d > max) max = d;
    if (d) off++;
  }
  printf("%d %d %d %zu %zu\n", a.w, a.h, max, off, n);
  image_free(&a);
  image_free(&b);
  return 0;
}
