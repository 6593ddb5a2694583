#include "cli/cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

int cli_usage_error(const char *cmd, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "a2i2a%s%s: ", cmd ? " " : "", cmd ? cmd : "");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, " (see 'a2i2a%s%s --help')\n", cmd ? " " : "", cmd ? cmd : "");
  va_end(ap);
  return EXIT_USAGE;
}

int cli_fail(a2i2a_status st) {
  const char *m = a2i2a_last_error();
  fprintf(stderr, "a2i2a: %s\n", m && *m ? m : a2i2a_strerror(st));
  return st == A2I2A_ERR_PARAM ? EXIT_USAGE : st == A2I2A_ERR_CANCELLED ? cli_cancelled_exit() : EXIT_RUNTIME;
}

int cli_int(const char *cmd, const char *opt, const char *s, long min, long max, long *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || end == s || *end || v < min || v > max)
    return cli_usage_error(cmd, "%s: '%s' is not a whole number in [%ld, %ld]", opt, s, min, max), -1;
  *out = v;
  return 0;
}
