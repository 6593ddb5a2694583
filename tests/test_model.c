/* sd_model_open on every layout: the tiny diffusers folders, the single-file LDM checkpoint,
 * ORG/NAME in a fake Hugging Face cache (symlinks into the fixtures), and the refusals:
 * a .ckpt that is not a PyTorch checkpoint, missing parts, a single file without a VAE. (PyTorch
 * checkpoints themselves: test_pickle.c.) */
#include "check.h"
#include "sd/model.h"
#include "common/err.h"

#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_layouts(void) {
  sd_model m;
  char line[512];
  CHECK(sd_model_open(fixture("sd/tiny-sd1"), &m) == A2I2A_OK, "open tiny-sd1: %s", a2i2a_last_error());
  CHECK(m.layout == SD_LAYOUT_DIFFUSERS && m.family == 1 && !m.v_prediction, "tiny-sd1 family %d v %d", m.family,
        m.v_prediction);
  CHECK(m.config[SD_VAE] && m.config[SD_UNET] && m.config[SD_TEXT] && m.scheduler_config, "tiny-sd1 configs");
  CHECK(m.tokenizer_dir[0], "tiny-sd1 tokenizer dir");
  CHECK(sd_tensor(&m, SD_VAE, "decoder.conv_in.weight") != NULL, "diffusers VAE tensor");
  CHECK(sd_tensor(&m, SD_UNET, "conv_in.weight") != NULL, "diffusers UNet tensor");
  CHECK(sd_tensor(&m, SD_TEXT, "text_model.embeddings.token_embedding.weight") != NULL, "diffusers text tensor");
  CHECK(sd_tensor(&m, SD_VAE, "conv_in.weight") == NULL, "parts are separate files");
  sd_model_describe(&m, line, sizeof line);
  CHECK(strstr(line, "tiny-sd1") && strstr(line, "SD 1.x") && strstr(line, "epsilon"), "describe: %s", line);
  sd_model_close(&m);

  if (fixture_case("sd/tiny-sd2/model_index.json")) {
    CHECK(sd_model_open(fixture("sd/tiny-sd2/"), &m) == A2I2A_OK, "open tiny-sd2: %s", a2i2a_last_error());
    CHECK(m.family == 2 && m.v_prediction, "tiny-sd2 family %d v %d", m.family, m.v_prediction);
    sd_model_describe(&m, line, sizeof line);
    CHECK(strstr(line, "SD 2.x") && strstr(line, "v prediction"), "describe: %s", line);
    sd_model_close(&m);
  }

  if (fixture_case("sd/tiny-sd1.safetensors")) {
    CHECK(sd_model_open(fixture("sd/tiny-sd1.safetensors"), &m) == A2I2A_OK, "open single file: %s",
          a2i2a_last_error());
    CHECK(m.layout == SD_LAYOUT_LDM && m.family == 1 && !m.v_prediction && !m.config[SD_VAE], "single file: family %d",
          m.family);
    CHECK(m.scheduler_config != NULL, "single file gets the family's scheduler config");
    CHECK(sd_tensor(&m, SD_VAE, "first_stage_model.decoder.conv_in.weight") != NULL &&
              sd_tensor(&m, SD_TEXT, "cond_stage_model.transformer.text_model.embeddings.token_embedding.weight") &&
              sd_tensor(&m, SD_UNET, "model.diffusion_model.input_blocks.0.0.weight"),
          "LDM tensors");
    sd_model_describe(&m, line, sizeof line);
    CHECK(strstr(line, "single-file") && strstr(line, "SD 1.x"), "describe: %s", line);
    sd_model_close(&m);
  }
}

static void sh(const char *cmd) {
  int r = system(cmd);
  CHECK(r == 0, "%s", cmd);
}

/* A minimal safetensors file with the given F32 scalars' names. */
static void write_st(const char *path, const char **names, int n) {
  char hdr[4096] = "{";
  for (int i = 0; i < n; i++)
    snprintf(hdr + strlen(hdr), sizeof hdr - strlen(hdr), "%s\"%s\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[%d,%d]}",
             i ? "," : "", names[i], 4 * i, 4 * i + 4);
  strcat(hdr, "}");
  FILE *f = fopen(path, "wb");
  uint64_t len = strlen(hdr);
  fwrite(&len, 8, 1, f);
  fwrite(hdr, 1, len, f);
  float z[64] = {0};
  fwrite(z, 4, (size_t)n, f);
  fclose(f);
}

static void test_cache_and_errors(void) {
  char tmp[] = "/tmp/a2i2a_test_model_XXXXXX";
  if (!mkdtemp(tmp)) {
    CHECK(0, "mkdtemp");
    return;
  }
  char root[4096], cmd[16384], p[4200];
  if (!realpath(fixture("sd"), root)) {
    CHECK(0, "fixtures missing");
    return;
  }
  /* A Hugging Face cache: refs/main names the snapshot, files are symlinks. */
  snprintf(cmd, sizeof cmd,
           "set -e; b=%s/hf/hub/models--tiny--sd2; mkdir -p $b/refs $b/snapshots/abc123 $b/snapshots/old;"
           "printf 'abc123\\n' > $b/refs/main; for d in %s/tiny-sd2/*; do ln -s $d $b/snapshots/abc123/; done",
           tmp, root);
  sh(cmd);
  setenv("HF_HOME", strcat(strcpy(p, tmp), "/hf"), 1);
  unsetenv("HF_HUB_CACHE");
  sd_model m;
  CHECK(sd_model_open("tiny/sd2", &m) == A2I2A_OK, "open from HF cache: %s", a2i2a_last_error());
  CHECK(!strcmp(m.name, "tiny/sd2") && m.family == 2 && m.v_prediction && strstr(m.path, "abc123"),
        "HF cache: %s %s", m.name, m.path);
  sd_model_close(&m);
  CHECK(sd_model_open("tiny/nothere", &m) != A2I2A_OK && strstr(a2i2a_last_error(), "tiny/nothere") &&
            strstr(a2i2a_last_error(), "Hugging Face cache"),
        "missing repo: %s", a2i2a_last_error());

  /* A folder without its VAE. */
  snprintf(cmd, sizeof cmd, "set -e; mkdir %s/novae; for d in unet text_encoder scheduler tokenizer model_index.json; do ln -s %s/tiny-sd1/$d %s/novae/; done",
           tmp, root, tmp);
  sh(cmd);
  snprintf(p, sizeof p, "%s/novae", tmp);
  CHECK(sd_model_open(p, &m) == A2I2A_ERR_MODEL && strstr(a2i2a_last_error(), "vae/"), "missing part: %s",
        a2i2a_last_error());
  /* a .ckpt that only starts like a zip archive */
  snprintf(p, sizeof p, "%s/model.ckpt", tmp);
  FILE *f = fopen(p, "wb");
  fputs("PK", f);
  fclose(f);
  CHECK(sd_model_open(p, &m) == A2I2A_ERR_FORMAT && strstr(a2i2a_last_error(), "model.ckpt") &&
            strstr(a2i2a_last_error(), "not a PyTorch checkpoint"),
        "ckpt: %s", a2i2a_last_error());
  /* single files with parts missing */
  const char *unet_only[] = {"cond_stage_model.transformer.x", "model.diffusion_model.x"};
  snprintf(p, sizeof p, "%s/novae.safetensors", tmp);
  write_st(p, unet_only, 2);
  CHECK(sd_model_open(p, &m) == A2I2A_ERR_MODEL && strstr(a2i2a_last_error(), "no VAE"), "no VAE: %s",
        a2i2a_last_error());
  const char *sd2[] = {"cond_stage_model.model.x", "first_stage_model.x", "model.diffusion_model.x", "zzz.unknown"};
  snprintf(p, sizeof p, "%s/sd2.safetensors", tmp);
  write_st(p, sd2, 4);
  CHECK(sd_model_open(p, &m) == A2I2A_OK && m.family == 2 && m.v_prediction, "LDM SD2 detection: %s",
        a2i2a_last_error());
  sd_model_close(&m);
  const char *xl[] = {"conditioner.embedders.0.x", "first_stage_model.x", "model.diffusion_model.x"};
  snprintf(p, sizeof p, "%s/xl.safetensors", tmp);
  write_st(p, xl, 3);
  CHECK(sd_model_open(p, &m) == A2I2A_ERR_UNSUPPORTED && strstr(a2i2a_last_error(), "SDXL"), "SDXL: %s",
        a2i2a_last_error());
  snprintf(p, sizeof p, "%s/none", tmp);
  CHECK(sd_model_open(p, &m) == A2I2A_ERR_IO && strstr(a2i2a_last_error(), "none"), "absent: %s",
        a2i2a_last_error());
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
  sh(cmd);
}

int main(void) {
  test_layouts();
  if (fixture_case("sd/tiny-sd2/model_index.json")) test_cache_and_errors();
  return check_done();
}
