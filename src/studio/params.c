/* The parameters of a run in the API: one flat object keyed by the chain's parameter table
 * (chain/params.h: run.json's keys, "i2i.strength"), applied over a preset. The table reads,
 * writes and checks every value, and /api/registry serves the library's registries (that table
 * among them) as they are, so the page's forms take every choice, default and range from there. */
#include <cjson/cJSON.h>
#include <string.h>

#include "chain/chain.h"
#include "chain/params.h"
#include "common/err.h"
#include "common/registry.h"
#include "studio/studio.h"

void studio_params_init(studio_params *sp) {
  memset(sp, 0, sizeof *sp);
  a2i2a_run_preset(NULL, &sp->p);
}

void studio_params_free(studio_params *sp) {
  cJSON_Delete(sp->json);
  sp->json = NULL;
}

a2i2a_status studio_params_from_json(const void *obj, const char *model, const char *vocoder, studio_params *sp) {
  studio_params_free(sp);
  studio_params_init(sp);
  if (obj && !cJSON_IsObject((const cJSON *)obj)) return fail(A2I2A_ERR_PARAM, "'params' must be an object");
  /* a copy, which p's strings point into */
  cJSON *o = sp->json = obj ? cJSON_Duplicate(obj, 1) : NULL;
  if (obj && !o) return fail(A2I2A_ERR_NOMEM, "out of memory reading the parameters");
  /* the preset first: the other keys change its values */
  const cJSON *preset = cJSON_GetObjectItemCaseSensitive(o, "preset");
  a2i2a_status st = preset ? param_from_json(param_find("preset"), preset, &sp->p) : A2I2A_OK;
  if (!st && (st = a2i2a_run_preset(sp->p.preset, &sp->p))) fail_prefix("preset");
  for (const cJSON *v = o ? o->child : NULL; v && !st; v = v->next) {
    const param_def *d = param_find(v->string);
    st = d ? param_from_json(d, v, &sp->p) : fail(A2I2A_ERR_PARAM, "unknown setting '%s'", v->string);
  }
  if (st) return st;
  /* one seed for the painting and the readings unless both are given, as `a2i2a run --seed` */
  if (cJSON_HasObjectItem(o, "i2i.seed") && !cJSON_HasObjectItem(o, "i2a.seed")) sp->p.i2a.seed = sp->p.i2i.seed;
  /* the server's --model stands in for the preset's, as --model does on the command line */
  if (model && !cJSON_HasObjectItem(o, "model.name")) sp->p.model = model;
  /* and its --vocoder, so that "all" includes the vocoder reading */
  if (vocoder && !cJSON_HasObjectItem(o, "i2a.vocoder")) sp->p.i2a.vocoder = vocoder;
  return params_check(&sp->p);
}

void *studio_params_to_json(const a2i2a_run_params *p) {
  cJSON *o = cJSON_CreateObject();
  for (int i = 0; o && i < param_count(); i++) cJSON_AddItemToObject(o, param_at(i)->entry.name, param_to_json(param_at(i), p));
  return o;
}

int studio_model_allowed(const studio *s, const char *model, const char *extra) {
  if (!model) return 0;
  if (s->cfg.model && !strcmp(model, s->cfg.model)) return 1;
  if (extra && !strcmp(model, extra)) return 1;
  for (int i = 0; i < chain_npresets; i++)
    if (!strcmp(chain_presets[i].model, model)) return 1;
  return 0;
}

int studio_vocoder_allowed(const studio *s, const char *vocoder) {
  return !vocoder || (s->cfg.vocoder && !strcmp(vocoder, s->cfg.vocoder));
}

/* A list's entries as they are: name, description and their JSON, parsed. */
static cJSON *list_json(a2i2a_list list) {
  cJSON *arr = cJSON_CreateArray();
  for (int i = 0; a2i2a_list_entry(list, i); i++) {
    const a2i2a_entry *e = a2i2a_list_entry(list, i);
    cJSON *it = cJSON_CreateObject();
    cJSON_AddStringToObject(it, "name", e->name);
    cJSON_AddStringToObject(it, "description", e->description ? e->description : "");
    cJSON *d = cJSON_Parse(e->json ? e->json : "{}");
    cJSON_AddItemToObject(it, "details", d ? d : cJSON_CreateObject());
    cJSON_AddItemToArray(arr, it);
  }
  return arr;
}

char *studio_registry_json(const studio *s) {
  cJSON *root = cJSON_CreateObject();
  cJSON *lists = cJSON_AddObjectToObject(root, "lists");
  for (int l = 0; chain_list_table((a2i2a_list)l); l++)
    cJSON_AddItemToObject(lists, chain_list_table((a2i2a_list)l)->name, list_json((a2i2a_list)l));
  /* what model.name may be: the server's model and the presets' */
  cJSON *models = cJSON_AddArrayToObject(root, "models");
  if (s->cfg.model) cJSON_AddItemToArray(models, cJSON_CreateString(s->cfg.model));
  for (int i = 0; i < chain_npresets; i++) {
    int seen = 0;
    for (cJSON *m = models->child; m; m = m->next) seen |= !strcmp(m->valuestring, chain_presets[i].model);
    if (!seen) cJSON_AddItemToArray(models, cJSON_CreateString(chain_presets[i].model));
  }
  if (s->cfg.model) cJSON_AddStringToObject(root, "model", s->cfg.model);
  else cJSON_AddNullToObject(root, "model");
  /* what i2a.vocoder may be: none, or the server's --vocoder */
  cJSON *vocoders = cJSON_AddArrayToObject(root, "vocoders");
  if (s->cfg.vocoder) cJSON_AddItemToArray(vocoders, cJSON_CreateString(s->cfg.vocoder));
  char *text = cJSON_PrintUnformatted(root);
  cJSON_Delete(root);
  return text;
}
