/* Sampler construction from a model's scheduler_config.json (README §7.5): per-class spacing
 * defaults, the --spacing override, sampler names, and diffusers' refusals. The numeric tables
 * and traces are checked against the fixtures by `a2i2a verify` (tests/cli_verify.sh). */
#include "check.h"
#include "common/err.h"
#include "sd/scheduler.h"

#include <stdio.h>
#include <stdlib.h>

static cJSON *read_json(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  static char buf[1 << 16];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  return cJSON_Parse(buf);
}

int main(void) {
  cJSON *sd15 = read_json(fixture("sd/tiny-sd1/scheduler/scheduler_config.json"));
  cJSON *sd21 = read_json(fixture("sd/tiny-sd2/scheduler/scheduler_config.json"));
  CHECK(sd15 && sd21, "scheduler configs of the tiny models");
  sched_config c;

  /* SD1.5's file has no timestep_spacing: each class's own default applies */
  CHECK(!sched_config_for_sampler(sd15, "pndm", NULL, &c) && c.kind == SCHED_PNDM && c.spacing == SPACING_LEADING &&
            c.steps_offset == 1 && c.skip_prk_steps && !c.set_alpha_to_one,
        "pndm from SD1.5");
  CHECK(!sched_config_for_sampler(sd15, "ddim", NULL, &c) && c.spacing == SPACING_LEADING && !c.clip_sample &&
            !c.set_alpha_to_one,
        "ddim from SD1.5 keeps the file's clip_sample/set_alpha_to_one");
  const char *linspace_ones[] = {"euler", "euler-a", "lms", "dpm++2m", "dpm++2m-karras"};
  for (int i = 0; i < 5; i++)
    CHECK(!sched_config_for_sampler(sd15, linspace_ones[i], NULL, &c) && c.spacing == SPACING_LINSPACE,
          "%s defaults to linspace", linspace_ones[i]);
  CHECK(!sched_config_for_sampler(sd15, "dpm++2m-karras", NULL, &c) && c.use_karras_sigmas && c.solver_order == 2,
        "karras");
  CHECK(!sched_config_for_sampler(sd15, "dpm++2m", NULL, &c) && !c.use_karras_sigmas, "no karras");
  CHECK(!sched_config_for_sampler(sd15, "euler", "trailing", &c) && c.spacing == SPACING_TRAILING, "--spacing");
  CHECK(!sched_config_for_sampler(sd15, "lcm", NULL, &c) && c.kind == SCHED_LCM && c.original_inference_steps == 50,
        "lcm");
  CHECK(!sched_config_for_sampler(sd21, "euler", NULL, &c) && c.prediction == PRED_V, "SD2.1 keeps v-prediction");
  CHECK(!sched_config_for_sampler(sd21, "ddim", NULL, &c) && c.prediction == PRED_V && c.spacing == SPACING_LEADING,
        "SD2.1 ddim");
  CHECK(sched_config_for_sampler(sd15, "heun", NULL, &c) == A2I2A_ERR_PARAM, "unknown sampler refused");
  CHECK(sched_config_for_sampler(sd15, "euler", "sideways", &c) == A2I2A_ERR_PARAM, "unknown spacing refused");

  /* SD-Turbo: euler + trailing, 1 step at t = 999 */
  sched *s = NULL;
  CHECK(!sched_config_for_sampler(sd15, "euler", "trailing", &c) && !sched_new(&c, &s), "turbo scheduler");
  if (s) {
    CHECK(!sched_set_timesteps(s, 1) && sched_count(s) == 1 && sched_timesteps(s)[0] == 999, "trailing 1 step: 999");
    CHECK(!sched_set_timesteps(s, 4) && sched_timesteps(s)[0] == 999 && sched_timesteps(s)[3] == 249,
          "trailing 4 steps: 999 ... 249");
    sched_free(s);
  }
  /* LCM refuses more steps than its original schedule, as diffusers does */
  CHECK(!sched_config_for_sampler(sd15, "lcm", NULL, &c) && !sched_new(&c, &s), "lcm scheduler");
  if (s) {
    CHECK(sched_set_timesteps(s, 51) == A2I2A_ERR_PARAM, "lcm 51 steps refused");
    CHECK(!sched_set_timesteps(s, 50), "lcm 50 steps");
    sched_free(s);
  }
  /* PNDM's schedule repeats its second timestep */
  CHECK(!sched_config_for_sampler(sd15, "pndm", NULL, &c) && !sched_new(&c, &s), "pndm scheduler");
  if (s) {
    CHECK(!sched_set_timesteps(s, 10) && sched_count(s) == 11 && sched_timesteps(s)[1] == 801 &&
              sched_timesteps(s)[2] == 801,
          "pndm 10 steps");
    sched_free(s);
  }
  /* spacings the fixtures do not cover, worked out from diffusers' numpy expressions:
   * trailing = round(arange(1000, 0, -1000/N)) - 1, linspace = round(linspace(0, 999, N)) */
  static const struct {
    const char *sampler, *spacing;
    int n, count;
    double t[11];
  } cases[] = {
      {"ddim", "trailing", 10, 10, {999, 899, 799, 699, 599, 499, 399, 299, 199, 99}},
      {"ddim", "linspace", 10, 10, {999, 888, 777, 666, 555, 444, 333, 222, 111, 0}},
      {"ddim", "trailing", 3, 3, {999, 666, 332}},
      {"pndm", "trailing", 10, 11, {999, 899, 899, 799, 699, 599, 499, 399, 299, 199, 99}},
      {"pndm", "linspace", 4, 5, {999, 666, 666, 333, 0}},
      {"dpm++2m", "trailing", 10, 10, {999, 899, 799, 699, 599, 499, 399, 299, 199, 99}},
      {"dpm++2m", "leading", 4, 4, {801, 601, 401, 201}},
      {"lms", "leading", 4, 4, {751, 501, 251, 1}},
      {"euler-a", "trailing", 4, 4, {999, 749, 499, 249}},
  };
  for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
    s = NULL;
    int okc = !sched_config_for_sampler(sd15, cases[k].sampler, cases[k].spacing, &c) && !sched_new(&c, &s) &&
              !sched_set_timesteps(s, cases[k].n) && sched_count(s) == cases[k].count;
    for (int i = 0; okc && i < cases[k].count; i++) okc = sched_timesteps(s)[i] == cases[k].t[i];
    CHECK(okc, "%s %s %d steps: timesteps", cases[k].sampler, cases[k].spacing, cases[k].n);
    sched_free(s);
  }
  /* DPM++'s sigmas end at sigma(t=0) (this diffusers version), Euler's at 0 */
  s = NULL;
  CHECK(!sched_config_for_sampler(sd15, "dpm++2m", NULL, &c) && !sched_new(&c, &s) && !sched_set_timesteps(s, 5) &&
            sched_sigmas(s)[5] > 0.029f && sched_sigmas(s)[5] < 0.0292f,
        "dpm++ final sigma");
  sched_free(s);

  /* img2img strength: int() truncation of n·strength computed in double */
  int it, ts;
  sched_img2img_range(100, 0.29, &it, &ts);
  CHECK(it == 28 && ts == 72, "100 x 0.29 truncates to 28 (got %d)", it);
  sched_img2img_range(10, 0.9, &it, &ts);
  CHECK(it == 9 && ts == 1, "10 x 0.9");
  sched_img2img_range(1, 0.3, &it, &ts);
  CHECK(it == 0 && ts == 1, "1 x 0.3: nothing to run");
  sched_img2img_range(10, 1.0, &it, &ts);
  CHECK(it == 10 && ts == 0, "strength 1");

  /* the noise source refuses to run dry */
  float buf[16];
  sd_noise none = {0};
  CHECK(sd_noise_draw(&none, buf, 16) != A2I2A_OK, "no generator");
  float rec[16] = {0};
  sd_noise replay = {.replay = rec, .replay_len = 16};
  CHECK(!sd_noise_draw(&replay, buf, 16) && sd_noise_draw(&replay, buf, 16) != A2I2A_OK, "replay exhausted");

  cJSON_Delete(sd15);
  cJSON_Delete(sd21);
  return check_done();
}
