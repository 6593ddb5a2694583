/* Error reporting: the function that knows the file and the reason records one line,
 * every caller passes the status up unchanged. */
#ifndef A2I2A_ERR_H
#define A2I2A_ERR_H

#include "a2i2a.h"

/* Records "fmt..." as this thread's last error and returns status (so: return fail(...)). */
a2i2a_status fail(a2i2a_status status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prefixes the current last error with "prefix: " (to add a file name one level up). */
void fail_prefix(const char *prefix);
void fail_clear(void);

/* malloc/calloc that record A2I2A_ERR_NOMEM with what was being allocated. */
void *xmalloc(size_t n, const char *what);
void *xcalloc(size_t count, size_t size, const char *what);

#endif
