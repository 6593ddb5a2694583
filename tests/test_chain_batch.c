/* batch_expand: the CSV reader (quotes, a quoted field over two lines, CRLF, blank lines), the
 * lines errors name, a preset column under the options the command line gave, ids that follow
 * the bytes and the settings, and items crossed with seeds and prompts. The sounds are never
 * decoded here, so any bytes will do. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chain/batch.h"
#include "chain/chain.h"
#include "check.h"

static char dir[] = "/tmp/a2i2a_batch_XXXXXX";

static const char *write_text(const char *name, const char *text) {
  static char path[8][4096];
  static int k;
  char *p = path[k++ % 8];
  snprintf(p, 4096, "%s/%s", dir, name);
  FILE *f = fopen(p, "w");
  fputs(text, f);
  fclose(f);
  return p;
}

static a2i2a_status expand(const char *source, const a2i2a_run_params *p, batch_plan *plan) {
  batch_settings s = {.p = p};
  return batch_expand(source, &s, plan);
}

int main(void) {
  if (!mkdtemp(dir)) return 1;
  a2i2a_run_params p;
  a2i2a_run_preset(NULL, &p);
  p.model = "examples/tiny-sd1";
  write_text("a.wav", "sound a");
  write_text("b.wav", "sound b");
  write_text("a-copy.wav", "sound a");
  batch_plan plan, other;

  /* CRLF, a quoted field with a comma, a doubled quote and a line break, a blank line */
  const char *csv = write_text("rows.csv", "path,prompt,seed\r\n"
                                           "a.wav,\"one, \"\"two\"\"\nthree\",5\r\n"
                                           "\r\n"
                                           "b.wav,,\r\n");
  a2i2a_status st = expand(csv, &p, &plan);
  CHECK(st == A2I2A_OK && plan.nitems == 2, "csv: %s (%d items)", a2i2a_last_error(), plan.nitems);
  if (!st && plan.nitems == 2) {
    CHECK(!strcmp(plan.items[0].p.i2i.prompt, "one, \"two\"\nthree"), "quoted prompt: [%s]", plan.items[0].p.i2i.prompt);
    CHECK(plan.items[0].p.i2i.seed == 5 && plan.items[0].p.i2a.seed == 5, "seed column: painting and readings");
    CHECK(plan.items[0].line == 2 && plan.items[1].line == 5, "lines %d %d", plan.items[0].line, plan.items[1].line);
    CHECK(plan.items[1].p.i2i.seed == p.i2i.seed && !strcmp(plan.items[1].p.i2i.prompt, p.i2i.prompt),
          "empty cells keep the settings");
    CHECK(strstr(plan.items[1].input, "/b.wav") && !strncmp(plan.items[1].input, dir, strlen(dir)),
          "paths relative to the CSV's folder: %s", plan.items[1].input);
  }
  batch_plan_free(&plan);

  /* ids: the bytes and the settings, not the name */
  const char *list = write_text("list.txt", "a.wav\na-copy.wav\n# a comment\nb.wav\n");
  st = expand(list, &p, &plan);
  CHECK(st == A2I2A_OK && plan.nitems == 2, "a sound twice under two names: one item (%d)", plan.nitems);
  a2i2a_run_params q = p;
  q.i2i.strength = 0.5;
  CHECK(expand(list, &q, &other) == A2I2A_OK && other.nitems == 2 && strcmp(plan.items[0].id, other.items[0].id),
        "another strength: another id");
  batch_plan_free(&other);
  q = p;
  q.model = "/somewhere/else/tiny-sd1/";
  CHECK(expand(list, &q, &other) == A2I2A_OK && !strcmp(plan.items[0].id, other.items[0].id),
        "the model's folder elsewhere: the same id");
  batch_plan_free(&other);
  batch_plan_free(&plan);

  /* crossed with seeds and prompts, seeds within prompts within sounds */
  uint64_t seeds[] = {1, 2, 3};
  const char *prompts[] = {"x", "y"};
  batch_settings s = {.p = &p, .seeds = seeds, .nseeds = 3, .prompts = prompts, .nprompts = 2};
  st = batch_expand(list, &s, &plan);
  CHECK(st == A2I2A_OK && plan.nitems == 12, "2 sounds x 2 prompts x 3 seeds: %d", plan.nitems);
  if (plan.nitems == 12)
    CHECK(plan.items[4].p.i2i.seed == 2 && !strcmp(plan.items[4].p.i2i.prompt, "y") && plan.items[4].p.i2a.seed == 2,
          "item 5: prompt y, seed 2");
  int distinct = 1;
  for (int i = 0; i < plan.nitems; i++)
    for (int j = 0; j < i; j++) distinct &= strcmp(plan.items[i].id, plan.items[j].id) != 0;
  CHECK(distinct, "12 distinct ids");
  batch_plan_free(&plan);

  /* a preset column: that preset's values, but the options the command line gave still win */
  const char *pre = write_text("preset.csv", "path,preset\na.wav,turbo\n");
  q = p;
  q.i2i.steps = 7;
  const char *given[] = {"i2i.steps"};
  s = (batch_settings){.p = &q, .given = given, .ngiven = 1};
  st = batch_expand(pre, &s, &plan);
  a2i2a_run_params turbo;
  a2i2a_run_preset("turbo", &turbo);
  CHECK(st == A2I2A_OK && plan.items[0].p.i2i.steps == 7 && plan.items[0].p.i2i.strength == turbo.i2i.strength &&
            !strcmp(plan.items[0].p.preset, "turbo") && !strcmp(plan.items[0].p.model, "examples/tiny-sd1"),
        "preset column: %s", a2i2a_last_error());
  batch_plan_free(&plan);

  /* errors name the file, the line and the column, before anything is hashed */
  struct {
    const char *text, *expect;
  } bad[] = {
      {"path,steps\na.wav,4\nb.wav,x\n", "bad.csv:3: column 'steps'"},
      {"path,strength\na.wav,0.5\n\nb.wav,2\n", "bad.csv:4: column 'strength'"},
      {"path,prompt\na.wav,\"open\n", "bad.csv:2: unterminated quote"},
      {"path,seed\na.wav\n", "bad.csv:2: 1 fields, the header has 2"},
      {"file,seed\na.wav,1\n", "bad.csv:1: no \"path\" column"},
      {"path,model.name\na.wav,m\n", "one model per batch"},
      {"path,preset\na.wav,fast\n", "bad.csv:2: column 'preset'"},
      {"", "no header row"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    const char *path = write_text("bad.csv", bad[i].text);
    st = expand(path, &p, &plan);
    CHECK(st != A2I2A_OK && strstr(a2i2a_last_error(), bad[i].expect) && !strchr(a2i2a_last_error(), '\n'),
          "case %zu: '%s' (expected '%s')", i, a2i2a_last_error(), bad[i].expect);
  }
  CHECK(expand(write_text("empty.txt", "# nothing\n\n"), &p, &plan) == A2I2A_ERR_FORMAT, "an empty list");

  char cmd[4200];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  CHECK(system(cmd) == 0, "cleanup");
  return check_done();
}
