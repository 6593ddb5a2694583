/* The lists a user chooses from (the library's registries), for people and for scripts (--json):
 * each entry's name, description and the details its registry records. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

cJSON *cli_entry_json(const a2i2a_entry *e) {
  cJSON *o = cJSON_CreateObject(), *details = cJSON_Parse(e->json);
  cJSON_AddStringToObject(o, "name", e->name);
  cJSON_AddStringToObject(o, "description", e->description);
  for (cJSON *d = cJSON_IsObject(details) ? details->child : NULL, *next; d; d = next) {
    next = d->next;
    if (strcmp(d->string, "name") && strcmp(d->string, "description"))
      cJSON_AddItemToObject(o, d->string, cJSON_DetachItemViaPointer(details, d));
  }
  cJSON_Delete(details);
  return o;
}

cJSON *cli_list_json(a2i2a_list list) {
  cJSON *a = cJSON_CreateArray();
  for (int i = 0; i < a2i2a_list_count(list); i++) cJSON_AddItemToArray(a, cli_entry_json(a2i2a_list_entry(list, i)));
  return a;
}

int cli_print_json(cJSON *j) {
  char *text = cJSON_Print(j);
  cJSON_Delete(j);
  if (!text) {
    fprintf(stderr, "a2i2a: out of memory writing JSON\n");
    return EXIT_RUNTIME;
  }
  puts(text);
  cJSON_free(text);
  return EXIT_OK;
}

int cli_listing(const cli_command *cmd, const cli_args *a, a2i2a_list list) {
  if (a->list) return cli_print_list(list, a->json);
  if (a->json) return cli_usage_error(cmd->name, "--json goes with the list it prints (--list-...)");
  return CLI_CONTINUE;
}

int cli_print_list(a2i2a_list list, int json) {
  if (json) return cli_print_json(cli_list_json(list));
  int width = 0;
  for (int i = 0; i < a2i2a_list_count(list); i++) {
    int n = (int)strlen(a2i2a_list_entry(list, i)->name);
    if (n > width) width = n;
  }
  for (int i = 0; i < a2i2a_list_count(list); i++)
    printf("%-*s  %s\n", width, a2i2a_list_entry(list, i)->name, a2i2a_list_entry(list, i)->description);
  return EXIT_OK;
}
