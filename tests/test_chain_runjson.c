/* run.json: every parameter survives a write and a read exactly; bad files are refused with
 * one line naming the file and the field. */
#include <unistd.h>

#include "chain/chain.h"
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

int main(void) {
  CHECK(mkdtemp(dir) != NULL, "mkdtemp");
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
  r.model_name = "riffusion/riffusion-model-v1";
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
  CHECK(!strcmp(back.p.preset, "riffusion") && !strcmp(back.p.model, r.model_name), "preset/model");
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

  char cmd[4200];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  CHECK(system(cmd) == 0, "cleanup");
  return check_done();
}
