/* run.json: every parameter survives a write and a read exactly; bad files are refused with
 * one line naming the file and the field. */
#include <cjson/cJSON.h>
#include <unistd.h>

#include "chain/chain.h"
#include "chain/params.h"
#include "check.h"

static char dir[] = "/tmp/a2i2a_runjson_XXXXXX";

static const char *write_text(const char *name, const char *text) {
  static char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  fputs(text, f);
  fclose(f);
  return path;
}

static char *read_text(const char *path) {
  static char text[1 << 16];
  FILE *f = fopen(path, "r");
  size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
  if (f) fclose(f);
  text[n] = 0;
  return text;
}

/* A value for d other than the default preset's, within its range. */
static void set_other(const param_def *d, int i, a2i2a_run_params *p, const a2i2a_run_params *dflt, char *text) {
  void *f = param_field(d, p);
  switch (d->type) {
  case PARAM_INT: {
    int v = d->step ? (int)d->max : (int)d->min + 1 + i;
    if (v > d->max) v = (int)d->max;
    if (v == *(const int *)param_cfield(d, dflt)) v = (int)d->min;
    *(int *)f = v;
    break;
  }
  case PARAM_NUMBER: *(double *)f = d->min + (d->max - d->min) / (11 + i); break;
  case PARAM_SEED: *(uint64_t *)f = UINT64_MAX - (uint64_t)i; break;
  case PARAM_FLAG: *(int *)f = !*(const int *)param_cfield(d, dflt); break;
  case PARAM_TEXT: sprintf(text, "text %d \"quoted\" ünï\n", i), *(const char **)f = text; break;
  case PARAM_CHOICE: {
    const char *last = registry_entry(d->choices, d->choices->count - 1)->name;
    const char *before = registry_entry(d->choices, d->choices->count - 2)->name;
    const char *now = *(const char *const *)param_cfield(d, dflt);
    if (d->flags & PARAM_LIST) sprintf(text, "%s,%s", last, before), *(const char **)f = text;
    else *(const char **)f = now && !strcmp(now, last) ? before : last;
    break;
  }
  }
}

/* r written and read back: every row under its key, read back into its field, and none at its
 * default but the one named off (travel.frames and clips.seconds exclude each other). */
static void roundtrip(chain_record *r, const a2i2a_run_params *dflt, const char *off) {
  CHECK(params_check(&r->p) == A2I2A_OK, "the values are valid: %s", a2i2a_last_error());
  r->input_path = "/in.wav", r->input_sha256 = "00", r->model_sha256 = "11", r->version = "9", r->threads = 1;
  r->taesd_sha256 = "22"; /* the TAESD (a text the loop set) has its fingerprint */
  char path[4096];
  chain_record back;
  snprintf(path, sizeof path, "%s/every-%s.json", dir, off);
  CHECK(chain_runjson_write(path, r, 0) == A2I2A_OK, "write: %s", a2i2a_last_error());
  cJSON *root = cJSON_Parse(read_text(path));
  for (int i = 0; i < param_count(); i++) {
    const param_def *d = param_at(i);
    const char *dot = strchr(d->entry.name, '.');
    char section[32] = "";
    if (dot) snprintf(section, sizeof section, "%.*s", (int)(dot - d->entry.name), d->entry.name);
    const cJSON *o = dot ? cJSON_GetObjectItemCaseSensitive(root, section) : root;
    CHECK(cJSON_GetObjectItemCaseSensitive(o, dot ? dot + 1 : d->entry.name), "%s is not written", d->entry.name);
  }
  cJSON_Delete(root);
  CHECK(chain_runjson_read(path, &back) == A2I2A_OK, "read: %s", a2i2a_last_error());
  for (int i = 0; i < param_count(); i++) {
    const param_def *d = param_at(i);
    const void *a = param_cfield(d, &back.p), *b = param_cfield(d, &r->p);
    if (d->type == PARAM_TEXT || d->type == PARAM_CHOICE)
      CHECK(!strcmp(*(const char *const *)a, *(const char *const *)b), "%s: read %s, wrote %s", d->entry.name,
            *(const char *const *)a, *(const char *const *)b);
    else
      CHECK(!memcmp(a, b, d->size), "%s: read back differs", d->entry.name);
    if (strcmp(d->entry.name, off)) CHECK(memcmp(b, param_cfield(d, dflt), d->size), "%s kept its default", d->entry.name);
  }
  chain_record_free(&back);
}

/* Every row of the parameters' table is written under its key and read back into its field:
 * with clips, then with a travel over frames instead. */
static void check_every_field(void) {
  chain_record r = {0};
  a2i2a_run_params dflt;
  a2i2a_run_preset(NULL, &dflt);
  r.p = dflt;
  static char texts[64][64];
  for (int i = 0; i < param_count(); i++) set_other(param_at(i), i, &r.p, &dflt, texts[i]);
  int frames = r.p.frames;
  r.p.frames = 0;
  roundtrip(&r, &dflt, "travel.frames");
  r.p.frames = frames, r.p.clip_seconds = 0;
  roundtrip(&r, &dflt, "clips.seconds");
}

/* Replace the first "key": VALUE in the file's text by "key": with, into name. */
static const char *with_value(const char *text, const char *key, const char *value, const char *name) {
  static char out[1 << 16];
  char pat[64];
  snprintf(pat, sizeof pat, "\"%s\":", key);
  const char *k = strstr(text, pat), *e = k ? k + strlen(pat) : NULL;
  while (e && *e && *e != ',' && *e != '\n' && *e != '}') e++;
  snprintf(out, sizeof out, "%.*s%s %s%s", (int)(k - text), text, pat, value, e);
  return write_text(name, out);
}

int main(void) {
  CHECK(mkdtemp(dir) != NULL, "mkdtemp");
  check_every_field();
  chain_record r = {0}, back;
  CHECK(a2i2a_run_preset("riffusion", &r.p) == A2I2A_OK, "preset");
  r.p.i2i.seed = 18446744073709551615ull; /* beyond a double's exact range */
  r.p.i2a.seed = 9007199254740993ull;
  r.p.i2i.strength = 0.1 + 0.2; /* not a short decimal */
  r.p.a2i.fmax = 1.0 / 3.0;
  r.p.i2i.spacing = NULL;
  r.p.i2i.prompt = "quotes \" and \\ and ünïcödé\nnewline";
  r.input_path = "/some/where/in put.wav";
  r.input_sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  r.p.model = "riffusion/riffusion-model-v1";
  r.model_sha256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  r.version = "0.1.0";
  r.threads = 3;
  r.noutputs = 2;
  r.output_name[0] = "art.png";
  r.output_sha256[0] = "aa";
  r.output_name[1] = "inverse.wav";
  r.output_sha256[1] = "bb";
  char path[4096];
  snprintf(path, sizeof path, "%s/run.json", dir);
  CHECK(chain_runjson_write(path, &r, 0) == A2I2A_OK, "write: %s", a2i2a_last_error());
  CHECK(chain_runjson_write(path, &r, 0) == A2I2A_ERR_EXISTS, "no overwrite without force");
  CHECK(chain_runjson_read(path, &back) == A2I2A_OK, "read: %s", a2i2a_last_error());
  CHECK(back.p.i2i.seed == r.p.i2i.seed && back.p.i2a.seed == r.p.i2a.seed, "seeds %llu %llu",
        (unsigned long long)back.p.i2i.seed, (unsigned long long)back.p.i2a.seed);
  CHECK(back.p.i2i.strength == r.p.i2i.strength && back.p.a2i.fmax == r.p.a2i.fmax, "doubles exact");
  CHECK(back.p.i2i.guidance == 7 && back.p.i2i.steps == 50 && !strcmp(back.p.i2i.sampler, "dpm++2m"), "i2i");
  CHECK(back.p.i2i.spacing == NULL && back.p.a2i.colormap == NULL, "nulls stay null");
  CHECK(!strcmp(back.p.i2i.prompt, r.p.i2i.prompt), "prompt: %s", back.p.i2i.prompt);
  CHECK(!strcmp(back.p.i2i.negative_prompt, ""), "empty negative");
  CHECK(!strcmp(back.p.a2i.style, "riffusion") && !strcmp(back.p.readings, "inverse"), "style/readings");
  CHECK(back.p.clip_seconds == r.p.clip_seconds && back.p.overlap_seconds == 0.2 && back.p.sheet == 1, "clips");
  CHECK(!strcmp(back.p.preset, "riffusion") && !strcmp(back.p.model, r.p.model), "preset/model");
  CHECK(!strcmp(back.input_path, r.input_path) && !strcmp(back.input_sha256, r.input_sha256), "input");
  CHECK(!strcmp(back.model_sha256, r.model_sha256) && back.threads == 3 && !strcmp(back.version, "0.1.0"), "model");
  CHECK(back.noutputs == 2 && !strcmp(back.output_name[1], "inverse.wav") && !strcmp(back.output_sha256[1], "bb"),
        "outputs");
  chain_record_free(&back);

  /* broken files */
  const char *p = write_text("bad1.json", "{\"program\": \"a2i2a\"");
  CHECK(chain_runjson_read(p, &back) == A2I2A_ERR_FORMAT && strstr(a2i2a_last_error(), p), "truncated JSON: %s",
        a2i2a_last_error());
  p = write_text("bad2.json", "{\"program\": \"other\"}");
  CHECK(chain_runjson_read(p, &back) == A2I2A_ERR_FORMAT, "foreign JSON");
  /* the real file with one field removed, then one field of the wrong type */
  FILE *f = fopen(path, "r");
  static char text[1 << 16];
  size_t n = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[n] = 0;
  char *k = strstr(text, "\"guidance\"");
  char broken[1 << 16];
  snprintf(broken, sizeof broken, "%.*s\"guidanc\"%s", (int)(k - text), text, k + 10);
  p = write_text("bad3.json", broken);
  CHECK(chain_runjson_read(p, &back) == A2I2A_ERR_FORMAT && strstr(a2i2a_last_error(), "i2i.guidance") &&
            strstr(a2i2a_last_error(), p),
        "missing field: %s", a2i2a_last_error());
  k = strstr(text, "\"steps\":");
  snprintf(broken, sizeof broken, "%.*s\"steps\": \"fifty\", \"x\":%s", (int)(k - text), text, k + 8);
  p = write_text("bad4.json", broken);
  CHECK(chain_runjson_read(p, &back) == A2I2A_ERR_FORMAT && strstr(a2i2a_last_error(), "i2i.steps"),
        "wrong type: %s", a2i2a_last_error());
  CHECK(chain_runjson_read("/nonexistent/run.json", &back) == A2I2A_ERR_IO, "missing file");

  /* the values pass the CLI's ranges: one line naming the file and the key */
  p = with_value(text, "gl_iters", "1000000000", "hostile1.json");
  CHECK(chain_runjson_read(p, &back) == A2I2A_ERR_FORMAT && strstr(a2i2a_last_error(), p) &&
            strstr(a2i2a_last_error(), "i2a.gl_iters") && !strchr(a2i2a_last_error(), '\n'),
        "gl_iters 1e9: %s", a2i2a_last_error());
  p = with_value(text, "threads", "100000", "hostile2.json");
  CHECK(chain_runjson_read(p, &back) == A2I2A_ERR_FORMAT && strstr(a2i2a_last_error(), "threads"), "threads: %s",
        a2i2a_last_error());
  p = with_value(text, "sampler", "\"heun\"", "hostile3.json");
  CHECK(chain_runjson_read(p, &back) == A2I2A_ERR_FORMAT && strstr(a2i2a_last_error(), "i2i.sampler"),
        "sampler: %s", a2i2a_last_error());
  p = with_value(text, "overlap_seconds", "3", "hostile4.json");
  CHECK(chain_runjson_read(p, &back) == A2I2A_ERR_FORMAT && strstr(a2i2a_last_error(), "overlap"), "overlap: %s",
        a2i2a_last_error());
  /* keys added after the first run.json may be missing; the others may not */
  k = strstr(text, "\"prediction\"");
  snprintf(broken, sizeof broken, "%.*s\"predictio\"%s", (int)(k - text), text, k + 12);
  p = write_text("older.json", broken);
  CHECK(chain_runjson_read(p, &back) == A2I2A_OK && back.p.i2i.prediction == NULL, "no prediction: %s",
        a2i2a_last_error());
  chain_record_free(&back);

  char cmd[4200];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  CHECK(system(cmd) == 0, "cleanup");
  return check_done();
}
