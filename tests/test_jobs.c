/* Jobs: the progress callback is monotone and reaches n/n, previews come once per denoising
 * step with the right size, a cancel stops within one UNet evaluation and leaves nothing
 * behind, and two jobs on two model handles in two threads give the bytes of the same jobs
 * run one after the other. On the bundled tiny model and example sound. */
#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "a2i2a.h"
#include "check.h"
#include "common/sha256.h"

#define MODEL "examples/tiny-sd1"
#define SOUND "examples/sampling.wav"

static char tmpdir[256];

static a2i2a_run_params small_run(uint64_t seed, const char *readings) {
  a2i2a_run_params p;
  a2i2a_run_preset("seed", &p);
  p.model = MODEL;
  p.a2i.width = 96, p.a2i.height = 64;
  p.i2i.steps = 6; /* strength 0.9: 5 PNDM iterations + the warm-up's repeat */
  p.i2i.seed = p.i2a.seed = seed;
  p.readings = readings;
  return p;
}

static int count_entries(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return -1;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
  closedir(d);
  return n;
}

/* ------------------------------------------------------------------ what a job reports */

typedef struct {
  int events, bad_order, painting_steps, painting_total, last_painting_step;
  double last_fraction, last_elapsed;
  int saw_eta;
  char stages[512];
  int previews, bad_previews, decoded_previews, preview_w, preview_h, last_decoded;
  int logs;
  int cancel_at;         /* painting step after which cancel() says yes (0 = never) */
  int steps_after_cancel; /* painting steps reported after cancel() first said yes */
  int cancel_said;
} observer;

static void on_progress(void *user, const a2i2a_progress *p) {
  observer *o = user;
  o->events++;
  if (p->fraction < o->last_fraction || p->fraction > 1 || p->elapsed < o->last_elapsed) o->bad_order++;
  o->last_fraction = p->fraction;
  o->last_elapsed = p->elapsed;
  if (p->eta >= 0) o->saw_eta = 1;
  if (!strstr(o->stages, p->stage) && strlen(o->stages) + strlen(p->stage) + 2 < sizeof o->stages)
    strcat(strcat(o->stages, p->stage), ",");
  if (!strcmp(p->stage, "painting")) {
    if (p->step < o->last_painting_step && p->step != 0) o->bad_order++;
    if (p->step > p->total) o->bad_order++;
    o->last_painting_step = p->step;
    o->painting_total = p->total;
    if (p->step > 0) o->painting_steps++;
    if (o->cancel_said && p->step > 0) o->steps_after_cancel++;
  }
}

static void on_preview(void *user, const a2i2a_preview *p) {
  observer *o = user;
  o->previews++;
  if (p->decoded) o->decoded_previews++;
  o->last_decoded = p->decoded;
  o->preview_w = p->width, o->preview_h = p->height;
  /* a picture, not a flat fill: the latents' projection varies across the image */
  int lo = 255, hi = 0;
  for (int i = 0; i < p->width * p->height * 3; i++) lo = p->rgb[i] < lo ? p->rgb[i] : lo, hi = p->rgb[i] > hi ? p->rgb[i] : hi;
  if (!p->rgb || p->step < 1 || p->step > p->total || hi - lo < 8) o->bad_previews++;
}

static void on_log(void *user, a2i2a_log_level level, const char *msg) {
  (void)level, (void)msg;
  ((observer *)user)->logs++;
}

static int on_cancel(void *user) {
  observer *o = user;
  if (o->cancel_at > 0 && o->last_painting_step >= o->cancel_at) o->cancel_said = 1;
  return o->cancel_said;
}

static a2i2a_job *new_job(observer *o, int vae_every) {
  a2i2a_callbacks cb = {on_progress, on_preview, on_log, on_cancel, o, vae_every, NULL};
  a2i2a_job *j = NULL;
  CHECK(a2i2a_job_new(&cb, &j) == A2I2A_OK && j, "job_new: %s", a2i2a_last_error());
  return j;
}

static void test_progress_and_previews(a2i2a_model *m) {
  observer o = {0};
  a2i2a_job *job = new_job(&o, 0);
  a2i2a_run_params p = small_run(7, "red,chirp");
  char out[300];
  snprintf(out, sizeof out, "%s/progress", tmpdir);
  a2i2a_status st = a2i2a_run(m, SOUND, out, &p, 0, job);
  CHECK(st == A2I2A_OK, "run: %s", a2i2a_last_error());
  CHECK(o.bad_order == 0, "progress went backwards or past its total %d times", o.bad_order);
  CHECK(o.last_fraction == 1.0, "the last fraction is %g, not 1", o.last_fraction);
  CHECK(o.saw_eta, "no ETA was ever given");
  CHECK(o.painting_total == 6 && o.last_painting_step == 6 && o.painting_steps == 6,
        "painting steps: %d reported, last %d of %d (expected 6 of 6)", o.painting_steps, o.last_painting_step,
        o.painting_total);
  for (const char *s = "spectrogram,painting,readings,sheet"; *s;) {
    char name[32];
    size_t n = strcspn(s, ",");
    snprintf(name, sizeof name, "%.*s", (int)n, s);
    CHECK(strstr(o.stages, name), "stage %s never reported (saw %s)", name, o.stages);
    s += n + (s[n] == ',');
  }
  CHECK(o.previews == 6 && o.decoded_previews == 0, "%d previews (%d decoded), expected one per step (6)", o.previews,
        o.decoded_previews);
  /* 96x64 painting: latents of 12x8 */
  CHECK(o.preview_w == 12 && o.preview_h == 8, "preview %dx%d, expected 12x8", o.preview_w, o.preview_h);
  CHECK(o.bad_previews == 0, "%d previews out of range or flat", o.bad_previews);
  CHECK(o.logs >= 1, "the tiny-model note did not reach the log callback");
  a2i2a_timings t = a2i2a_job_timings(job);
  CHECK(t.a2i > 0 && t.i2i > 0 && t.i2a > 0 && t.sheet > 0, "timings %g %g %g %g", t.a2i, t.i2i, t.i2a, t.sheet);
  a2i2a_job_free(job);

  /* full VAE decodes every 2 steps: steps 2, 4, 6 at the painting's size */
  observer v = {0};
  job = new_job(&v, 2);
  snprintf(out, sizeof out, "%s/vae-previews", tmpdir);
  st = a2i2a_run(m, SOUND, out, &p, 0, job);
  CHECK(st == A2I2A_OK, "run: %s", a2i2a_last_error());
  CHECK(v.previews == 3 && v.decoded_previews == 3, "%d previews (%d decoded), expected 3 decoded", v.previews,
        v.decoded_previews);
  CHECK(v.preview_w == 96 && v.preview_h == 64, "decoded preview %dx%d, expected 96x64", v.preview_w, v.preview_h);
  a2i2a_job_free(job);

  /* a TAESD for the previews of a painting the VAE makes: a decode of every step at the painting's
   * size (decoded 2), and the painting the same bytes as without them */
  if (!fixture_case("sd-ext/tiny-taesd")) return;
  observer w = {0};
  a2i2a_callbacks cb = {on_progress, on_preview, on_log, on_cancel, &w, 0, fixture("sd-ext/tiny-taesd")};
  CHECK(a2i2a_job_new(&cb, &job) == A2I2A_OK, "job_new: %s", a2i2a_last_error());
  snprintf(out, sizeof out, "%s/taesd-previews", tmpdir);
  st = a2i2a_run(m, SOUND, out, &p, 0, job);
  CHECK(st == A2I2A_OK, "run: %s", a2i2a_last_error());
  CHECK(w.previews == 6 && w.decoded_previews == 6 && w.last_decoded == 2,
        "%d previews (%d decoded, the last as %d), expected 6 TAESD decodes", w.previews, w.decoded_previews,
        w.last_decoded);
  CHECK(w.preview_w == 96 && w.preview_h == 64, "TAESD preview %dx%d, expected 96x64", w.preview_w, w.preview_h);
  CHECK(w.bad_previews == 0, "%d TAESD previews out of range or flat", w.bad_previews);
  char cmd[700];
  snprintf(cmd, sizeof cmd, "cmp -s '%s/progress/art.png' '%s/art.png'", tmpdir, out);
  CHECK(system(cmd) == 0, "TAESD previews changed the painting");
  a2i2a_job_free(job);
}

/* ------------------------------------------------------------------ cancel */

static void test_cancel_in_painting(a2i2a_model *m) {
  for (int k = 1; k <= 5; k += 2) {
    observer o = {.cancel_at = k};
    a2i2a_job *job = new_job(&o, 0);
    a2i2a_run_params p = small_run(7, "red");
    char out[300];
    snprintf(out, sizeof out, "%s/cancel%d", tmpdir, k);
    a2i2a_status st = a2i2a_run(m, SOUND, out, &p, 0, job);
    CHECK(st == A2I2A_ERR_CANCELLED, "cancel at step %d: status %d (%s)", k, st, a2i2a_last_error());
    /* the cancel is seen before the next UNet evaluation: no further step completes */
    CHECK(o.steps_after_cancel == 0, "cancel at step %d: %d more steps ran", k, o.steps_after_cancel);
    CHECK(o.last_painting_step == k, "cancel at step %d: stopped at step %d", k, o.last_painting_step);
    struct stat sb;
    CHECK(stat(out, &sb) != 0, "cancel at step %d: %s was left behind", k, out);
    CHECK(a2i2a_job_cancelled(job), "the job does not say it was cancelled");
    /* a cancelled job stays cancelled */
    CHECK(a2i2a_run(m, SOUND, out, &p, 0, job) == A2I2A_ERR_CANCELLED, "a second call with a cancelled job ran");
    a2i2a_job_free(job);
  }

  /* into a folder that holds a previous run: a cancelled --force run changes nothing */
  char out[300], file[400], before[65], after[65];
  snprintf(out, sizeof out, "%s/progress", tmpdir);
  snprintf(file, sizeof file, "%s/art.png", out);
  CHECK(sha256_file(file, before) == A2I2A_OK, "%s", a2i2a_last_error());
  int n0 = count_entries(out);
  observer o = {.cancel_at = 2};
  a2i2a_job *job = new_job(&o, 0);
  a2i2a_run_params p = small_run(8, "red,chirp");
  CHECK(a2i2a_run(m, SOUND, out, &p, 1, job) == A2I2A_ERR_CANCELLED, "forced run not cancelled");
  CHECK(sha256_file(file, after) == A2I2A_OK && !strcmp(before, after), "a cancelled --force run replaced art.png");
  CHECK(count_entries(out) == n0, "a cancelled run left %d entries where there were %d", count_entries(out), n0);
  a2i2a_job_free(job);
}

/* a2i2a_job_cancel from another thread while Griffin-Lim runs (i2a, no model) */
typedef struct {
  a2i2a_job *job;
  atomic_int started;
} canceller;

static void on_stage(void *user, const a2i2a_progress *p) {
  canceller *c = user;
  if (!strcmp(p->stage, "readings")) atomic_store(&c->started, 1);
}

static void *cancel_soon(void *arg) {
  canceller *c = arg;
  while (!atomic_load(&c->started)) usleep(1000);
  usleep(20000);
  a2i2a_job_cancel(c->job);
  return NULL;
}

static void test_cancel_from_another_thread(void) {
  char art[300], out[300];
  snprintf(art, sizeof art, "%s/progress/art.png", tmpdir);
  snprintf(out, sizeof out, "%s/gl.wav", tmpdir);
  canceller c = {0};
  a2i2a_callbacks cb = {.progress = on_stage, .user = &c};
  CHECK(a2i2a_job_new(&cb, &c.job) == A2I2A_OK, "job_new");
  a2i2a_i2a_params ip = a2i2a_i2a_default_params();
  ip.gl_iters = 10000; /* the most accepted: far longer than the test would wait */
  pthread_t th;
  pthread_create(&th, NULL, cancel_soon, &c);
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  a2i2a_status st = a2i2a_i2a_file(art, "red", out, &ip, 0, c.job);
  atomic_store(&c.started, 1); /* a call that failed before its readings must not hang the test */
  pthread_join(th, NULL);
  CHECK(st == A2I2A_ERR_CANCELLED, "Griffin-Lim not cancelled: %d (%s)", st, a2i2a_last_error());
  CHECK(!strcmp(a2i2a_last_error(), "cancelled"), "error line '%s'", a2i2a_last_error());
  CHECK(access(out, F_OK) != 0, "%s written although cancelled", out);
  clock_gettime(CLOCK_MONOTONIC, &b);
  CHECK(b.tv_sec - a.tv_sec < 60, "the cancel took %ld s", (long)(b.tv_sec - a.tv_sec));
  a2i2a_job_free(c.job);
}

/* ------------------------------------------------------------------ two handles, two threads */

typedef struct {
  uint64_t seed;
  char out[300];
  a2i2a_status st;
  char err[1024];
} parallel_job;

static void *run_one(void *arg) {
  parallel_job *j = arg;
  a2i2a_model *m = NULL;
  j->st = a2i2a_model_open(MODEL, &m);
  a2i2a_run_params p = small_run(j->seed, "red,chirp");
  if (!j->st) j->st = a2i2a_run(m, SOUND, j->out, &p, 0, NULL);
  snprintf(j->err, sizeof j->err, "%s", a2i2a_last_error());
  a2i2a_model_close(m);
  return NULL;
}

static int same_outputs(const char *a, const char *b, int say) {
  const char *files[] = {"spectrogram.png", "art.png", "red.wav", "chirp.wav", "sheet.png", "run.json"};
  for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
    char pa[400], pb[400], ha[65], hb[65];
    snprintf(pa, sizeof pa, "%s/%s", a, files[i]);
    snprintf(pb, sizeof pb, "%s/%s", b, files[i]);
    if (sha256_file(pa, ha) || sha256_file(pb, hb) || strcmp(ha, hb)) {
      if (say) fprintf(stderr, "  %s differs between %s and %s\n", files[i], a, b);
      return 0;
    }
  }
  return 1;
}

static void test_two_threads(void) {
  parallel_job seq[2] = {{.seed = 11}, {.seed = 12}}, par[2] = {{.seed = 11}, {.seed = 12}};
  for (int i = 0; i < 2; i++) {
    snprintf(seq[i].out, sizeof seq[i].out, "%s/seq%d", tmpdir, i);
    snprintf(par[i].out, sizeof par[i].out, "%s/par%d", tmpdir, i);
    run_one(&seq[i]);
    CHECK(seq[i].st == A2I2A_OK, "sequential job %d: %s", i, seq[i].err);
  }
  pthread_t th[2];
  for (int i = 0; i < 2; i++) pthread_create(&th[i], NULL, run_one, &par[i]);
  for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);
  for (int i = 0; i < 2; i++) {
    CHECK(par[i].st == A2I2A_OK, "parallel job %d: %s", i, par[i].err);
    /* run.json records the input's absolute path and the same settings: identical too */
    CHECK(same_outputs(seq[i].out, par[i].out, 1), "job %d in a thread differs from the same job alone", i);
  }
  CHECK(!same_outputs(seq[0].out, seq[1].out, 0), "two seeds gave the same outputs: the comparison proves nothing");
}

int main(void) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/a2i2a-test-jobs.XXXXXX");
  if (!mkdtemp(tmpdir)) return fprintf(stderr, "mkdtemp failed\n"), 1;
  char cache[300];
  snprintf(cache, sizeof cache, "%s/cache", tmpdir);
  setenv("XDG_CACHE_HOME", cache, 1);
  a2i2a_model *m = NULL;
  CHECK(a2i2a_model_open(MODEL, &m) == A2I2A_OK, "open %s: %s", MODEL, a2i2a_last_error());
  if (m) {
    test_progress_and_previews(m);
    test_cancel_in_painting(m);
    a2i2a_model_close(m);
  }
  test_cancel_from_another_thread();
  test_two_threads();
  char cmd[400];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  if (system(cmd)) fprintf(stderr, "could not remove %s\n", tmpdir);
  return check_done();
}
