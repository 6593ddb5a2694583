/* a2i2a_run_replay of a run that sets every run.json field to a value other than its default
 * (the tiny model, few steps; readings that take seconds, sample_rate, fmin and fmax): the
 * replay makes the same bytes, and each field read back is what the run used. A run.json
 * written before the newer keys existed (here: the same file without them) still replays, and
 * one without "sheet_layout" draws the first layout of sheet.png again. */
#include <cjson/cJSON.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chain/chain.h"
#include "chain/params.h"
#include "support/taesd_make.h"
#include "check.h"
#include "common/sha256.h"
#include "support/random_vocoder.h"

static char dir[] = "/tmp/a2i2a_replay_XXXXXX";

static int same_file(const char *a, const char *b) {
  FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
  int same = fa && fb;
  while (same) {
    int ca = fgetc(fa), cb = fgetc(fb);
    same = ca == cb;
    if (ca == EOF) break;
  }
  if (fa) fclose(fa);
  if (fb) fclose(fb);
  return same;
}

/* Runs p into DIR/name, replays it into DIR/name-again, compares every output. */
static void run_and_replay(a2i2a_model *m, const a2i2a_run_params *p, const char *name, chain_record *rec) {
  char out[4200], again[4300], json[4400];
  snprintf(out, sizeof out, "%s/%s", dir, name);
  snprintf(again, sizeof again, "%s-again", out);
  snprintf(json, sizeof json, "%s/run.json", out);
  CHECK(a2i2a_run(m, "examples/sampling.wav", out, p, 0, NULL) == A2I2A_OK, "%s: %s", name, a2i2a_last_error());
  CHECK(chain_runjson_read(json, rec) == A2I2A_OK, "%s: read: %s", name, a2i2a_last_error());
  CHECK(a2i2a_run_replay(json, NULL, NULL, again, 0, NULL) == A2I2A_OK, "%s: replay: %s", name, a2i2a_last_error());
  for (int k = 0; k < rec->noutputs; k++) {
    char a[4500], b[4500];
    snprintf(a, sizeof a, "%s/%s", out, rec->output_name[k]);
    snprintf(b, sizeof b, "%s/%s", again, rec->output_name[k]);
    CHECK(same_file(a, b), "%s: %s differs in the replay", name, rec->output_name[k]);
  }
}

/* Every field of the record's parameters equals the run's (the model as its absolute path). */
static void check_fields(const chain_record *rec, const a2i2a_run_params *p) {
  for (int i = 0; i < param_count(); i++) {
    const param_def *d = param_at(i);
    const void *a = param_cfield(d, &rec->p), *b = param_cfield(d, p);
    if (d->type == PARAM_TEXT || d->type == PARAM_CHOICE) {
      const char *sa = *(const char *const *)a, *sb = *(const char *const *)b;
      if (d->offset == offsetof(a2i2a_run_params, model))
        CHECK(sa && sa[0] == '/' && strstr(sa, "examples/tiny-sd1"), "model.name: %s", sa ? sa : "null");
      else
        CHECK(sa && sb ? !strcmp(sa, sb) : sa == sb, "%s: read back %s, written %s", d->entry.name, sa ? sa : "null",
              sb ? sb : "null");
    } else {
      CHECK(!memcmp(a, b, d->size), "%s read back differs", d->entry.name);
    }
  }
}

int main(void) {
  CHECK(mkdtemp(dir) != NULL, "mkdtemp");
  a2i2a_model *m = NULL;
  CHECK(a2i2a_model_open("examples/tiny-sd1", &m) == A2I2A_OK, "tiny model: %s", a2i2a_last_error());
  if (!m) return check_done();

  /* every field away from its default; a TAESD of 8 channels made here */
  char taesd[4200];
  snprintf(taesd, sizeof taesd, "%s/taesd", dir);
  CHECK(mkdir(taesd, 0755) == 0 && taesd_make(taesd, 8, 3) == A2I2A_OK, "TAESD: %s", a2i2a_last_error());
  a2i2a_run_params dflt, p;
  a2i2a_run_preset(NULL, &dflt);
  a2i2a_run_preset("seed", &p);
  p.preset = "turbo";
  p.a2i = (a2i2a_a2i_params){.style = "fullband", .width = 64, .height = 64, .stereo = 1, .db_range = 60,
                             .fmin = 40, .fmax = 12000, .colormap = "aurora", .max_seconds = 100};
  p.model = "examples/tiny-sd1";
  p.i2i = (a2i2a_i2i_params){.prompt = "wet \"slate\", ünïcödé", .negative_prompt = "no \\ backslash",
                             .strength = 0.7, .guidance = 3, .steps = 3, .sampler = "euler-a", .spacing = "trailing",
                             .seed = 18446744073709551557ull, .clip_skip = 2, .prediction = "v", .width = 56,
                             .height = 48, .tile = "x", .alpha = 0.25,
                             .to_seed = 3, .to_prompt = "elsewhere", .to_negative_prompt = "not there",
                             .to_strength = 0.5, .to_guidance = 4, .taesd = taesd, .low_memory = 1};
  static char vocoder[64];
  snprintf(vocoder, sizeof vocoder, "%s/vocos", dir);
  CHECK(mkdir(vocoder, 0755) == 0 && write_random_vocos(vocoder, 16, 32, 1, 1) == A2I2A_OK, "a vocoder: %s",
        a2i2a_last_error());
  p.readings = "sines,noise,scan,vocoder";
  p.i2a = (a2i2a_i2a_params){.seed = 7, .gl_iters = 5, .bits = 24, .seconds = 0.5, .sample_rate = 16000,
                             .fmin = 100, .fmax = 4000, .vocoder = vocoder, .output_rate = 22050, .loudness = -20,
                             .true_peak = -3};
  p.clip_seconds = 2.5;
  p.overlap_seconds = 0.25;
  p.sheet = 0;
  p.travel = "loop"; /* over the clips */
  for (int i = 0; i < param_count(); i++) {
    const param_def *d = param_at(i);
    if (d->offset == offsetof(a2i2a_run_params, frames)) continue; /* frames exclude clips: below */
    const void *a = param_cfield(d, &p), *b = param_cfield(d, &dflt);
    int same = d->type == PARAM_TEXT || d->type == PARAM_CHOICE
                   ? (*(const char *const *)a && *(const char *const *)b
                          ? !strcmp(*(const char *const *)a, *(const char *const *)b)
                          : *(const char *const *)a == *(const char *const *)b)
                   : !memcmp(a, b, d->size);
    CHECK(!same, "the test leaves %s at its default", d->entry.name);
  }
  chain_record rec;
  run_and_replay(m, &p, "every", &rec);
  check_fields(&rec, &p);
  CHECK(rec.noutputs == 6, "spectrogram, art, four readings: %d", rec.noutputs); /* no sheet */
  chain_record_free(&rec);
  /* travel over frames instead of clips: the frames are outputs too */
  a2i2a_run_params pf = p;
  pf.clip_seconds = 0, pf.overlap_seconds = 0.1, pf.frames = 2;
  run_and_replay(m, &pf, "frames", &rec);
  check_fields(&rec, &pf);
  CHECK(rec.noutputs == 9 && !strcmp(rec.output_name[6], "preview.png") && !strcmp(rec.output_name[8], "frames/0002.png"),
        "and the preview and two frames: %d", rec.noutputs);
  chain_record_free(&rec);

  /* the same run with the newer keys at their defaults, its run.json without them: an older
   * file, replayed byte for byte */
  p.i2i.prediction = NULL;
  p.i2i.tile = NULL;
  p.travel = NULL;
  p.i2i.alpha = p.i2i.to_strength = p.i2i.to_guidance = 0;
  p.i2i.to_seed = 0;
  p.i2i.to_prompt = p.i2i.to_negative_prompt = NULL;
  p.i2i.taesd = NULL;
  p.i2i.low_memory = 0;
  p.i2a.seconds = p.i2a.sample_rate = p.i2a.fmin = p.i2a.fmax = 0;
  p.i2a.output_rate = p.i2a.loudness = p.i2a.true_peak = 0;
  p.i2a.vocoder = NULL;
  p.readings = "sines,noise,scan";
  p.clip_seconds = 0;
  char json[4200], cmd[4400];
  run_and_replay(m, &p, "older", &rec);
  chain_record_free(&rec);
  snprintf(json, sizeof json, "%s/older/run.json", dir);
  FILE *f = fopen(json, "r");
  static char text[1 << 16];
  size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
  if (f) fclose(f);
  text[n] = 0;
  cJSON *root = cJSON_Parse(text);
  int removed = 0;
  for (int i = 0; i < param_count(); i++) {
    if (!(param_at(i)->flags & PARAM_NEWER)) continue;
    const char *key = param_at(i)->entry.name, *dot = strchr(key, '.');
    char section[32];
    snprintf(section, sizeof section, "%.*s", (int)(dot - key), key);
    cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, section), dot + 1);
    removed++;
  }
  cJSON_DeleteItemFromObjectCaseSensitive(root, "sheet_layout");
  cJSON_DeleteItemFromObjectCaseSensitive(root, "loudness");
  char *older = cJSON_Print(root);
  cJSON_Delete(root);
  f = fopen(json, "w");
  fputs(older, f);
  fclose(f);
  cJSON_free(older);
  CHECK(removed == 20 && !strstr(text, "\"seconds\":\t0.5"), "twenty newer keys removed");
  snprintf(cmd, sizeof cmd, "%s/older-replayed", dir);
  CHECK(a2i2a_run_replay(json, NULL, NULL, cmd, 0, NULL) == A2I2A_OK, "an older run.json: %s", a2i2a_last_error());

  /* a run with a sheet drawn in the first layout (a one-line title, no loudness), its run.json
   * without "sheet_layout", as written before the layout was recorded: the replay draws it again */
  p.sheet = 1;
  p.readings = "bend";
  char mhex[65], ihex[65], first[4200];
  CHECK(a2i2a_model_sha256(m, mhex) == A2I2A_OK && sha256_file("examples/sampling.wav", ihex) == A2I2A_OK, "sha256");
  snprintf(first, sizeof first, "%s/first", dir);
  CHECK(chain_run(m, "examples/tiny-sd1", mhex, "examples/sampling.wav", NULL, ihex, first, &p, 0, 1, NULL, NULL) ==
            A2I2A_OK, "first layout: %s", a2i2a_last_error());
  snprintf(json, sizeof json, "%s/first/run.json", dir);
  f = fopen(json, "r");
  n = f ? fread(text, 1, sizeof text - 1, f) : 0;
  if (f) fclose(f);
  text[n] = 0;
  CHECK(strstr(text, "\"sheet_layout\":\t1"), "the layout recorded");
  root = cJSON_Parse(text);
  cJSON_DeleteItemFromObjectCaseSensitive(root, "sheet_layout");
  older = cJSON_Print(root);
  cJSON_Delete(root);
  f = fopen(json, "w");
  fputs(older, f);
  fclose(f);
  cJSON_free(older);
  snprintf(cmd, sizeof cmd, "%s/first-replayed", dir);
  CHECK(a2i2a_run_replay(json, NULL, NULL, cmd, 0, NULL) == A2I2A_OK, "a run.json without its sheet's layout: %s",
        a2i2a_last_error());
  image_u8 s1 = {0}, s2 = {0};
  char sheet[4400];
  snprintf(sheet, sizeof sheet, "%s/first/sheet.png", dir);
  CHECK(image_read(sheet, &s1, NULL) == A2I2A_OK, "%s", a2i2a_last_error());
  /* the first layout: one header line, so 24 pixels shorter than the same run drawn today */
  snprintf(cmd, sizeof cmd, "%s/today", dir);
  CHECK(a2i2a_run(m, "examples/sampling.wav", cmd, &p, 0, NULL) == A2I2A_OK, "%s", a2i2a_last_error());
  snprintf(sheet, sizeof sheet, "%s/today/sheet.png", dir);
  CHECK(image_read(sheet, &s2, NULL) == A2I2A_OK, "%s", a2i2a_last_error());
  CHECK(s1.w == s2.w && s1.h + 24 == s2.h, "first layout %dx%d, today's %dx%d", s1.w, s1.h, s2.w, s2.h);
  image_free(&s1);
  image_free(&s2);

  a2i2a_model_close(m);
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  CHECK(system(cmd) == 0, "cleanup");
  return check_done();
}
