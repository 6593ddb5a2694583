#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "sd/clip.h"
#include "verify/verify.h"

/* One layout of the case's model: every prompt of input_ids through the encoder, compared with
 * last_hidden_state (the family default), penultimate_hidden_state_final_ln (clip skip 2) and
 * hidden_state_after_layer_N (the residual stream, checked with the last_hidden_state tolerance). */
static void run_layout(verify_ctx *v, const cJSON *manifest, const st_file *gold, const char *label,
                       const char *model_path, const cJSON *config) {
  sd_model m;
  char name[400];
  if (sd_model_open(model_path, &m)) {
    verify_error(v, label, a2i2a_last_error());
    return;
  }
  clip_text *c;
  if (clip_load_config(&c, &m, m.layout == SD_LAYOUT_LDM ? config : NULL)) {
    verify_error(v, label, a2i2a_last_error());
    sd_model_close(&m);
    return;
  }
  const st_tensor *ids_t = st_find(gold, "input_ids");
  int D = clip_hidden_size(c);
  if (!ids_t || ids_t->ndim != 2 || ids_t->shape[1] != CLIP_CTX) {
    verify_error(v, label, "golden file: no input_ids [batch][77]");
    goto done;
  }
  int B = (int)ids_t->shape[0];
  float *idf = malloc(ids_t->numel * sizeof(float)), *got = malloc((size_t)B * CLIP_CTX * D * sizeof(float));
  st_to_f32(ids_t, idf);
  int nl = clip_layers(c);
  /* checks: "last_hidden_state" (skip 0), "penultimate..." (skip 2), then each layer's stream */
  for (int check = -2; check <= nl; check++) {
    char tensor[64];
    if (check == -2) snprintf(tensor, sizeof tensor, "last_hidden_state");
    else if (check == -1) snprintf(tensor, sizeof tensor, "penultimate_hidden_state_final_ln");
    else if (check == 0) snprintf(tensor, sizeof tensor, "embeddings_output");
    else snprintf(tensor, sizeof tensor, "hidden_state_after_layer_%d", check);
    const st_tensor *ref_t = st_find(gold, tensor);
    if (!ref_t) continue;
    snprintf(name, sizeof name, "%s.%s", label, tensor);
    if (ref_t->numel != (size_t)B * CLIP_CTX * D) {
      verify_error(v, name, "golden tensor has another shape than the encoder's output");
      continue;
    }
    int ok = 1;
    for (int b = 0; b < B && ok; b++) {
      int ids[CLIP_CTX];
      for (int t = 0; t < CLIP_CTX; t++) ids[t] = (int)idf[b * CLIP_CTX + t];
      float *o = got + (size_t)b * CLIP_CTX * D;
      a2i2a_status st = check < 0 ? clip_encode(c, ids, check == -2 ? 0 : 2, o) : clip_encode_layers(c, ids, check, 0, o);
      if (st) {
        verify_error(v, name, a2i2a_last_error());
        ok = 0;
      }
    }
    if (!ok) continue;
    float *ref = malloc(ref_t->numel * sizeof(float));
    st_to_f32(ref_t, ref);
    double tol = verify_tolerance(manifest, tensor, verify_tolerance(manifest, "last_hidden_state", 5e-5));
    verify_compare(v, name, got, ref, ref_t->numel, tol);
    free(ref);
  }
  free(idf);
  free(got);
done:
  clip_free(c);
  sd_model_close(&m);
}

/* text_encoder_sd{1,2}: the model folder comes from config._name_or_path ("tiny-sd1/text_encoder"
 * -> tiny-sd1/, relative to the fixtures folder); the same weights in its other forms
 * (tiny-sd1.safetensors, and those of --model-dir: verify_model_forms) are checked too. */
void verify_text_encoder(verify_ctx *v, const char *json_path, const char *stem) {
  cJSON *j = verify_read_json(json_path);
  if (!j) {
    verify_error(v, stem, a2i2a_last_error());
    return;
  }
  const cJSON *config = cJSON_GetObjectItemCaseSensitive(j, "config");
  const cJSON *np = cJSON_GetObjectItemCaseSensitive(config, "_name_or_path");
  char gpath[4096], folder[512];
  snprintf(gpath, sizeof gpath, "%.*s.safetensors", (int)(strlen(json_path) - 5), json_path);
  if (!cJSON_IsString(np) || !strchr(np->valuestring, '/')) {
    verify_error(v, stem, "the case's config has no _name_or_path naming its model folder");
    cJSON_Delete(j);
    return;
  }
  snprintf(folder, sizeof folder, "%.*s", (int)(strrchr(np->valuestring, '/') - np->valuestring), np->valuestring);
  st_file gold;
  if (st_open(gpath, &gold)) {
    verify_error(v, stem, a2i2a_last_error());
    cJSON_Delete(j);
    return;
  }
  char label[256];
  verify_form forms[8];
  int nforms = verify_model_forms(v, folder, 0, forms, 8);
  for (int i = 0; i < nforms; i++) {
    if (forms[i].folder && !forms[i].extra) snprintf(label, sizeof label, "%s", stem);
    else snprintf(label, sizeof label, "%s[%s]", stem, forms[i].name);
    run_layout(v, j, &gold, label, forms[i].path, config);
  }
  if (!nforms) {
    char why[4700];
    snprintf(why, sizeof why, "model %s/ not found in %s", folder, v->dir);
    verify_error(v, stem, why);
  }
  st_close(&gold);
  cJSON_Delete(j);
}
