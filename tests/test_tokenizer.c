/* The CLIP tokenizer against tokenizer/prompts.json (ids, BPE symbols, dropped counts, for the
 * tiny-sd1/tiny-sd2 tokenizer folders and the bundled merges), plus stated properties of the
 * clean-up (README §7.1) and the errors for broken files. */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "common/err.h"
#include "sd/clip.h"

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *b = malloc((size_t)n + 1);
  if (fread(b, 1, (size_t)n, f) != (size_t)n) n = 0;
  b[n] = 0;
  fclose(f);
  return b;
}

static char *hex_decode(const char *hex, size_t *len) {
  size_t n = strlen(hex) / 2;
  char *s = malloc(n + 1);
  for (size_t i = 0; i < n; i++) {
    unsigned v = 0;
    sscanf(hex + 2 * i, "%2x", &v);
    s[i] = (char)v;
  }
  s[n] = 0;
  *len = n;
  return s;
}

/* every prompt: the 77 ids of `field`, the dropped count, and (with_symbols) the BPE symbols */
static void check_prompts(clip_tokenizer *t, const cJSON *prompts, const char *field, int with_symbols,
                          const char *label) {
  const cJSON *p;
  cJSON_ArrayForEach(p, prompts) {
    const char *name = cJSON_GetObjectItem(p, "name")->valuestring;
    size_t len;
    char *text = hex_decode(cJSON_GetObjectItem(p, "prompt_utf8_hex")->valuestring, &len);
    int ids[CLIP_CTX], dropped = -1;
    a2i2a_status st = tokenizer_encode_len(t, text, len, ids, &dropped);
    CHECK(st == A2I2A_OK, "%s %s: %s", label, name, a2i2a_last_error());
    const cJSON *ref = cJSON_GetObjectItem(p, field);
    int bad = 0;
    for (int i = 0; i < CLIP_CTX; i++) bad += cJSON_GetArrayItem(ref, i)->valueint != ids[i];
    CHECK(bad == 0, "%s %s: %d of 77 ids differ from %s", label, name, bad, field);
    int untr = cJSON_GetObjectItem(p, "num_tokens_untruncated")->valueint;
    CHECK(dropped == (untr > CLIP_CTX ? untr - CLIP_CTX : 0), "%s %s: dropped %d, untruncated %d", label, name,
          dropped, untr);
    if (with_symbols) {
      /* bpe_tokens are the symbols of the whole cleaned text, without the added-token split, so
       * they are compared where no added token splits the text: the SD 1.x tokenizer */
      int *all, n;
      CHECK(tokenizer_tokens(t, text, len, &all, &n) == A2I2A_OK, "%s", a2i2a_last_error());
      const cJSON *bt = cJSON_GetObjectItem(p, "bpe_tokens");
      int same = n == cJSON_GetArraySize(bt);
      for (int i = 0; same && i < n; i++) {
        const char *sym = tokenizer_symbol(t, all[i]);
        same = sym && !strcmp(sym, cJSON_GetArrayItem(bt, i)->valuestring);
      }
      CHECK(same, "%s %s: BPE symbols differ from bpe_tokens", label, name);
      free(all);
    }
    free(text);
  }
}

/* ids of a prompt (content only) */
static int toks(clip_tokenizer *t, const char *s, int *out, int max) {
  int *all, n;
  if (tokenizer_tokens(t, s, strlen(s), &all, &n)) return -1;
  for (int i = 0; i < n && i < max; i++) out[i] = all[i];
  free(all);
  return n;
}

static int same_tokens(clip_tokenizer *t, const char *a, const char *b) {
  int x[256], y[256];
  int n = toks(t, a, x, 256), m = toks(t, b, y, 256);
  return n >= 0 && n == m && !memcmp(x, y, (size_t)n * sizeof(int));
}

static void properties(clip_tokenizer *t) {
  /* Python's str.lower(): final sigma at a word end, İ -> i + U+0307 */
  CHECK(same_tokens(t, "ΟΔΟΣ ΣΟΦΙΑ", "οδος σοφια"), "final sigma");
  CHECK(!same_tokens(t, "ΟΔΟΣ", "οδοσ"), "final sigma differs from medial sigma");
  CHECK(same_tokens(t, "İ", "i\xcc\x87"), "dotted capital I");
  /* NFC: decomposed and precomposed accents are the same */
  CHECK(same_tokens(t, "cafe\xcc\x81", "caf\xc3\xa9"), "NFC");
  /* whitespace: NBSP, ideographic space, line separator split words like a space */
  CHECK(same_tokens(t, "a\xc2\xa0" "b\xe3\x80\x80" "c\xe2\x80\xa8" "d", "a b c d"), "whitespace");
  /* format characters (ZWJ, soft hyphen, BOM) vanish */
  CHECK(same_tokens(t, "soft\xc2\xadhy\xe2\x80\x8dphen\xef\xbb\xbf", "softhyphen"), "format characters");
  /* each digit is its own word; CJK ideographs are spaced, kana is not */
  CHECK(same_tokens(t, "2024", "2 0 2 4"), "digits");
  CHECK(same_tokens(t, "猫犬", "猫 犬"), "CJK spacing");
  CHECK(!same_tokens(t, "ねこ", "ね こ"), "kana not spaced");
  /* contractions, the pattern's alternatives in order */
  CHECK(same_tokens(t, "DON'T", "don 't"), "contraction");
  CHECK(same_tokens(t, "x''s", "x '' s"), "quote run");
  /* a special token in another case is still its id; inside punctuation it is not */
  int ids[8];
  CHECK(toks(t, "<|EndOfText|>", ids, 8) == 1 && ids[0] == 49407, "case-insensitive special");
  CHECK(toks(t, "<|endoftext|>", ids, 8) == 1 && ids[0] == 49407, "literal special");
}

static void write_file(const char *path, const char *s) {
  FILE *f = fopen(path, "wb");
  fputs(s, f);
  fclose(f);
}

static void errors(void) {
  char dir[] = "/tmp/a2i2a_tok_XXXXXX";
  CHECK(mkdtemp(dir) != NULL, "mkdtemp");
  char vocab[300], merges[300];
  snprintf(vocab, sizeof vocab, "%s/vocab.json", dir);
  snprintf(merges, sizeof merges, "%s/merges.txt", dir);
  clip_tokenizer *t = NULL;

  /* missing files */
  CHECK(tokenizer_load_dir(&t, dir, 1) == A2I2A_ERR_IO && strstr(a2i2a_last_error(), "vocab.json"),
        "missing vocab: %s", a2i2a_last_error());
  /* truncated JSON */
  write_file(vocab, "{\"a\": 1, \"b\"");
  CHECK(tokenizer_load_dir(&t, dir, 1) == A2I2A_ERR_FORMAT && strstr(a2i2a_last_error(), "vocab.json"),
        "broken vocab: %s", a2i2a_last_error());
  /* the real vocabulary with a broken merges file */
  char *v = slurp(fixture("sd/tiny-sd1/tokenizer/vocab.json"));
  write_file(vocab, v);
  free(v);
  write_file(merges, "#version: 0.2\ni n\nt h\nthis is not a merge\n");
  CHECK(tokenizer_load_dir(&t, dir, 1) == A2I2A_ERR_FORMAT && strstr(a2i2a_last_error(), "merges.txt: line 4"),
        "broken merges: %s", a2i2a_last_error());
  write_file(merges, "#version: 0.2\ni n\nq\xc3\xbf\xc3\xbf zz\n");
  CHECK(tokenizer_load_dir(&t, dir, 1) == A2I2A_ERR_FORMAT && strstr(a2i2a_last_error(), "not in the vocabulary"),
        "unknown symbol: %s", a2i2a_last_error());
  /* a valid but short merges file still loads (as transformers would) */
  write_file(merges, "#version: 0.2\ni n\nt h\n");
  CHECK(tokenizer_load_dir(&t, dir, 2) == A2I2A_OK, "short merges: %s", a2i2a_last_error());
  if (t) CHECK(tokenizer_pad_id(t) == 0, "family 2 pads with '!' = 0 without a config");
  tokenizer_free(t);
  t = NULL;

  /* a corrupt bundled file found through $A2I2A_DATA */
  char clipdir[300], gz[400];
  snprintf(clipdir, sizeof clipdir, "%s/clip", dir);
  mkdir(clipdir, 0700);
  snprintf(gz, sizeof gz, "%s/bpe_simple_vocab_16e6.txt.gz", clipdir);
  write_file(gz, "\x1f\x8b\x08\x00garbage that is not deflate data at all................");
  setenv("A2I2A_DATA", dir, 1);
  CHECK(tokenizer_load_dir(&t, NULL, 1) != A2I2A_OK && strstr(a2i2a_last_error(), gz), "corrupt bundled: %s",
        a2i2a_last_error());
  unsetenv("A2I2A_DATA");
  unlink(gz);
  rmdir(clipdir);
  unlink(vocab);
  unlink(merges);
  rmdir(dir);
}

int main(void) {
  char *json = slurp(fixture("sd/tokenizer/prompts.json"));
  CHECK(json != NULL, "prompts.json missing");
  if (!json) return check_done();
  cJSON *j = cJSON_Parse(json);
  free(json);
  const cJSON *prompts = cJSON_GetObjectItem(j, "prompts");
  CHECK(cJSON_GetArraySize(prompts) == 30, "30 prompts");

  clip_tokenizer *sd1 = NULL, *sd2 = NULL, *b1 = NULL, *b2 = NULL;
  CHECK(tokenizer_load_dir(&sd1, fixture("sd/tiny-sd1/tokenizer"), 0) == A2I2A_OK, "%s",
        a2i2a_last_error());
  CHECK(tokenizer_load_dir(&sd2, fixture("sd/tiny-sd2/tokenizer"), 0) == A2I2A_OK, "%s",
        a2i2a_last_error());
  CHECK(tokenizer_load_dir(&b1, NULL, 1) == A2I2A_OK, "%s", a2i2a_last_error());
  CHECK(tokenizer_load_dir(&b2, NULL, 2) == A2I2A_OK, "%s", a2i2a_last_error());
  if (sd1 && sd2 && b1 && b2) {
    CHECK(tokenizer_pad_id(sd1) == 49407 && tokenizer_pad_id(b1) == 49407, "SD 1.x padding");
    CHECK(tokenizer_pad_id(sd2) == 0 && tokenizer_pad_id(b2) == 0, "SD 2.x padding");
    /* the vocabulary built from the bundled merges is vocab.json, entry for entry */
    int diff = 0;
    for (int id = 0; id < 49408; id++) {
      const char *a = tokenizer_symbol(sd1, id), *b = tokenizer_symbol(b1, id);
      diff += !a || !b || strcmp(a, b);
    }
    CHECK(diff == 0 && !tokenizer_symbol(b1, 49408), "bundled vocabulary: %d of 49408 entries differ", diff);
    check_prompts(sd1, prompts, "ids_sd1", 1, "tiny-sd1");
    check_prompts(sd2, prompts, "ids_sd2", 0, "tiny-sd2");
    check_prompts(b1, prompts, "ids_sd1", 1, "bundled/1");
    check_prompts(b2, prompts, "ids_sd2", 0, "bundled/2");
    properties(b1);
    /* SD 2.x: every "!" is split off as id 0 */
    int ids[8];
    CHECK(toks(sd2, "world!!!", ids, 8) == 4 && ids[1] == 0 && ids[2] == 0 && ids[3] == 0, "SD2 '!'");
    CHECK(toks(sd1, "world!!!", ids, 8) == 2, "SD1 '!!!' is one token");
    char buf[64];
    CHECK(tokenizer_token_text(b1, 15304, buf, sizeof buf) == 0 && !strcmp(buf, "caf\xc3\xa9</w>"), "token text %s",
          buf);
  }
  tokenizer_free(sd1);
  tokenizer_free(sd2);
  tokenizer_free(b1);
  tokenizer_free(b2);
  errors();
  cJSON_Delete(j);
  return check_done();
}
