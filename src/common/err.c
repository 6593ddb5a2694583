#include "common/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Thread_local char last_error[1024];

a2i2a_status fail(a2i2a_status status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(last_error, sizeof last_error, fmt, ap);
  va_end(ap);
  return status;
}

void fail_prefix(const char *prefix) {
  char tmp[sizeof last_error];
  size_t n = strlen(prefix);
  if (n > sizeof tmp / 2) n = sizeof tmp / 2;
  memcpy(tmp, prefix, n);
  memcpy(tmp + n, ": ", 2);
  size_t m = strnlen(last_error, sizeof tmp - n - 3);
  memcpy(tmp + n + 2, last_error, m);
  tmp[n + 2 + m] = 0;
  memcpy(last_error, tmp, sizeof tmp);
}

void fail_clear(void) { last_error[0] = 0; }

const char *a2i2a_last_error(void) { return last_error; }

const char *a2i2a_strerror(a2i2a_status status) {
  switch (status) {
  case A2I2A_OK: return "success";
  case A2I2A_ERR_IO: return "input/output error";
  case A2I2A_ERR_FORMAT: return "invalid or corrupt file";
  case A2I2A_ERR_PARAM: return "invalid parameter";
  case A2I2A_ERR_NOMEM: return "out of memory";
  case A2I2A_ERR_UNSUPPORTED: return "unsupported input";
  case A2I2A_ERR_EXISTS: return "output exists (use --force to overwrite)";
  case A2I2A_ERR_LIMIT: return "input beyond a size limit";
  case A2I2A_ERR_MODEL: return "model missing or invalid";
  case A2I2A_ERR_INTERNAL: return "internal error";
  case A2I2A_ERR_CANCELLED: return "cancelled";
  }
  return "unknown error";
}

#define STRINGIFY(x) #x
#define VERSION_STRING(major, minor, patch) STRINGIFY(major) "." STRINGIFY(minor) "." STRINGIFY(patch)

/* From the header's macros (the one place the version is typed), as compiled into the library. */
const char *a2i2a_version(void) {
  return VERSION_STRING(A2I2A_VERSION_MAJOR, A2I2A_VERSION_MINOR, A2I2A_VERSION_PATCH);
}

void a2i2a_free(void *p) { free(p); }

void *xmalloc(size_t n, const char *what) {
  void *p = malloc(n ? n : 1);
  if (!p) fail(A2I2A_ERR_NOMEM, "out of memory allocating %zu bytes for %s", n, what);
  return p;
}

void *xcalloc(size_t count, size_t size, const char *what) {
  void *p = calloc(count ? count : 1, size ? size : 1);
  if (!p) fail(A2I2A_ERR_NOMEM, "out of memory allocating %zu x %zu bytes for %s", count, size, what);
  return p;
}
