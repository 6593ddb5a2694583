#include "common/registry.h"

#include <stdio.h>
#include <string.h>

#include "common/err.h"

const a2i2a_entry *registry_entry(const registry_table *t, int i) {
  if (i < 0 || i >= t->count) return NULL;
  return (const a2i2a_entry *)((const char *)t->first + (size_t)i * t->stride);
}

int registry_index(const registry_table *t, const char *name) {
  for (int i = 0; name && i < t->count; i++)
    if (!strcmp(registry_entry(t, i)->name, name)) return i;
  return -1;
}

const char *registry_names(const registry_table *t, char *buf, size_t size) {
  size_t len = 0;
  buf[0] = 0;
  for (int i = 0; i < t->count && len < size; i++)
    len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? ", " : "", registry_entry(t, i)->name);
  return buf;
}

a2i2a_status registry_unknown(const registry_table *t, const char *name) {
  char names[512];
  return fail(A2I2A_ERR_PARAM, "unknown %s '%s' (one of: %s)", t->noun, name ? name : "",
              registry_names(t, names, sizeof names));
}

a2i2a_status registry_parse_list(const registry_table *t, const char *list, int *idx, int max, int *n) {
  *n = 0;
  if (!list || !*list) return fail(A2I2A_ERR_PARAM, "no %s named (a list like a,b or all)", t->noun);
  if (!strcmp(list, "all")) {
    for (int i = 0; i < t->count && *n < max; i++) idx[(*n)++] = i;
    return A2I2A_OK;
  }
  for (const char *s = list;;) {
    size_t len = strcspn(s, ",");
    char name[64];
    if (len == 0 || len >= sizeof name) return fail(A2I2A_ERR_PARAM, "empty or overlong %s name in '%s'", t->noun, list);
    memcpy(name, s, len);
    name[len] = 0;
    int k = registry_index(t, name);
    if (k < 0) {
      char names[512];
      return fail(A2I2A_ERR_PARAM, "unknown %s '%s' (one of: %s, or all)", t->noun, name,
                  registry_names(t, names, sizeof names));
    }
    int dup = 0;
    for (int i = 0; i < *n; i++) dup |= idx[i] == k;
    if (!dup) {
      if (*n == max) return fail(A2I2A_ERR_PARAM, "more than %d %ss in '%s'", max, t->noun, list);
      idx[(*n)++] = k;
    }
    if (!s[len]) return A2I2A_OK;
    s += len + 1;
  }
}
