#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "sd/clip.h"
#include "verify/verify.h"

/* Decodes a hex string into a new NUL-terminated buffer (NULL if malformed). */
static char *hex_decode(const char *hex, size_t *len) {
  size_t n = strlen(hex);
  *len = n / 2;
  if (n % 2) return NULL;
  char *s = malloc(n / 2 + 1);
  for (size_t i = 0; s && i < n / 2; i++) {
    unsigned v;
    if (sscanf(hex + 2 * i, "%2x", &v) != 1) {
      free(s);
      return NULL;
    }
    s[i] = (char)v;
  }
  if (s) s[n / 2] = 0;
  return s;
}

/* Number of positions where ids differ from the JSON array ref (77 + 1 if the lengths differ). */
static int count_mismatch(const int ids[CLIP_CTX], const cJSON *ref) {
  int bad = cJSON_GetArraySize(ref) != CLIP_CTX;
  for (int i = 0; i < CLIP_CTX; i++) {
    const cJSON *e = cJSON_GetArrayItem(ref, i);
    if (!cJSON_IsNumber(e) || e->valueint != ids[i]) bad++;
  }
  return bad;
}

typedef struct {
  clip_tokenizer *tok;
  char label[300]; /* e.g. "tiny-sd1/tokenizer" or "bundled merges" */
  const char *field; /* "ids_sd1" (pad 49407) or "ids_sd2" (pad 0) */
} tok_source;

/* Checks every prompt of prompts.json with one tokenizer: one line per prompt (the number of
 * wrong ids as the "error", tolerance 0), or one summary line when summary is set. */
static void check_source(verify_ctx *v, const cJSON *prompts, const tok_source *s, int summary) {
  int bad_prompts = 0, worst = 0;
  char first_bad[400] = "";
  const cJSON *p;
  cJSON_ArrayForEach(p, prompts) {
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(p, "name");
    const cJSON *hex = cJSON_GetObjectItemCaseSensitive(p, "prompt_utf8_hex");
    const cJSON *ref = cJSON_GetObjectItemCaseSensitive(p, s->field);
    const cJSON *untr = cJSON_GetObjectItemCaseSensitive(p, "num_tokens_untruncated");
    char line[400];
    snprintf(line, sizeof line, "tokenizer.%s.%s", cJSON_IsString(name) ? name->valuestring : "?",
             s->field + 4);
    size_t len = 0;
    char *text = cJSON_IsString(hex) ? hex_decode(hex->valuestring, &len) : NULL;
    if (!text || !cJSON_IsArray(ref)) {
      free(text);
      verify_error(v, line, "prompts.json: entry without prompt_utf8_hex or ids");
      continue;
    }
    int ids[CLIP_CTX], dropped = 0, bad;
    if (tokenizer_encode_len(s->tok, text, len, ids, &dropped)) {
      bad = CLIP_CTX;
    } else {
      bad = count_mismatch(ids, ref);
      /* the number of content tokens cut off: untruncated count minus start/end, minus 75 */
      int want = cJSON_IsNumber(untr) && untr->valueint > CLIP_CTX ? untr->valueint - CLIP_CTX : 0;
      if (dropped != want) bad++;
    }
    free(text);
    if (bad) {
      bad_prompts++;
      if (!first_bad[0]) snprintf(first_bad, sizeof first_bad, "%s", line);
    }
    if (bad > worst) worst = bad;
    if (!summary) verify_line(v, line, bad, 0, bad == 0);
  }
  if (summary) {
    char line[400];
    snprintf(line, sizeof line, "tokenizer.all_prompts.%s.%s", s->field + 4, s->label);
    verify_line(v, line, bad_prompts, 0, bad_prompts == 0);
    if (bad_prompts) printf("  (%d prompts differ, e.g. %s; worst %d ids)\n", bad_prompts, first_bad, worst);
  }
}

/* tokenizer/prompts.json: every prompt, both paddings, with the tokenizer of each model folder
 * found next to it (FOLDER/tokenizer/vocab.json; its pad token says which ids it must give:
 * 49407 -> ids_sd1, 0 -> ids_sd2), and with the bundled OpenAI merges for both families. */
void verify_tokenizer(verify_ctx *v, const char *json_path) {
  cJSON *j = verify_read_json(json_path);
  if (!j) {
    verify_error(v, "tokenizer", a2i2a_last_error());
    return;
  }
  const cJSON *prompts = cJSON_GetObjectItemCaseSensitive(j, "prompts");
  if (!cJSON_IsArray(prompts) || cJSON_GetArraySize(prompts) == 0) {
    verify_error(v, "tokenizer", "prompts.json: no 'prompts' array");
    cJSON_Delete(j);
    return;
  }
  const cJSON *special = cJSON_GetObjectItemCaseSensitive(j, "special_ids");
  const cJSON *eot = cJSON_GetObjectItemCaseSensitive(special, "<|endoftext|>");
  const cJSON *bang = cJSON_GetObjectItemCaseSensitive(special, "!");
  int pad_sd1 = cJSON_IsNumber(eot) ? eot->valueint : 49407, pad_sd2 = cJSON_IsNumber(bang) ? bang->valueint : 0;

  /* the model folders in the fixtures folder, sorted by name */
  char **dirs = NULL;
  int nd = 0;
  DIR *d = opendir(v->dir);
  struct dirent *e;
  while (d && (e = readdir(d))) {
    char path[4400];
    snprintf(path, sizeof path, "%s/%s/tokenizer/vocab.json", v->dir, e->d_name);
    if (e->d_name[0] != '.' && access(path, F_OK) == 0) {
      dirs = realloc(dirs, (size_t)(nd + 1) * sizeof *dirs);
      dirs[nd++] = strdup(e->d_name);
    }
  }
  if (d) closedir(d);
  for (int a = 0; a < nd; a++)
    for (int b = a + 1; b < nd; b++)
      if (strcmp(dirs[a], dirs[b]) > 0) {
        char *x = dirs[a];
        dirs[a] = dirs[b];
        dirs[b] = x;
      }
  for (int i = 0; i < nd; i++) {
    tok_source s = {0};
    char path[4400];
    snprintf(path, sizeof path, "%s/%s/tokenizer", v->dir, dirs[i]);
    snprintf(s.label, sizeof s.label, "%s/tokenizer", dirs[i]);
    if (tokenizer_load_dir(&s.tok, path, 0)) {
      verify_error(v, s.label, a2i2a_last_error());
    } else {
      int pad = tokenizer_pad_id(s.tok);
      s.field = pad == pad_sd1 ? "ids_sd1" : pad == pad_sd2 ? "ids_sd2" : NULL;
      if (!s.field) verify_skip(v, s.label, "its pad token matches neither padding of prompts.json");
      else check_source(v, prompts, &s, 0);
      tokenizer_free(s.tok);
    }
    free(dirs[i]);
  }
  free(dirs);
  for (int family = 1; family <= 2; family++) {
    tok_source s = {.field = family == 1 ? "ids_sd1" : "ids_sd2"};
    snprintf(s.label, sizeof s.label, "bundled_merges");
    if (tokenizer_load_dir(&s.tok, NULL, family)) {
      verify_error(v, "tokenizer.bundled_merges", a2i2a_last_error());
      continue;
    }
    check_source(v, prompts, &s, 1);
    tokenizer_free(s.tok);
  }
  cJSON_Delete(j);
}
