/* The image module: Pillow-exact BICUBIC against the seed fixtures, PNG/JPEG decoding of every
 * layout (files written here with libpng/libjpeg themselves), text and eXIf round trips,
 * Riffusion's eXIf, error cases, colour maps, the 5×7 font. */
#include "check.h"
#include "image/image.h"
#include "jpeg_write.h"

#include <glob.h>
#include <math.h>
#include <png.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[256];

static const char *tmp_path(const char *name) {
  static char buf[4][512];
  static int k;
  char *b = buf[k++ & 3];
  snprintf(b, 512, "%s/%s", tmpdir, name);
  return b;
}

static int file_exists(const char *p) {
  struct stat st;
  return stat(p, &st) == 0;
}

static int count_files(const char *dir) {
  char pat[600];
  snprintf(pat, sizeof pat, "%s/*", dir);
  glob_t g;
  int n = 0;
  if (glob(pat, GLOB_PERIOD, NULL, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; i++) {
      const char *b = strrchr(g.gl_pathv[i], '/') + 1;
      if (strcmp(b, ".") && strcmp(b, "..")) n++;
    }
    globfree(&g);
  }
  return n;
}

static int images_equal(const image_u8 *a, const image_u8 *b, int *ndiff, int *maxdiff) {
  *ndiff = *maxdiff = 0;
  if (a->w != b->w || a->h != b->h || a->c != b->c) return 0;
  size_t n = (size_t)a->w * a->h * a->c;
  for (size_t i = 0; i < n; i++) {
    int d = abs((int)a->px[i] - (int)b->px[i]);
    if (d) (*ndiff)++;
    if (d > *maxdiff) *maxdiff = d;
  }
  return *ndiff == 0;
}

/* ------------------------------------------------------------------ BICUBIC vs the fixtures */

static void test_bicubic_a2i(void) {
  glob_t g;
  int found = 0;
  if (glob(fixture("seed/a2i/*/spec_u8.png"), 0, NULL, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; i++) {
      char ref_path[4096];
      snprintf(ref_path, sizeof ref_path, "%s", g.gl_pathv[i]);
      strcpy(strrchr(ref_path, '/') + 1, "image.png");
      image_u8 spec, ref, grey, rgb, out_rgb, out_grey;
      CHECK(image_read(g.gl_pathv[i], &spec, NULL) == A2I2A_OK, "%s: %s", g.gl_pathv[i], a2i2a_last_error());
      CHECK(image_read(ref_path, &ref, NULL) == A2I2A_OK, "%s: %s", ref_path, a2i2a_last_error());
      if (!spec.px || !ref.px) continue;
      found++;
      CHECK(spec.h == 257, "%s: height %d", g.gl_pathv[i], spec.h);
      /* as RGB */
      CHECK(image_resize_bicubic(&spec, 400, 300, &out_rgb) == A2I2A_OK, "resize");
      int nd, md;
      CHECK(images_equal(&out_rgb, &ref, &nd, &md), "%s: RGB resize differs in %d values (max %d)", ref_path, nd, md);
      /* as grey: same numbers */
      CHECK(image_convert(&spec, 1, &grey) == A2I2A_OK, "convert");
      CHECK(image_resize_bicubic(&grey, 400, 300, &out_grey) == A2I2A_OK, "resize grey");
      CHECK(image_convert(&out_grey, 3, &rgb) == A2I2A_OK, "convert back");
      CHECK(images_equal(&rgb, &ref, &nd, &md), "%s: grey resize differs in %d values (max %d)", ref_path, nd, md);
      image_free(&spec);
      image_free(&ref);
      image_free(&grey);
      image_free(&rgb);
      image_free(&out_rgb);
      image_free(&out_grey);
    }
    globfree(&g);
  }
  CHECK(found >= fixtures_expect(9, 2), "only %d a2i fixture folders found under %s", found, fixture("seed/a2i"));
}

static void test_bicubic_i2a(void) {
  glob_t g;
  int found = 0;
  if (glob(fixture("seed/i2a/*/chirp_resized.png"), 0, NULL, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; i++) {
      char name[256], src_path[4096];
      const char *p = g.gl_pathv[i] + strlen(g.gl_pathv[i]) - strlen("/chirp_resized.png");
      const char *q = p - 1;
      while (q > g.gl_pathv[i] && *q != '/') q--;
      snprintf(name, sizeof name, "%.*s", (int)(p - q - 1), q + 1);
      snprintf(src_path, sizeof src_path, "%s/%s.png", fixture("seed/images"), name);
      image_u8 src, ref, out;
      CHECK(image_read(src_path, &src, NULL) == A2I2A_OK, "%s", a2i2a_last_error());
      CHECK(image_read(g.gl_pathv[i], &ref, NULL) == A2I2A_OK, "%s", a2i2a_last_error());
      if (!src.px || !ref.px) continue;
      found++;
      CHECK(image_resize_bicubic(&src, 400, 300, &out) == A2I2A_OK, "resize");
      int nd, md;
      CHECK(images_equal(&out, &ref, &nd, &md), "%s: differs in %d values (max %d)", g.gl_pathv[i], nd, md);
      /* same size: copied unchanged */
      image_u8 same;
      CHECK(image_resize_bicubic(&ref, ref.w, ref.h, &same) == A2I2A_OK, "resize same");
      CHECK(images_equal(&same, &ref, &nd, &md), "same-size resize changed %d values", nd);
      image_free(&same);
      image_free(&src);
      image_free(&ref);
      image_free(&out);
    }
    globfree(&g);
  }
  CHECK(found >= fixtures_expect(3, 1), "only %d chirp_resized fixtures found", found);
}

/* Hand-computed property checks of the resampler: a constant image stays constant under both
 * filters and any size change (weights are normalised), and 1×N → 1×N copies. */
static void test_resize_properties(void) {
  image_u8 in, out;
  image_alloc(&in, 37, 23, 3);
  memset(in.px, 201, (size_t)37 * 23 * 3);
  const int sizes[][2] = {{5, 7}, {100, 3}, {37, 90}, {1, 1}, {200, 150}};
  for (int f = 0; f < 2; f++)
    for (int s = 0; s < 5; s++) {
      a2i2a_status st = f ? image_resize_lanczos(&in, sizes[s][0], sizes[s][1], &out)
                          : image_resize_bicubic(&in, sizes[s][0], sizes[s][1], &out);
      CHECK(st == A2I2A_OK, "resize");
      int bad = 0;
      for (size_t i = 0; i < (size_t)out.w * out.h * 3; i++) bad += out.px[i] != 201;
      CHECK(bad == 0 && out.w == sizes[s][0] && out.h == sizes[s][1], "filter %d to %dx%d: %d values not 201", f,
            sizes[s][0], sizes[s][1], bad);
      image_free(&out);
    }
  CHECK(image_resize_bicubic(&in, 0, 5, &out) != A2I2A_OK, "zero width accepted");
  CHECK(image_resize(&in, 5, 5, "nearest", &out) == A2I2A_ERR_PARAM, "unknown filter accepted");
  image_free(&in);
}

/* ------------------------------------------------------------------ PNG layouts via libpng */

typedef struct {
  int w, h, bit_depth, color_type, interlace;
  int npalette, ntrans;
} png_spec;

/* Writes a PNG with libpng directly: rows given in the file's own sample layout. */
static int write_raw_png(const char *path, const png_spec *s, uint8_t *const *rows, const png_color *palette,
                         const uint8_t *trans) {
  FILE *f = fopen(path, "wb");
  if (!f) return 0;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png_create_info_struct(png);
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    fclose(f);
    return 0;
  }
  png_init_io(png, f);
  png_set_IHDR(png, info, s->w, s->h, s->bit_depth, s->color_type, s->interlace, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  if (palette) png_set_PLTE(png, info, palette, s->npalette);
  if (trans) png_set_tRNS(png, info, trans, s->ntrans, NULL);
  png_write_info(png, info);
  png_write_image(png, (png_bytepp)rows);
  png_write_end(png, info);
  png_destroy_write_struct(&png, &info);
  fclose(f);
  return 1;
}

/* Expected RGB of pixel (x, y) in the pattern used below, per layout. */
static void test_png_layouts(void) {
  const int W = 13, H = 9;
  uint8_t *rows[9];
  uint8_t buf[9][13 * 8];
  for (int y = 0; y < H; y++) rows[y] = buf[y];
  for (int interlace = 0; interlace < 2; interlace++) {
    int il = interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE;
    /* 8-bit grey */
    {
      png_spec s = {W, H, 8, PNG_COLOR_TYPE_GRAY, il, 0, 0};
      for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) buf[y][x] = (uint8_t)(x * 19 + y * 7);
      CHECK(write_raw_png(tmp_path("g8.png"), &s, rows, NULL, NULL), "write g8");
      image_u8 im;
      CHECK(image_read(tmp_path("g8.png"), &im, NULL) == A2I2A_OK, "%s", a2i2a_last_error());
      int bad = im.w != W || im.h != H || im.c != 3;
      for (int y = 0; !bad && y < H; y++)
        for (int x = 0; x < W; x++)
          for (int c = 0; c < 3; c++) bad += im.px[(y * W + x) * 3 + c] != (uint8_t)(x * 19 + y * 7);
      CHECK(!bad, "grey 8-bit (interlace %d) read wrong", interlace);
      image_free(&im);
      /* image_read_grey gives the plane back */
      CHECK(image_read_grey(tmp_path("g8.png"), &im, NULL) == A2I2A_OK && im.c == 1 && im.px[W + 2] == (uint8_t)(2 * 19 + 7),
            "image_read_grey");
      image_free(&im);
    }
    /* 16-bit grey + alpha: high byte kept, alpha dropped */
    {
      png_spec s = {W, H, 16, PNG_COLOR_TYPE_GRAY_ALPHA, il, 0, 0};
      for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
          unsigned v = (unsigned)(x * 5000 + y * 301 + 0x80); /* low byte ≥ 0x80: strip ≠ round */
          uint8_t *p = &buf[y][x * 4];
          p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v, p[2] = (uint8_t)(x * 20), p[3] = 0x11;
        }
      CHECK(write_raw_png(tmp_path("ga16.png"), &s, rows, NULL, NULL), "write ga16");
      image_u8 im;
      CHECK(image_read(tmp_path("ga16.png"), &im, NULL) == A2I2A_OK, "%s", a2i2a_last_error());
      int bad = im.w != W || im.h != H;
      for (int y = 0; !bad && y < H; y++)
        for (int x = 0; x < W; x++)
          for (int c = 0; c < 3; c++) bad += im.px[(y * W + x) * 3 + c] != (uint8_t)((x * 5000 + y * 301 + 0x80) >> 8);
      CHECK(!bad, "grey+alpha 16-bit (interlace %d) read wrong", interlace);
      image_free(&im);
    }
    /* 16-bit RGBA */
    {
      png_spec s = {W, H, 16, PNG_COLOR_TYPE_RGB_ALPHA, il, 0, 0};
      for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
          for (int c = 0; c < 4; c++) {
            unsigned v = (unsigned)((x * 4000 + y * 3000 + c * 9000 + 0xFF) & 0xFFFF);
            buf[y][x * 8 + 2 * c] = (uint8_t)(v >> 8), buf[y][x * 8 + 2 * c + 1] = (uint8_t)v;
          }
      CHECK(write_raw_png(tmp_path("rgba16.png"), &s, rows, NULL, NULL), "write rgba16");
      image_u8 im;
      CHECK(image_read(tmp_path("rgba16.png"), &im, NULL) == A2I2A_OK, "%s", a2i2a_last_error());
      int bad = im.w != W || im.h != H;
      for (int y = 0; !bad && y < H; y++)
        for (int x = 0; x < W; x++)
          for (int c = 0; c < 3; c++)
            bad += im.px[(y * W + x) * 3 + c] != (uint8_t)(((x * 4000 + y * 3000 + c * 9000 + 0xFF) & 0xFFFF) >> 8);
      CHECK(!bad, "RGBA 16-bit (interlace %d) read wrong", interlace);
      image_free(&im);
    }
    /* 8-bit RGBA */
    {
      png_spec s = {W, H, 8, PNG_COLOR_TYPE_RGB_ALPHA, il, 0, 0};
      for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
          for (int c = 0; c < 4; c++) buf[y][x * 4 + c] = (uint8_t)(x * 17 + y * 23 + c * 61);
      CHECK(write_raw_png(tmp_path("rgba8.png"), &s, rows, NULL, NULL), "write rgba8");
      image_u8 im;
      CHECK(image_read(tmp_path("rgba8.png"), &im, NULL) == A2I2A_OK, "%s", a2i2a_last_error());
      int bad = im.w != W || im.h != H;
      for (int y = 0; !bad && y < H; y++)
        for (int x = 0; x < W; x++)
          for (int c = 0; c < 3; c++) bad += im.px[(y * W + x) * 3 + c] != (uint8_t)(x * 17 + y * 23 + c * 61);
      CHECK(!bad, "RGBA 8-bit (interlace %d) read wrong", interlace);
      image_free(&im);
    }
    /* 4-bit palette with tRNS */
    {
      png_spec s = {W, H, 4, PNG_COLOR_TYPE_PALETTE, il, 16, 3};
      png_color pal[16];
      for (int i = 0; i < 16; i++) pal[i] = (png_color){(uint8_t)(i * 16), (uint8_t)(255 - i * 9), (uint8_t)(i * i)};
      uint8_t trans[3] = {0, 128, 255};
      for (int y = 0; y < H; y++) {
        memset(buf[y], 0, sizeof buf[y]);
        for (int x = 0; x < W; x++) {
          int idx = (x + 3 * y) & 15;
          buf[y][x / 2] |= (uint8_t)(x % 2 ? idx : idx << 4);
        }
      }
      CHECK(write_raw_png(tmp_path("pal4.png"), &s, rows, pal, trans), "write pal4");
      image_u8 im;
      CHECK(image_read(tmp_path("pal4.png"), &im, NULL) == A2I2A_OK, "%s", a2i2a_last_error());
      int bad = im.w != W || im.h != H;
      for (int y = 0; !bad && y < H; y++)
        for (int x = 0; x < W; x++) {
          png_color p = pal[(x + 3 * y) & 15];
          const uint8_t *q = im.px + (y * W + x) * 3;
          bad += q[0] != p.red || q[1] != p.green || q[2] != p.blue;
        }
      CHECK(!bad, "palette+tRNS (interlace %d) read wrong", interlace);
      image_free(&im);
    }
    /* 1-bit grey: 0 → 0, 1 → 255 */
    {
      png_spec s = {W, H, 1, PNG_COLOR_TYPE_GRAY, il, 0, 0};
      for (int y = 0; y < H; y++) {
        memset(buf[y], 0, sizeof buf[y]);
        for (int x = 0; x < W; x++)
          if ((x + y) % 3 == 0) buf[y][x / 8] |= (uint8_t)(0x80 >> (x % 8));
      }
      CHECK(write_raw_png(tmp_path("g1.png"), &s, rows, NULL, NULL), "write g1");
      image_u8 im;
      CHECK(image_read(tmp_path("g1.png"), &im, NULL) == A2I2A_OK, "%s", a2i2a_last_error());
      int bad = im.w != W || im.h != H;
      for (int y = 0; !bad && y < H; y++)
        for (int x = 0; x < W; x++) bad += im.px[(y * W + x) * 3 + 1] != ((x + y) % 3 == 0 ? 255 : 0);
      CHECK(!bad, "1-bit grey (interlace %d) read wrong", interlace);
      image_free(&im);
    }
  }
}

/* ------------------------------------------------------------------ write + metadata */

static void test_png_roundtrip(void) {
  image_u8 im;
  CHECK(image_alloc(&im, 31, 17, 3) == A2I2A_OK, "alloc");
  for (size_t i = 0; i < (size_t)31 * 17 * 3; i++) im.px[i] = (uint8_t)(i * 7 + (i >> 5));
  png_meta m;
  png_meta_init(&m);
  const char *json = "{\"style\": \"seed\", \"caf\\u00e9\": \"café ♪\", \"n\": [1, 2.5e-3]}\nline 2";
  png_meta_set(&m, "a2i2a", json);
  png_meta_set(&m, "Comment", "plain ASCII text");
  png_meta_set(&m, "Comment", "replaced");
  png_meta_set(&m, "empty", "");
  uint8_t exif[150];
  for (int i = 0; i < 150; i++) exif[i] = (uint8_t)(i * 13);
  memcpy(exif, "MM\0*\0\0\0\x08", 8);
  png_meta_set_exif(&m, exif, sizeof exif);
  CHECK(m.ntext == 3, "png_meta_set replaces a key: %d keys", m.ntext);
  const char *p = tmp_path("rt.png");
  CHECK(png_write(p, &im, &m, 0) == A2I2A_OK, "%s", a2i2a_last_error());
  image_u8 back;
  png_meta mb;
  CHECK(image_read(p, &back, &mb) == A2I2A_OK, "%s", a2i2a_last_error());
  int nd, md;
  CHECK(images_equal(&im, &back, &nd, &md), "RGB round trip differs in %d values", nd);
  const char *v = png_meta_get(&mb, "a2i2a");
  CHECK(v && !strcmp(v, json), "JSON text chunk did not survive: %s", v ? v : "(missing)");
  v = png_meta_get(&mb, "Comment");
  CHECK(v && !strcmp(v, "replaced"), "Comment = %s", v ? v : "(missing)");
  v = png_meta_get(&mb, "empty");
  CHECK(v && !strcmp(v, ""), "empty value lost");
  CHECK(mb.exif_len == 150 && mb.exif && !memcmp(mb.exif, exif, 150), "eXIf round trip (%zu bytes)", mb.exif_len);
  /* chunk order in the file: eXIf before the first IDAT; the ASCII text as tEXt, JSON as iTXt */
  FILE *f = fopen(p, "rb");
  uint8_t filebuf[1 << 16];
  size_t n = f ? fread(filebuf, 1, sizeof filebuf, f) : 0;
  if (f) fclose(f);
  long pos_exif = -1, pos_idat = -1, pos_itxt = -1, pos_text = -1;
  for (size_t off = 8; off + 8 <= n;) {
    uint32_t len = (uint32_t)filebuf[off] << 24 | filebuf[off + 1] << 16 | filebuf[off + 2] << 8 | filebuf[off + 3];
    const char *type = (const char *)filebuf + off + 4;
    if (!memcmp(type, "eXIf", 4) && pos_exif < 0) pos_exif = (long)off;
    if (!memcmp(type, "IDAT", 4) && pos_idat < 0) pos_idat = (long)off;
    if (!memcmp(type, "iTXt", 4) && pos_itxt < 0) pos_itxt = (long)off;
    if (!memcmp(type, "tEXt", 4) && pos_text < 0) pos_text = (long)off;
    off += 12 + len;
  }
  CHECK(pos_exif > 0 && pos_idat > pos_exif, "eXIf at %ld, first IDAT at %ld", pos_exif, pos_idat);
  CHECK(pos_itxt > 0 && pos_text > 0, "iTXt at %ld, tEXt at %ld", pos_itxt, pos_text);
  image_free(&back);
  png_meta_free(&mb);

  /* no overwrite without force, nothing left behind */
  int before = count_files(tmpdir);
  CHECK(png_write(p, &im, NULL, 0) == A2I2A_ERR_EXISTS, "overwrote without force");
  CHECK(strstr(a2i2a_last_error(), "rt.png") != NULL, "message: %s", a2i2a_last_error());
  CHECK(count_files(tmpdir) == before, "a file was left behind");
  /* force replaces it (now grey, without metadata) */
  image_u8 grey;
  CHECK(image_convert(&im, 1, &grey) == A2I2A_OK, "convert");
  CHECK(png_write(p, &grey, NULL, 1) == A2I2A_OK, "%s", a2i2a_last_error());
  CHECK(image_read(p, &back, &mb) == A2I2A_OK, "%s", a2i2a_last_error());
  int bad = back.w != 31 || back.h != 17;
  for (size_t i = 0; !bad && i < (size_t)31 * 17; i++) bad += back.px[3 * i] != grey.px[i] || back.px[3 * i + 2] != grey.px[i];
  CHECK(!bad && mb.ntext == 0 && !mb.exif, "grey round trip after --force");
  image_free(&back);
  png_meta_free(&mb);
  /* missing folder */
  CHECK(png_write(tmp_path("no/such/dir/x.png"), &im, NULL, 0) == A2I2A_ERR_IO, "missing folder accepted");
  CHECK(strstr(a2i2a_last_error(), "x.png") != NULL, "message: %s", a2i2a_last_error());
  CHECK(count_files(tmpdir) == before, "a file was left behind");
  /* invalid key */
  png_meta bad_m;
  png_meta_init(&bad_m);
  png_meta_set(&bad_m, "bad\001key", "v");
  CHECK(png_write(tmp_path("badkey.png"), &im, &bad_m, 0) == A2I2A_ERR_PARAM, "bad key accepted");
  CHECK(!file_exists(tmp_path("badkey.png")) && count_files(tmpdir) == before, "bad key left a file");
  png_meta_free(&bad_m);
  png_meta_free(&m);
  image_free(&grey);
  image_free(&im);
}

/* Chunks written by libpng directly: zTXt, compressed iTXt, Latin-1 tEXt, and text + eXIf
 * after the image data must all reach png_meta. */
static void test_png_foreign_chunks(void) {
  const char *p = tmp_path("chunks.png");
  FILE *f = fopen(p, "wb");
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png_create_info_struct(png);
  if (!f || setjmp(png_jmpbuf(png))) {
    CHECK(0, "libpng write failed");
    return;
  }
  png_init_io(png, f);
  png_set_IHDR(png, info, 4, 3, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_text t[3];
  memset(t, 0, sizeof t);
  t[0].compression = PNG_TEXT_COMPRESSION_zTXt, t[0].key = "zkey", t[0].text = "compressed text, compressed text";
  t[1].compression = PNG_ITXT_COMPRESSION_zTXt, t[1].key = "ikey", t[1].text = "{\"\u00fc\": \"\xc3\xbc \xe2\x99\xaa\"}";
  t[1].lang = "", t[1].lang_key = "";
  t[2].compression = PNG_TEXT_COMPRESSION_NONE, t[2].key = "latin", t[2].text = "caf\xe9";
  png_set_text(png, info, t, 3);
  png_write_info(png, info);
  uint8_t rows[3][4] = {{0, 1, 2, 3}, {4, 5, 6, 7}, {8, 9, 10, 11}};
  for (int y = 0; y < 3; y++) png_write_row(png, rows[y]);
  /* after IDAT: an eXIf chunk and a tEXt (through the end info) */
  uint8_t exif[12] = {'I', 'I', 42, 0, 8, 0, 0, 0, 0, 0, 0, 0};
  png_write_chunk(png, (png_const_bytep) "eXIf", exif, sizeof exif);
  png_infop end = png_create_info_struct(png);
  png_text late = {.compression = PNG_TEXT_COMPRESSION_NONE, .key = "late", .text = "after the pixels"};
  png_set_text(png, end, &late, 1);
  png_write_end(png, end);
  png_destroy_info_struct(png, &end);
  png_destroy_write_struct(&png, &info);
  fclose(f);
  image_u8 im;
  png_meta m;
  CHECK(image_read(p, &im, &m) == A2I2A_OK, "%s", a2i2a_last_error());
  const char *v = png_meta_get(&m, "zkey");
  CHECK(v && !strcmp(v, "compressed text, compressed text"), "zTXt: %s", v ? v : "(missing)");
  v = png_meta_get(&m, "ikey");
  CHECK(v && !strcmp(v, "{\"\u00fc\": \"\xc3\xbc \xe2\x99\xaa\"}"), "compressed iTXt: %s", v ? v : "(missing)");
  v = png_meta_get(&m, "latin");
  CHECK(v && !strcmp(v, "caf\xc3\xa9"), "Latin-1 tEXt not converted to UTF-8: %s", v ? v : "(missing)");
  v = png_meta_get(&m, "late");
  CHECK(v && !strcmp(v, "after the pixels"), "text after IDAT: %s", v ? v : "(missing)");
  CHECK(m.exif_len == 12 && m.exif && !memcmp(m.exif, exif, 12), "eXIf after IDAT: %zu bytes", m.exif_len);
  CHECK(im.px && im.px[3 * 5] == 5 && im.px[3 * 11 + 2] == 11, "pixels");
  image_free(&im);
  png_meta_free(&m);
}

static void test_riffusion_exif(void) {
  glob_t g;
  int found = 0;
  if (glob(fixture("seed/riffusion/*/image.png"), 0, NULL, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; i++) {
      image_u8 im;
      png_meta m;
      CHECK(image_read(g.gl_pathv[i], &im, &m) == A2I2A_OK, "%s", a2i2a_last_error());
      if (!im.px) continue;
      found++;
      CHECK(im.h == 512 && (im.w == 512 || im.w == 513), "%s: %dx%d", g.gl_pathv[i], im.w, im.h);
      CHECK(m.exif_len == 150 && m.exif && !memcmp(m.exif, "MM\0*", 4), "%s: eXIf %zu bytes", g.gl_pathv[i], m.exif_len);
      /* IFD0: 10 entries, first tag 11000 SAMPLE_RATE SHORT 44100 (README §7.3) */
      if (m.exif_len == 150) {
        const uint8_t *e = m.exif;
        CHECK(e[8] == 0 && e[9] == 10, "entry count");
        CHECK((e[10] << 8 | e[11]) == 11000 && (e[12] << 8 | e[13]) == 3 && (e[18] << 8 | e[19]) == 44100, "SAMPLE_RATE entry");
      }
      /* re-written by us, the bytes survive and stay before IDAT */
      const char *p = tmp_path("riff.png");
      CHECK(png_write(p, &im, &m, 1) == A2I2A_OK, "%s", a2i2a_last_error());
      image_u8 im2;
      png_meta m2;
      CHECK(image_read(p, &im2, &m2) == A2I2A_OK, "%s", a2i2a_last_error());
      CHECK(m2.exif_len == m.exif_len && m2.exif && !memcmp(m2.exif, m.exif, m.exif_len), "eXIf rewrite");
      image_free(&im2);
      png_meta_free(&m2);
      image_free(&im);
      png_meta_free(&m);
    }
    globfree(&g);
  }
  CHECK(found >= fixtures_expect(2, 1), "riffusion images found: %d", found);
}

/* ------------------------------------------------------------------ JPEG */

static void test_jpeg(void) {
  const int W = 48, H = 40;
  uint8_t px[48 * 40 * 3];
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) {
      px[(y * W + x) * 3 + 0] = (uint8_t)(x * 5);
      px[(y * W + x) * 3 + 1] = (uint8_t)(y * 6);
      px[(y * W + x) * 3 + 2] = (uint8_t)(128 + (x - y));
    }
  CHECK(write_jpeg(tmp_path("c.jpg"), px, W, H, 3, 95), "write jpeg");
  image_u8 im;
  CHECK(image_read(tmp_path("c.jpg"), &im, NULL) == A2I2A_OK, "%s", a2i2a_last_error());
  int md = 0;
  double sum = 0;
  if (im.px && im.w == W && im.h == H) {
    for (int i = 0; i < W * H * 3; i++) {
      int d = abs((int)im.px[i] - px[i]);
      md = d > md ? d : md;
      sum += d;
    }
  } else {
    md = 999;
  }
  /* smooth ramps at quality 95: mean error well under 2 levels */
  CHECK(md <= 16 && sum / (W * H * 3) < 2.0, "colour JPEG: max diff %d, mean %.2f", md, sum / (W * H * 3));
  image_free(&im);
  /* grey JPEG → R = G = B */
  uint8_t gpx[48 * 40];
  for (int i = 0; i < W * H; i++) gpx[i] = (uint8_t)(i % W * 5);
  CHECK(write_jpeg(tmp_path("g.jpg"), gpx, W, H, 1, 95), "write grey jpeg");
  CHECK(image_read(tmp_path("g.jpg"), &im, NULL) == A2I2A_OK, "%s", a2i2a_last_error());
  int bad = !im.px || im.w != W || im.h != H;
  md = 0;
  for (int i = 0; !bad && i < W * H; i++) {
    bad += im.px[3 * i] != im.px[3 * i + 1] || im.px[3 * i] != im.px[3 * i + 2];
    int d = abs((int)im.px[3 * i] - gpx[i]);
    md = d > md ? d : md;
  }
  CHECK(!bad && md <= 8, "grey JPEG: %d non-grey pixels, max diff %d", bad, md);
  image_free(&im);
}

/* ------------------------------------------------------------------ errors */

static void write_bytes(const char *path, const void *data, size_t n) {
  FILE *f = fopen(path, "wb");
  if (f) {
    if (n) fwrite(data, 1, n, f);
    fclose(f);
  }
}

static void expect_fail(const char *path, a2i2a_status want, const char *what, const char *needle) {
  image_u8 im = {1, 1, 1, NULL};
  png_meta m;
  a2i2a_status st = image_read(path, &im, &m);
  CHECK(st != A2I2A_OK && (want == A2I2A_OK || st == want), "%s: status %d, wanted %d", what, st, want);
  const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
  CHECK(strstr(a2i2a_last_error(), base) != NULL, "%s: message does not name the file: %s", what, a2i2a_last_error());
  CHECK(!needle || strstr(a2i2a_last_error(), needle), "%s: message lacks \"%s\": %s", what, needle, a2i2a_last_error());
  CHECK(im.px == NULL && m.ntext == 0 && m.exif == NULL, "%s: output not cleared", what);
}

static uint32_t png_crc(const uint8_t *p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; i++) {
    c ^= p[i];
    for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
  }
  return c ^ 0xFFFFFFFFu;
}

static void test_errors(void) {
  expect_fail(tmp_path("missing.png"), A2I2A_ERR_IO, "missing file", NULL);
  write_bytes(tmp_path("empty.png"), "", 0);
  expect_fail(tmp_path("empty.png"), A2I2A_ERR_FORMAT, "empty file", "empty");
  write_bytes(tmp_path("notes.png"), "hello, this is text\n", 20);
  expect_fail(tmp_path("notes.png"), A2I2A_ERR_FORMAT, "text file", "text");
  write_bytes(tmp_path("sound.png"), "RIFF\x24\0\0\0WAVEfmt ", 16);
  expect_fail(tmp_path("sound.png"), A2I2A_ERR_FORMAT, "wav file", "WAV");
  expect_fail(tmpdir, A2I2A_ERR_IO, "folder", "folder");

  /* a valid PNG to damage */
  image_u8 im;
  image_alloc(&im, 64, 48, 3);
  uint32_t r = 12345;
  for (size_t i = 0; i < (size_t)64 * 48 * 3; i++) {
    r ^= r << 13, r ^= r >> 17, r ^= r << 5; /* xorshift: incompressible */
    im.px[i] = (uint8_t)(r >> 24);
  }
  CHECK(png_write(tmp_path("good.png"), &im, NULL, 0) == A2I2A_OK, "%s", a2i2a_last_error());
  image_free(&im);
  FILE *f = fopen(tmp_path("good.png"), "rb");
  static uint8_t b[1 << 16];
  size_t n = f ? fread(b, 1, sizeof b, f) : 0;
  if (f) fclose(f);
  CHECK(n > 1000, "good.png has %zu bytes", n);
  write_bytes(tmp_path("trunc.png"), b, n / 2);
  expect_fail(tmp_path("trunc.png"), A2I2A_ERR_FORMAT, "truncated PNG", "PNG");
  write_bytes(tmp_path("header_only.png"), b, 20);
  expect_fail(tmp_path("header_only.png"), A2I2A_ERR_FORMAT, "PNG cut in IHDR", NULL);
  uint8_t *c = malloc(n);
  memcpy(c, b, n);
  for (size_t i = 100; i < n - 20; i += 37) c[i] ^= 0x5A; /* damage the compressed data */
  write_bytes(tmp_path("corrupt.png"), c, n);
  expect_fail(tmp_path("corrupt.png"), A2I2A_ERR_FORMAT, "corrupt PNG", NULL);
  /* absurd size in IHDR (fix the CRC so libpng gets as far as our limit) */
  memcpy(c, b, n);
  c[16] = 0, c[17] = 0x01, c[18] = 0x00, c[19] = 0x00; /* width 65536 */
  c[20] = 0, c[21] = 0x01, c[22] = 0x00, c[23] = 0x00; /* height 65536 */
  {
    uint32_t crc = png_crc(c + 12, 17);
    c[29] = (uint8_t)(crc >> 24), c[30] = (uint8_t)(crc >> 16), c[31] = (uint8_t)(crc >> 8), c[32] = (uint8_t)crc;
  }
  write_bytes(tmp_path("huge.png"), c, n);
  expect_fail(tmp_path("huge.png"), A2I2A_ERR_LIMIT, "huge PNG", "limit");
  c[16] = 0, c[17] = 0x1E, c[18] = 0x84, c[19] = 0x80; /* width 2000000, beyond libpng's own default limit */
  c[20] = 0, c[21] = 0, c[22] = 0, c[23] = 1;          /* height 1 */
  {
    uint32_t crc = png_crc(c + 12, 17);
    c[29] = (uint8_t)(crc >> 24), c[30] = (uint8_t)(crc >> 16), c[31] = (uint8_t)(crc >> 8), c[32] = (uint8_t)crc;
  }
  write_bytes(tmp_path("wide.png"), c, n);
  expect_fail(tmp_path("wide.png"), A2I2A_ERR_LIMIT, "2000000-wide PNG", "limit");
  free(c);
  /* a JPEG cut in half, and one with garbage after the header */
  uint8_t px[64 * 64 * 3];
  for (int i = 0; i < 64 * 64 * 3; i++) px[i] = (uint8_t)(i * 31);
  write_jpeg(tmp_path("full.jpg"), px, 64, 64, 3, 90);
  f = fopen(tmp_path("full.jpg"), "rb");
  n = f ? fread(b, 1, sizeof b, f) : 0;
  if (f) fclose(f);
  write_bytes(tmp_path("trunc.jpg"), b, n / 2);
  expect_fail(tmp_path("trunc.jpg"), A2I2A_ERR_FORMAT, "truncated JPEG", "JPEG");
  write_bytes(tmp_path("stub.jpg"), b, 3);
  expect_fail(tmp_path("stub.jpg"), A2I2A_ERR_FORMAT, "3-byte JPEG", "JPEG");
}

/* ------------------------------------------------------------------ colour maps */

static void test_colormaps(void) {
  const char *names[] = {"grey", "gray", "ember", "aurora"};
  float v[256], back[256];
  uint8_t rgb[256 * 3], rgb2[256 * 3];
  for (int i = 0; i < 256; i++) v[i] = (i + 0.5f) / 256.0f;
  for (int m = 0; m < 4; m++) {
    CHECK(colormap_exists(names[m]), "%s missing", names[m]);
    CHECK(colormap_apply(names[m], v, 256, rgb) == A2I2A_OK, "apply %s", names[m]);
    CHECK(colormap_invert(names[m], rgb, 256, back) == A2I2A_OK, "invert %s", names[m]);
    int bad = 0;
    for (int i = 0; i < 256; i++) bad += back[i] != v[i];
    CHECK(bad == 0, "%s: %d of 256 entries do not invert to themselves", names[m], bad);
    /* lightness rises: the relative luminance of entry i+8 exceeds entry i's */
    int nonmono = 0;
    for (int i = 0; i + 8 < 256; i++) {
      double y0 = 0.2126 * rgb[3 * i] + 0.7152 * rgb[3 * i + 1] + 0.0722 * rgb[3 * i + 2];
      double y1 = 0.2126 * rgb[3 * i + 24] + 0.7152 * rgb[3 * i + 25] + 0.0722 * rgb[3 * i + 26];
      nonmono += y1 <= y0;
    }
    CHECK(nonmono == 0, "%s: brightness not rising at %d places", names[m], nonmono);
    colormap_invert(names[m], rgb, 256, back);
    colormap_apply(names[m], back, 256, rgb2);
    CHECK(!memcmp(rgb, rgb2, sizeof rgb), "%s: apply(invert(c)) != c", names[m]);
  }
  float edge[5] = {-1.0f, 0.0f, 1.0f, 2.0f, NAN};
  uint8_t e[15];
  CHECK(colormap_apply("grey", edge, 5, e) == A2I2A_OK && e[0] == 0 && e[3] == 0 && e[6] == 255 && e[9] == 255 && e[12] == 0,
        "grey clamps: %d %d %d %d %d", e[0], e[3], e[6], e[9], e[12]);
  float mid = 0.5f;
  CHECK(colormap_apply("grey", &mid, 1, e) == A2I2A_OK && e[0] == 128, "grey(0.5) = %d (matplotlib: 128)", e[0]);
  CHECK(colormap_apply("nosuch", v, 1, rgb) == A2I2A_ERR_PARAM && strstr(a2i2a_last_error(), "nosuch"), "unknown map");
  CHECK(!colormap_exists("nosuch"), "exists(nosuch)");
}

static int count_colour(const image_u8 *img, int x0, int y0, int w, int h, const uint8_t rgb[3]) {
  int n = 0;
  for (int y = y0; y < y0 + h; y++)
    for (int x = x0; x < x0 + w; x++) n += !memcmp(img->px + ((size_t)y * img->w + x) * 3, rgb, 3);
  return n;
}

/* The 5×7 font: every printable glyph but space has pixels within 5 columns; 'A' scaled 3×
 * has 3² pixels per bit; text is clipped at the image's edges. */
static void test_font(void) {
  image_u8 t = {0};
  CHECK(image_alloc(&t, 100, 40, 3) == A2I2A_OK, "alloc");
  const uint8_t white[3] = {255, 255, 255};
  memset(t.px, 0, 100 * 40 * 3);
  int adv = image_text(&t, 1, 1, 3, white, "A");
  CHECK(adv == 18 && image_text_width("A", 3) == 15, "advance %d", adv);
  /* A = .###. #...# #...# ##### #...# #...# #...# : 3+2+2+5+2+2+2 = 18 pixels */
  CHECK(count_colour(&t, 0, 0, 100, 40, white) == 18 * 9, "'A' pixels: %d", count_colour(&t, 0, 0, 100, 40, white));
  CHECK(t.px[((1 + 0) * 100 + 1) * 3] == 0 && t.px[((1 + 0) * 100 + 4) * 3] == 255, "'A' top row starts at column 1");
  for (int c = 33; c < 127; c++) {
    char s[2] = {(char)c, 0};
    memset(t.px, 0, 100 * 40 * 3);
    image_text(&t, 0, 0, 1, white, s);
    CHECK(count_colour(&t, 0, 0, 6, 8, white) > 0, "glyph %c is empty", c);
    CHECK(count_colour(&t, 5, 0, 1, 8, white) == 0, "glyph %c wider than 5", c);
  }
  /* 'A' at (-3, -2): its columns 3-4 of rows 2-6 are inside, #, ##, #, #, # */
  memset(t.px, 0, 100 * 40 * 3);
  image_text(&t, -3, -2, 1, white, "A");
  CHECK(count_colour(&t, 0, 0, 100, 40, white) == 6, "clipped 'A': %d pixels", count_colour(&t, 0, 0, 100, 40, white));
  memset(t.px, 0, 100 * 40 * 3);
  image_text(&t, 97, 36, 2, white, "AAAA"); /* off the right and bottom edges: clipped, no write past them */
  CHECK(count_colour(&t, 97, 36, 3, 4, white) > 0, "clipped text at the corner");
  image_free(&t);
}

int main(void) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/a2i2a_test_image_XXXXXX");
  if (!mkdtemp(tmpdir)) return 1;
  test_bicubic_a2i();
  test_bicubic_i2a();
  test_resize_properties();
  test_png_layouts();
  test_png_roundtrip();
  test_png_foreign_chunks();
  test_riffusion_exif();
  test_jpeg();
  test_errors();
  test_colormaps();
  test_font();
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
  return check_done();
}
