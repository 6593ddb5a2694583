/* CLIP's tokenizer exactly as diffusers runs it: transformers' slow CLIPTokenizer without ftfy
 * (fixtures README §7.1). The text is split on the added tokens first; every other chunk is
 * cleaned like BERT's BasicTokenizer (control/format characters out, whitespace to spaces, CJK
 * ideographs spaced, NFC, whitespace split, full lower-casing), split into words by CLIP's
 * pattern, and each word's UTF-8 bytes go through byte-level BPE.
 *
 * Unicode data come from utf8proc (Unicode 15 in utf8proc 2.8); the reference ran Python's
 * Unicode 14 database. The only visible difference: characters first assigned in Unicode 15
 * (e.g. the emoji U+1FAE8) are category Cn for the reference, hence deleted, and kept here. */
#include <cjson/cJSON.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utf8proc.h>
#include <zlib.h>

#include "common/err.h"
#include "sd/clip.h"

#ifndef A2I2A_DATA_DIR
#define A2I2A_DATA_DIR "data"
#endif

#define BUNDLED_NAME "bpe_simple_vocab_16e6.txt.gz"
/* CLIP keeps merges[1 : 49152 - 256 - 2 + 1] of the file: 48894 merges. */
#define CLIP_MERGES 48894
#define MAX_TEXT_BYTES (1 << 20)
#define MAX_ADDED 8

typedef struct {
  uint64_t key; /* (left id << 32) | right id, 0 = empty slot (id pairs are never 0,0 twice) */
  int rank, merged;
  int used;
} pair_slot;

struct clip_tokenizer {
  char source[4096];
  /* id -> symbol string (byte-level unicode, UTF-8), and string -> id by open addressing */
  char **sym;
  int nsym; /* ids 0..nsym-1 (holes are NULL) */
  int *str_slots;
  size_t str_cap;
  pair_slot *pairs;
  size_t pair_cap;
  int byte_id[256], byte_end_id[256]; /* "x" and "x</w>" for each byte */
  char byte_char[256][3];             /* bytes_to_unicode as UTF-8 */
  int start_id, end_id, pad_id;
  /* added tokens, split off the raw text by exact match before anything else */
  int nadded;
  char *added[MAX_ADDED];
  int added_id[MAX_ADDED];
};

/* ------------------------------------------------------------------ hash tables */

static uint64_t hash_str(const char *s, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
  return h;
}

static uint64_t hash_u64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  return x ^ (x >> 33);
}

static int sym_lookup(const clip_tokenizer *t, const char *s, size_t n) {
  size_t mask = t->str_cap - 1;
  for (size_t i = hash_str(s, n) & mask;; i = (i + 1) & mask) {
    int id = t->str_slots[i];
    if (id < 0) return -1;
    if (strlen(t->sym[id]) == n && !memcmp(t->sym[id], s, n)) return id;
  }
}

/* A string seen again takes the later id (Python's dict of the vocabulary list). */
static void sym_insert(clip_tokenizer *t, int id) {
  size_t mask = t->str_cap - 1;
  const char *s = t->sym[id];
  for (size_t i = hash_str(s, strlen(s)) & mask;; i = (i + 1) & mask) {
    int o = t->str_slots[i];
    if (o < 0 || !strcmp(t->sym[o], s)) {
      t->str_slots[i] = id;
      return;
    }
  }
}

static const pair_slot *pair_lookup(const clip_tokenizer *t, int a, int b) {
  uint64_t key = ((uint64_t)(uint32_t)a << 32) | (uint32_t)b;
  size_t mask = t->pair_cap - 1;
  for (size_t i = hash_u64(key) & mask;; i = (i + 1) & mask) {
    if (!t->pairs[i].used) return NULL;
    if (t->pairs[i].key == key) return &t->pairs[i];
  }
}

/* A repeated merge line takes its later rank, as in Python's dict(zip(merges, range(n))). */
static void pair_insert(clip_tokenizer *t, int a, int b, int rank, int merged) {
  uint64_t key = ((uint64_t)(uint32_t)a << 32) | (uint32_t)b;
  size_t mask = t->pair_cap - 1;
  for (size_t i = hash_u64(key) & mask;; i = (i + 1) & mask) {
    if (!t->pairs[i].used) {
      t->pairs[i] = (pair_slot){key, rank, merged, 1};
      return;
    }
    if (t->pairs[i].key == key) {
      t->pairs[i].rank = rank;
      t->pairs[i].merged = merged;
      return;
    }
  }
}

static size_t pow2_at_least(size_t n) {
  size_t c = 16;
  while (c < n) c <<= 1;
  return c;
}

/* ------------------------------------------------------------------ loading */

static void put_utf8(char *out, int cp) { out[utf8proc_encode_char(cp, (utf8proc_uint8_t *)out)] = 0; }

/* GPT-2's bytes_to_unicode: printable Latin-1 bytes stand for themselves, the others (controls,
 * space, 0x7f-0xa0, 0xad) are moved to U+0100 upwards, in byte order. order[] lists the bytes in
 * the order CLIP's vocabulary enumerates them. */
static void bytes_to_unicode(char out[256][3], int order[256]) {
  int k = 0, extra = 0;
  for (int b = 0; b < 256; b++)
    if ((b >= '!' && b <= '~') || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff)) {
      put_utf8(out[b], b);
      order[k++] = b;
    }
  for (int b = 0; b < 256; b++)
    if (!((b >= '!' && b <= '~') || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff))) {
      put_utf8(out[b], 256 + extra++);
      order[k++] = b;
    }
}

static int read_file(const char *path, char **buf, size_t *len) {
  /* O_NONBLOCK: a FIFO where a file should be is refused below, not waited on */
  int fd = open(path, O_RDONLY | O_NONBLOCK);
  FILE *f = fd >= 0 ? fdopen(fd, "rb") : NULL;
  if (!f) {
    if (fd >= 0) close(fd);
    return fail(A2I2A_ERR_IO, "%s: cannot open", path);
  }
  struct stat sb;
  if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
    fclose(f);
    return fail(A2I2A_ERR_IO, "%s: not a regular file", path);
  }
  size_t n = (size_t)sb.st_size;
  char *b = xmalloc(n + 1, path);
  if (!b) {
    fclose(f);
    return A2I2A_ERR_NOMEM;
  }
  size_t got = fread(b, 1, n, f);
  fclose(f);
  if (got != n) {
    free(b);
    return fail(A2I2A_ERR_IO, "%s: cannot read", path);
  }
  b[n] = 0;
  *buf = b;
  *len = n;
  return A2I2A_OK;
}

static int read_gzip(const char *path, char **buf, size_t *len) {
  gzFile g = gzopen(path, "rb");
  if (!g) return fail(A2I2A_ERR_IO, "%s: cannot open", path);
  size_t cap = 1 << 21, n = 0;
  char *b = xmalloc(cap + 1, path);
  if (!b) {
    gzclose(g);
    return A2I2A_ERR_NOMEM;
  }
  for (;;) {
    if (n == cap) {
      char *nb = realloc(b, 2 * cap + 1);
      if (!nb || cap > (size_t)64 << 20) {
        free(nb ? nb : b);
        gzclose(g);
        return fail(A2I2A_ERR_FORMAT, "%s: larger than any CLIP merges file", path);
      }
      b = nb;
      cap *= 2;
    }
    int r = gzread(g, b + n, (unsigned)(cap - n));
    if (r < 0) {
      int e;
      const char *msg = gzerror(g, &e);
      char m[256];
      snprintf(m, sizeof m, "%s", msg);
      free(b);
      gzclose(g);
      return fail(A2I2A_ERR_FORMAT, "%s: corrupt gzip data (%s)", path, m);
    }
    if (r == 0) break;
    n += (size_t)r;
  }
  gzclose(g);
  b[n] = 0;
  *buf = b;
  *len = n;
  return A2I2A_OK;
}

static int add_symbol(clip_tokenizer *t, int id, const char *s, size_t n) {
  t->sym[id] = malloc(n + 1);
  if (!t->sym[id]) return fail(A2I2A_ERR_NOMEM, "out of memory loading the CLIP vocabulary");
  memcpy(t->sym[id], s, n);
  t->sym[id][n] = 0;
  return A2I2A_OK;
}

static int alloc_tables(clip_tokenizer *t, int nsym, size_t nmerges) {
  t->nsym = nsym;
  t->sym = calloc((size_t)nsym, sizeof *t->sym);
  t->str_cap = pow2_at_least(2 * (size_t)nsym);
  t->str_slots = malloc(t->str_cap * sizeof *t->str_slots);
  t->pair_cap = pow2_at_least(2 * nmerges + 16);
  t->pairs = calloc(t->pair_cap, sizeof *t->pairs);
  if (!t->sym || !t->str_slots || !t->pairs) return fail(A2I2A_ERR_NOMEM, "out of memory loading the CLIP vocabulary");
  memset(t->str_slots, 0xff, t->str_cap * sizeof *t->str_slots);
  return A2I2A_OK;
}

static int parse_merge_lines(clip_tokenizer *t, char **lines, int nmerges, const char *path, int build_vocab);

/* The merges: the first line (a "#version" header) is skipped, then up to CLIP_MERGES lines of
 * "left right". With build_vocab, the vocabulary is CLIP's: 256 byte symbols, the same with
 * "</w>", one entry per merge, then the two specials (49408 for the OpenAI file). */
static int parse_merges(clip_tokenizer *t, char *text, const char *path, int build_vocab) {
  /* Python: read().strip().split("\n")[1:48895] */
  char *p = text;
  while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t') p++;
  char **lines = malloc((CLIP_MERGES + 1) * sizeof *lines);
  if (!lines) return fail(A2I2A_ERR_NOMEM, "out of memory reading %s", path);
  int nl = 0;
  while (*p && nl < CLIP_MERGES + 1) {
    lines[nl++] = p;
    char *e = strchr(p, '\n');
    if (!e) break;
    *e = 0;
    p = e + 1;
  }
  int nmerges = nl > 0 ? nl - 1 : 0;
  int st = parse_merge_lines(t, lines, nmerges, path, build_vocab);
  free(lines);
  return st;
}

static int parse_merge_lines(clip_tokenizer *t, char **lines, int nmerges, const char *path, int build_vocab) {
  if (nmerges == 0) return fail(A2I2A_ERR_FORMAT, "%s: no merges (expected '#version' then lines of 'a b')", path);
  if (build_vocab && nmerges < CLIP_MERGES)
    return fail(A2I2A_ERR_FORMAT, "%s: only %d merges, CLIP's file has at least %d (truncated?)", path, nmerges,
                CLIP_MERGES);

  int order[256];
  bytes_to_unicode(t->byte_char, order);
  if (build_vocab) {
    if (alloc_tables(t, 512 + nmerges + 2, (size_t)nmerges)) return A2I2A_ERR_NOMEM;
    char buf[16];
    for (int i = 0; i < 256; i++) {
      const char *c = t->byte_char[order[i]];
      snprintf(buf, sizeof buf, "%s</w>", c);
      if (add_symbol(t, i, c, strlen(c)) || add_symbol(t, 256 + i, buf, strlen(buf))) return A2I2A_ERR_NOMEM;
      sym_insert(t, i);
      sym_insert(t, 256 + i);
    }
  }
  for (int r = 0; r < nmerges; r++) {
    char *l = lines[r + 1];
    size_t len = strlen(l);
    while (len && (l[len - 1] == '\r' || l[len - 1] == ' ' || l[len - 1] == '\t')) l[--len] = 0;
    char *sp = strchr(l, ' ');
    if (!sp || sp == l || !sp[1] || strchr(sp + 1, ' '))
      return fail(A2I2A_ERR_FORMAT, "%s: line %d: expected two symbols separated by one space, got '%.40s'", path,
                  r + 2, l);
    size_t na = (size_t)(sp - l), nb = len - na - 1;
    int a = sym_lookup(t, l, na), b = sym_lookup(t, sp + 1, nb);
    if (a < 0 || b < 0)
      return fail(A2I2A_ERR_FORMAT, "%s: line %d: symbol '%.*s' is not in the vocabulary", path, r + 2,
                  (int)(a < 0 ? na : nb), a < 0 ? l : sp + 1);
    char joined[512];
    if (na + nb >= sizeof joined) return fail(A2I2A_ERR_FORMAT, "%s: line %d: merge too long", path, r + 2);
    memcpy(joined, l, na);
    memcpy(joined + na, sp + 1, nb);
    joined[na + nb] = 0;
    int m;
    if (build_vocab) {
      m = 512 + r;
      if (add_symbol(t, m, joined, na + nb)) return A2I2A_ERR_NOMEM;
      sym_insert(t, m);
    } else {
      m = sym_lookup(t, joined, na + nb);
      if (m < 0)
        return fail(A2I2A_ERR_FORMAT, "%s: line %d: the merge '%s' is not in vocab.json", path, r + 2, joined);
    }
    pair_insert(t, a, b, r, m);
  }
  if (build_vocab) {
    int s = 512 + nmerges;
    if (add_symbol(t, s, "<|startoftext|>", 15) || add_symbol(t, s + 1, "<|endoftext|>", 13)) return A2I2A_ERR_NOMEM;
    sym_insert(t, s);
    sym_insert(t, s + 1);
    /* a merge result spelled twice in the vocabulary means its later id */
    for (size_t i = 0; i < t->pair_cap; i++)
      if (t->pairs[i].used) t->pairs[i].merged = sym_lookup(t, t->sym[t->pairs[i].merged], strlen(t->sym[t->pairs[i].merged]));
  }
  return A2I2A_OK;
}

/* The largest token id vocab.json may give: CLIP's vocabulary has 49408 tokens; the symbol
 * table is as long as the largest id. */
#define VOCAB_MAX_ID ((1 << 20) - 1)

static int parse_vocab(clip_tokenizer *t, const char *text, const char *path, size_t nmerges_hint) {
  cJSON *j = cJSON_Parse(text);
  if (!j || !cJSON_IsObject(j)) {
    cJSON_Delete(j);
    return fail(A2I2A_ERR_FORMAT, "%s: not a JSON object of token -> id", path);
  }
  int n = 0, maxid = -1;
  for (cJSON *e = j->child; e; e = e->next) {
    double v = e->valuedouble;
    if (!cJSON_IsNumber(e) || !(v >= 0 && v <= VOCAB_MAX_ID) || v != floor(v)) {
      /* the message names the entry: recorded before the entry is freed */
      int st = fail(A2I2A_ERR_FORMAT, "%s: the id of '%.40s' is not a whole number in [0, %d]", path, e->string,
                    VOCAB_MAX_ID);
      cJSON_Delete(j);
      return st;
    }
    if ((int)v > maxid) maxid = (int)v;
    n++;
  }
  if (n < 512) {
    cJSON_Delete(j);
    return fail(A2I2A_ERR_FORMAT, "%s: %d entries, a CLIP vocabulary has 49408", path, n);
  }
  if (alloc_tables(t, maxid + 1, nmerges_hint)) {
    cJSON_Delete(j);
    return A2I2A_ERR_NOMEM;
  }
  for (cJSON *e = j->child; e; e = e->next) {
    int id = (int)e->valuedouble;
    if (t->sym[id] || sym_lookup(t, e->string, strlen(e->string)) >= 0) {
      int st = fail(A2I2A_ERR_FORMAT, "%s: '%.40s' or its id %d appears twice", path, e->string, id);
      cJSON_Delete(j);
      return st;
    }
    if (add_symbol(t, id, e->string, strlen(e->string))) {
      cJSON_Delete(j);
      return A2I2A_ERR_NOMEM;
    }
    sym_insert(t, id);
  }
  cJSON_Delete(j);
  return A2I2A_OK;
}

static int find_byte_ids(clip_tokenizer *t, const char *path) {
  for (int b = 0; b < 256; b++) {
    char buf[16];
    snprintf(buf, sizeof buf, "%s</w>", t->byte_char[b]);
    t->byte_id[b] = sym_lookup(t, t->byte_char[b], strlen(t->byte_char[b]));
    t->byte_end_id[b] = sym_lookup(t, buf, strlen(buf));
    if (t->byte_id[b] < 0 || t->byte_end_id[b] < 0)
      return fail(A2I2A_ERR_FORMAT, "%s: the byte symbol '%s' is missing from the vocabulary", path,
                  t->byte_id[b] < 0 ? t->byte_char[b] : buf);
  }
  t->start_id = sym_lookup(t, "<|startoftext|>", 15);
  t->end_id = sym_lookup(t, "<|endoftext|>", 13);
  if (t->start_id < 0 || t->end_id < 0)
    return fail(A2I2A_ERR_FORMAT, "%s: <|startoftext|> or <|endoftext|> is missing from the vocabulary", path);
  return A2I2A_OK;
}

static void add_added(clip_tokenizer *t, const char *s, int id) {
  for (int i = 0; i < t->nadded; i++)
    if (!strcmp(t->added[i], s)) return;
  if (t->nadded == MAX_ADDED || !*s) return;
  t->added[t->nadded] = strdup(s);
  t->added_id[t->nadded++] = id;
}

/* The pad token of a tokenizer folder: tokenizer_config.json, else special_tokens_map.json
 * ("pad_token" is a string or {"content": ...}); NULL if neither names one. */
static char *config_pad_token(const char *dir, cJSON **added_decoder) {
  static const char *files[] = {"tokenizer_config.json", "special_tokens_map.json"};
  char *pad = NULL;
  *added_decoder = NULL;
  for (int i = 0; i < 2 && !pad; i++) {
    char path[4200], *text;
    size_t len;
    snprintf(path, sizeof path, "%s/%s", dir, files[i]);
    if (access(path, F_OK) != 0 || read_file(path, &text, &len)) continue;
    cJSON *j = cJSON_Parse(text);
    free(text);
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "pad_token");
    if (cJSON_IsObject(p)) p = cJSON_GetObjectItemCaseSensitive(p, "content");
    if (cJSON_IsString(p)) pad = strdup(p->valuestring);
    if (i == 0 && j) *added_decoder = cJSON_DetachItemFromObjectCaseSensitive(j, "added_tokens_decoder");
    cJSON_Delete(j);
  }
  return pad;
}

static int setup_specials(clip_tokenizer *t, const char *dir, int family) {
  add_added(t, "<|startoftext|>", t->start_id);
  add_added(t, "<|endoftext|>", t->end_id);
  cJSON *decoder = NULL;
  char *pad = dir ? config_pad_token(dir, &decoder) : NULL;
  if (!pad) pad = strdup(family == 2 ? "!" : "<|endoftext|>");
  /* transformers registers every special token (the pad token too) and every entry of
   * added_tokens_decoder as an added token: SD 2.x's "!" is split off like <|endoftext|>. */
  int pid = sym_lookup(t, pad, strlen(pad));
  for (cJSON *e = decoder ? decoder->child : NULL; e; e = e->next) {
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(e, "content");
    char *endp;
    long id = strtol(e->string, &endp, 10);
    if (cJSON_IsString(c) && !*endp && id >= 0 && id <= INT_MAX) {
      add_added(t, c->valuestring, (int)id);
      if (pid < 0 && !strcmp(c->valuestring, pad)) pid = (int)id;
    }
  }
  cJSON_Delete(decoder);
  if (pid < 0) {
    int r = fail(A2I2A_ERR_FORMAT, "%s: the pad token '%.40s' is not in the vocabulary", t->source, pad);
    free(pad);
    return r;
  }
  add_added(t, pad, pid);
  free(pad);
  t->pad_id = pid;
  return A2I2A_OK;
}

a2i2a_status tokenizer_bundled_path(char *path, size_t n) {
  const char *env = getenv("A2I2A_DATA");
  char exe[4096];
  if (env && *env) {
    snprintf(path, n, "%s/clip/%s", env, BUNDLED_NAME);
    if (access(path, R_OK) == 0) return A2I2A_OK;
  }
  ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (k > 0) {
    exe[k] = 0;
    char *slash = strrchr(exe, '/');
    if (slash) {
      *slash = 0;
      snprintf(path, n, "%s/../share/a2i2a/clip/%s", exe, BUNDLED_NAME);
      if (access(path, R_OK) == 0) return A2I2A_OK;
    }
  }
  snprintf(path, n, "%s/clip/%s", A2I2A_DATA_DIR, BUNDLED_NAME);
  if (access(path, R_OK) == 0) return A2I2A_OK;
  return fail(A2I2A_ERR_IO,
              "%s: the bundled CLIP merges are missing (looked in $A2I2A_DATA/clip, <program>/../share/a2i2a/clip "
              "and %s/clip); set A2I2A_DATA to the folder holding clip/%s",
              BUNDLED_NAME, A2I2A_DATA_DIR, BUNDLED_NAME);
}

a2i2a_status tokenizer_load_dir(clip_tokenizer **out, const char *dir, int family) {
  *out = NULL;
  clip_tokenizer *t = calloc(1, sizeof *t);
  if (!t) return fail(A2I2A_ERR_NOMEM, "out of memory loading the CLIP tokenizer");
  char *text = NULL;
  size_t len;
  a2i2a_status st;
  if (dir && *dir) {
    char vpath[4200], mpath[4200];
    snprintf(t->source, sizeof t->source, "%s", dir);
    snprintf(vpath, sizeof vpath, "%s/vocab.json", dir);
    snprintf(mpath, sizeof mpath, "%s/merges.txt", dir);
    if ((st = read_file(vpath, &text, &len)) || (st = parse_vocab(t, text, vpath, CLIP_MERGES))) goto done;
    free(text);
    text = NULL;
    bytes_to_unicode(t->byte_char, (int[256]){0});
    if ((st = find_byte_ids(t, vpath))) goto done;
    if ((st = read_file(mpath, &text, &len)) || (st = parse_merges(t, text, mpath, 0))) goto done;
  } else {
    if ((st = tokenizer_bundled_path(t->source, sizeof t->source))) goto done;
    if ((st = read_gzip(t->source, &text, &len)) || (st = parse_merges(t, text, t->source, 1))) goto done;
    if ((st = find_byte_ids(t, t->source))) goto done;
  }
  st = setup_specials(t, dir && *dir ? dir : NULL, family);
done:
  free(text);
  if (st) tokenizer_free(t);
  else *out = t;
  return st;
}

a2i2a_status tokenizer_load(clip_tokenizer **t, const sd_model *m) {
  if (m->family != 1 && m->family != 2)
    return fail(A2I2A_ERR_UNSUPPORTED, "%s: unknown model family %d (expected SD 1.x or 2.x)", m->path, m->family);
  if (!m->tokenizer_dir[0] && m->layout == SD_LAYOUT_DIFFUSERS) {
    /* a tokenizer/ folder without its files is a broken download, not "use the bundled one" */
    char dir[4200];
    struct stat sb;
    snprintf(dir, sizeof dir, "%s/tokenizer", m->path);
    if (stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode)) {
      char f[4300];
      snprintf(f, sizeof f, "%s/vocab.json", dir);
      const char *missing = access(f, R_OK) ? "vocab.json" : "merges.txt";
      return fail(A2I2A_ERR_MODEL, "%s: %s is missing (a CLIP tokenizer needs vocab.json and merges.txt)", dir,
                  missing);
    }
  }
  return tokenizer_load_dir(t, m->tokenizer_dir[0] ? m->tokenizer_dir : NULL, m->family);
}

void tokenizer_free(clip_tokenizer *t) {
  if (!t) return;
  for (int i = 0; i < t->nsym; i++) free(t->sym[i]);
  for (int i = 0; i < t->nadded; i++) free(t->added[i]);
  free(t->sym);
  free(t->str_slots);
  free(t->pairs);
  free(t);
}

int tokenizer_pad_id(const clip_tokenizer *t) { return t->pad_id; }
const char *tokenizer_source(const clip_tokenizer *t) { return t->source; }

const char *tokenizer_symbol(const clip_tokenizer *t, int id) {
  return id >= 0 && id < t->nsym ? t->sym[id] : NULL;
}

int tokenizer_token_text(const clip_tokenizer *t, int id, char *buf, size_t n) {
  if (id < 0 || id >= t->nsym || !t->sym[id] || n == 0) return -1;
  const char *s = t->sym[id];
  size_t o = 0;
  int special = !strcmp(s, "<|startoftext|>") || !strcmp(s, "<|endoftext|>");
  while (*s && o + 1 < n) {
    if (!special && !strcmp(s, "</w>")) {
      size_t k = strlen(s) < n - 1 - o ? strlen(s) : n - 1 - o;
      memcpy(buf + o, s, k);
      o += k;
      break;
    }
    utf8proc_int32_t cp;
    utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s, -1, &cp);
    if (k <= 0) break;
    int byte = -1;
    if (!special)
      for (int b = 0; b < 256; b++)
        if (!strncmp(t->byte_char[b], s, (size_t)k) && t->byte_char[b][k] == 0) byte = b;
    buf[o++] = byte >= 0 ? (char)byte : s[0];
    if (byte < 0) {
      for (int i = 1; i < k && o + 1 < n; i++) buf[o++] = s[i];
    }
    s += k;
  }
  buf[o] = 0;
  return 0;
}

/* ------------------------------------------------------------------ text clean-up (BasicTokenizer) */

typedef struct {
  int32_t *v;
  size_t n, cap;
} cps;

static int cps_push(cps *a, int32_t c) {
  if (a->n == a->cap) {
    size_t nc = a->cap ? 2 * a->cap : 256;
    int32_t *nv = realloc(a->v, nc * sizeof *nv);
    if (!nv) return fail(A2I2A_ERR_NOMEM, "out of memory tokenizing a prompt");
    a->v = nv;
    a->cap = nc;
  }
  a->v[a->n++] = c;
  return A2I2A_OK;
}

static int is_cjk(int32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

static int is_category_c(int32_t c) {
  utf8proc_category_t k = utf8proc_category(c);
  return k == UTF8PROC_CATEGORY_CC || k == UTF8PROC_CATEGORY_CF || k == UTF8PROC_CATEGORY_CS ||
         k == UTF8PROC_CATEGORY_CO || k == UTF8PROC_CATEGORY_CN;
}

/* Python's str.split() whitespace left after the clean-up (which turned the rest into spaces). */
static int is_split_space(int32_t c) { return c == ' ' || c == 0x2028 || c == 0x2029; }

/* Unicode "Cased" and "Case_Ignorable", as far as utf8proc exposes them: enough for the
 * Final_Sigma rule of Python's str.lower(). */
static int is_cased(int32_t c) {
  utf8proc_category_t k = utf8proc_category(c);
  return k == UTF8PROC_CATEGORY_LU || k == UTF8PROC_CATEGORY_LL || k == UTF8PROC_CATEGORY_LT ||
         utf8proc_tolower(c) != c || utf8proc_toupper(c) != c;
}

static int is_case_ignorable(int32_t c) {
  utf8proc_category_t k = utf8proc_category(c);
  if (k == UTF8PROC_CATEGORY_MN || k == UTF8PROC_CATEGORY_ME || k == UTF8PROC_CATEGORY_CF ||
      k == UTF8PROC_CATEGORY_LM || k == UTF8PROC_CATEGORY_SK)
    return 1;
  /* Word_Break MidLetter, MidNumLet, Single_Quote */
  static const int32_t mid[] = {0x27,   0x2E,   0x3A,   0xB7,   0x387,  0x55F,  0x5F4,  0x2018,
                                0x2019, 0x2024, 0x2027, 0xFE13, 0xFE52, 0xFE55, 0xFF07, 0xFF0E, 0xFF1A};
  for (size_t i = 0; i < sizeof mid / sizeof *mid; i++)
    if (c == mid[i]) return 1;
  return 0;
}

/* Python's str.lower() of one word w[0..n): the simple lower-case mapping, except İ (U+0130,
 * full mapping "i̇") and capital sigma, which becomes final sigma at the end of a word. */
static int lower_word(const int32_t *w, size_t n, cps *out) {
  for (size_t i = 0; i < n; i++) {
    int32_t c = w[i];
    if (c == 0x130) {
      if (cps_push(out, 'i') || cps_push(out, 0x307)) return A2I2A_ERR_NOMEM;
      continue;
    }
    if (c == 0x3A3) {
      size_t j = i;
      int32_t p = 0;
      int before = 0;
      while (j > 0) {
        p = w[--j];
        if (!is_case_ignorable(p)) {
          before = is_cased(p);
          break;
        }
      }
      int final = before;
      if (final) {
        size_t k = i + 1;
        while (k < n && is_case_ignorable(w[k])) k++;
        final = k == n || !is_cased(w[k]);
      }
      if (cps_push(out, final ? 0x3C2 : 0x3C3)) return A2I2A_ERR_NOMEM;
      continue;
    }
    if (cps_push(out, utf8proc_tolower(c))) return A2I2A_ERR_NOMEM;
  }
  return A2I2A_OK;
}

/* BasicTokenizer(do_lower_case, strip_accents=False, do_split_on_punc=False).tokenize, joined
 * with single spaces, as code points. */
static int clean_text(const char *s, size_t len, cps *out) {
  cps a = {0};
  size_t i = 0;
  int st = A2I2A_OK;
  while (i < len) {
    utf8proc_int32_t c;
    utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(len - i), &c);
    if (k <= 0) {
      free(a.v);
      return fail(A2I2A_ERR_PARAM, "the prompt is not valid UTF-8 (byte %zu)", i);
    }
    i += (size_t)k;
    if (c == 0 || c == 0xFFFD) continue;
    if (c == '\t' || c == '\n' || c == '\r') c = ' ';
    else if (is_category_c(c)) continue;
    else if (utf8proc_category(c) == UTF8PROC_CATEGORY_ZS) c = ' ';
    if (is_cjk(c)) st = cps_push(&a, ' ') || cps_push(&a, c) || cps_push(&a, ' ');
    else st = cps_push(&a, c);
    if (st) {
      free(a.v);
      return A2I2A_ERR_NOMEM;
    }
  }
  /* NFC over the whole text (it has no U+0000 left, so a terminated UTF-8 string is fine) */
  utf8proc_uint8_t *u = malloc(4 * a.n + 1);
  if (!u) {
    free(a.v);
    return fail(A2I2A_ERR_NOMEM, "out of memory tokenizing a prompt");
  }
  size_t o = 0;
  for (size_t j = 0; j < a.n; j++) o += (size_t)utf8proc_encode_char(a.v[j], u + o);
  u[o] = 0;
  free(a.v);
  a = (cps){0};
  utf8proc_uint8_t *nfc = utf8proc_NFC(u);
  free(u);
  if (!nfc) return fail(A2I2A_ERR_NOMEM, "out of memory normalising a prompt");
  for (const utf8proc_uint8_t *p = nfc; *p;) {
    utf8proc_int32_t c;
    utf8proc_ssize_t k = utf8proc_iterate(p, -1, &c);
    if (k <= 0 || cps_push(&a, c)) break;
    p += k;
  }
  free(nfc);
  /* whitespace split, lower-case each word, join with one space */
  for (size_t j = 0; j < a.n && !st;) {
    while (j < a.n && is_split_space(a.v[j])) j++;
    size_t b = j;
    while (j < a.n && !is_split_space(a.v[j])) j++;
    if (j == b) break;
    if (out->n) st = cps_push(out, ' ');
    if (!st) st = lower_word(a.v + b, j - b, out);
  }
  free(a.v);
  return st;
}

/* ------------------------------------------------------------------ words and BPE */

/* \p{L} under IGNORECASE: a character also matches when one of its case partners is a letter
 * (U+0345 COMBINING YPOGEGRAMMENI, whose upper case is Ι). */
static int is_letter1(int32_t c) {
  utf8proc_category_t k = utf8proc_category(c);
  return k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO;
}
static int is_letter(int32_t c) {
  return is_letter1(c) || is_letter1(utf8proc_toupper(c)) || is_letter1(utf8proc_tolower(c));
}
static int is_number(int32_t c) {
  utf8proc_category_t k = utf8proc_category(c);
  return k == UTF8PROC_CATEGORY_ND || k == UTF8PROC_CATEGORY_NL || k == UTF8PROC_CATEGORY_NO;
}

/* ignore-case match of an ASCII-lower-case literal at w[i..]; U+017F ſ folds to s */
static size_t match_literal(const int32_t *w, size_t n, size_t i, const char *lit) {
  size_t k = 0;
  for (; lit[k]; k++) {
    if (i + k >= n) return 0;
    int32_t c = w[i + k];
    if (c == 0x17F) c = 's';
    if (c < 128 && c >= 'A' && c <= 'Z') c += 32;
    if (c != (unsigned char)lit[k]) return 0;
  }
  return k;
}

typedef struct {
  int *v;
  int n, cap;
} ids_buf;

static int ids_push(ids_buf *b, int id) {
  if (b->n == b->cap) {
    int nc = b->cap ? 2 * b->cap : 128;
    int *nv = realloc(b->v, (size_t)nc * sizeof *nv);
    if (!nv) return fail(A2I2A_ERR_NOMEM, "out of memory tokenizing a prompt");
    b->v = nv;
    b->cap = nc;
  }
  b->v[b->n++] = id;
  return A2I2A_OK;
}

/* Byte-level BPE of one word (its UTF-8 bytes, nb > 0): merge the lowest-ranked adjacent pair
 * everywhere, left to right, until no pair is a merge. */
static int bpe_word(const clip_tokenizer *t, const uint8_t *bytes, size_t nb, ids_buf *out) {
  int stack[64], *w = nb <= 64 ? stack : malloc(nb * sizeof *w);
  if (!w) return fail(A2I2A_ERR_NOMEM, "out of memory tokenizing a prompt");
  int n = (int)nb;
  for (int i = 0; i < n; i++) w[i] = i == n - 1 ? t->byte_end_id[bytes[i]] : t->byte_id[bytes[i]];
  while (n > 1) {
    int best = INT_MAX, first = -1, second = -1, merged = -1;
    for (int i = 0; i + 1 < n; i++) {
      const pair_slot *p = pair_lookup(t, w[i], w[i + 1]);
      if (p && p->rank < best) {
        best = p->rank;
        first = w[i];
        second = w[i + 1];
        merged = p->merged;
      }
    }
    if (first < 0) break;
    int o = 0;
    for (int i = 0; i < n;) {
      if (i + 1 < n && w[i] == first && w[i + 1] == second) {
        w[o++] = merged;
        i += 2;
      } else
        w[o++] = w[i++];
    }
    n = o;
  }
  int st = A2I2A_OK;
  for (int i = 0; i < n && !st; i++) st = ids_push(out, w[i]);
  if (w != stack) free(w);
  return st;
}

static int encode_word(const clip_tokenizer *t, const int32_t *w, size_t n, ids_buf *out) {
  uint8_t stack[256], *b = n * 4 <= sizeof stack ? stack : malloc(n * 4);
  if (!b) return fail(A2I2A_ERR_NOMEM, "out of memory tokenizing a prompt");
  size_t nb = 0;
  for (size_t i = 0; i < n; i++) nb += (size_t)utf8proc_encode_char(w[i], b + nb);
  int st;
  /* the BPE cache starts with the two special strings, which map to themselves */
  if (nb == 15 && !memcmp(b, "<|startoftext|>", 15)) st = ids_push(out, t->start_id);
  else if (nb == 13 && !memcmp(b, "<|endoftext|>", 13)) st = ids_push(out, t->end_id);
  else st = bpe_word(t, b, nb, out);
  if (b != stack) free(b);
  return st;
}

/* CLIP's pattern, alternatives tried in order at each position:
 * <\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+ */
static int encode_chunk(const clip_tokenizer *t, const char *s, size_t len, ids_buf *out) {
  cps text = {0};
  int st = clean_text(s, len, &text);
  static const char *lits[] = {"<|startoftext|>", "<|endoftext|>", "'s", "'t", "'re", "'ve", "'m", "'ll", "'d"};
  const int32_t *w = text.v;
  size_t n = text.n;
  for (size_t i = 0; i < n && !st;) {
    if (w[i] == ' ') {
      i++;
      continue;
    }
    size_t k = 0;
    for (size_t a = 0; a < sizeof lits / sizeof *lits && !k; a++) k = match_literal(w, n, i, lits[a]);
    if (!k) {
      if (is_letter(w[i]))
        while (i + k < n && is_letter(w[i + k])) k++;
      else if (is_number(w[i])) k = 1;
      else
        while (i + k < n && w[i + k] != ' ' && !is_letter(w[i + k]) && !is_number(w[i + k])) k++;
    }
    st = encode_word(t, w + i, k, out);
    i += k;
  }
  free(text.v);
  return st;
}

a2i2a_status tokenizer_tokens(clip_tokenizer *t, const char *text, size_t len, int **ids, int *n) {
  *ids = NULL;
  *n = 0;
  if (len > MAX_TEXT_BYTES) return fail(A2I2A_ERR_LIMIT, "the prompt is %zu bytes long (at most %d)", len, MAX_TEXT_BYTES);
  ids_buf out = {0};
  int st = A2I2A_OK;
  /* split on the added tokens by exact, case-sensitive match (leftmost; none is a prefix of another) */
  size_t chunk = 0, i = 0;
  while (i <= len && !st) {
    int hit = -1;
    size_t hl = 0;
    if (i < len)
      for (int a = 0; a < t->nadded; a++) {
        size_t l = strlen(t->added[a]);
        if (l <= len - i && !memcmp(text + i, t->added[a], l) && l > hl) {
          hit = a;
          hl = l;
        }
      }
    if (hit >= 0 || i == len) {
      if (i > chunk) st = encode_chunk(t, text + chunk, i - chunk, &out);
      if (hit >= 0 && !st) st = ids_push(&out, t->added_id[hit]);
      i += hit >= 0 ? hl : 1;
      chunk = i;
    } else
      i++;
  }
  if (st) {
    free(out.v);
    return st;
  }
  *ids = out.v;
  *n = out.n;
  return A2I2A_OK;
}

a2i2a_status tokenizer_encode(clip_tokenizer *t, const char *text, int ids[CLIP_CTX], int *dropped) {
  return tokenizer_encode_len(t, text, strlen(text), ids, dropped);
}

a2i2a_status tokenizer_encode_len(clip_tokenizer *t, const char *text, size_t len, int ids[CLIP_CTX], int *dropped) {
  int *all, n;
  a2i2a_status st = tokenizer_tokens(t, text, len, &all, &n);
  if (st) return st;
  int keep = n < CLIP_CTX - 2 ? n : CLIP_CTX - 2;
  ids[0] = t->start_id;
  for (int i = 0; i < keep; i++) ids[1 + i] = all[i];
  ids[1 + keep] = t->end_id;
  for (int i = 2 + keep; i < CLIP_CTX; i++) ids[i] = t->pad_id;
  if (dropped) *dropped = n - keep;
  free(all);
  return A2I2A_OK;
}
