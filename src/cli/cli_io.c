/* "-" as standard input or output: stdin is copied to a private file first, and an output
 * meant for stdout is made as a file and copied there, so that the library's calls (which
 * take paths, check their inputs and write atomically) serve both. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/err.h"

int cli_dash(const char *s) { return s && !strcmp(s, "-"); }

/* A private folder in dir, or in $TMPDIR (/tmp) when dir is NULL. */
static int temp_folder(const char *cmd, cli_temp *t, const char *dir) {
  memset(t, 0, sizeof *t);
  t->folder.lock = -1;
  if (!dir) dir = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  if (run_folder_create(&t->folder, dir)) {
    fprintf(stderr, "a2i2a %s: %s\n", cmd, a2i2a_last_error());
    return EXIT_RUNTIME;
  }
  return EXIT_OK;
}

int cli_stdin_to_file(const char *cmd, cli_temp *t, const char *dir) {
  int rc = temp_folder(cmd, t, dir);
  if (rc) return rc;
  snprintf(t->path, sizeof t->path, "%s/stdin", t->folder.path);
  FILE *f = fopen(t->path, "wb");
  char buf[1 << 16];
  size_t n, total = 0;
  int err = !f;
  while (f && (n = fread(buf, 1, sizeof buf, stdin)) > 0) {
    total += n;
    if (fwrite(buf, 1, n, f) != n) err = 1;
  }
  if (ferror(stdin)) err = 1;
  if (f && fclose(f) != 0) err = 1;
  if (err) {
    fprintf(stderr, "a2i2a %s: stdin: cannot keep it in %s: %s\n", cmd, t->folder.path, strerror(errno));
    cli_temp_remove(t);
    return EXIT_RUNTIME;
  }
  if (!total) {
    fprintf(stderr, "a2i2a %s: stdin: empty (nothing was piped in)\n", cmd);
    cli_temp_remove(t);
    return EXIT_RUNTIME;
  }
  return EXIT_OK;
}

int cli_stdout_file(const char *cmd, cli_temp *t, const char *name) {
  if (isatty(STDOUT_FILENO))
    return cli_usage_error(cmd, "-o -: stdout is a terminal (redirect it to a file or a program)");
  int rc = temp_folder(cmd, t, NULL);
  if (!rc) snprintf(t->path, sizeof t->path, "%s/%s", t->folder.path, name);
  return rc;
}

int cli_file_to_stdout(const char *cmd, const cli_temp *t) {
  FILE *f = fopen(t->path, "rb");
  char buf[1 << 16];
  size_t n;
  int err = !f;
  while (f && (n = fread(buf, 1, sizeof buf, f)) > 0)
    if (fwrite(buf, 1, n, stdout) != n) err = 1;
  if (f) fclose(f);
  if (fflush(stdout) != 0) err = 1;
  if (err) {
    fprintf(stderr, "a2i2a %s: stdout: cannot write: %s\n", cmd, strerror(errno));
    return EXIT_RUNTIME;
  }
  return EXIT_OK;
}

void cli_temp_remove(cli_temp *t) { run_folder_remove(&t->folder); }

int cli_fail_as(a2i2a_status st, const cli_temp *t, const char *as) {
  const char *m = a2i2a_last_error();
  char line[2048];
  size_t len = t && *t->path ? strlen(t->path) : 0;
  const char *at = len ? strstr(m, t->path) : NULL;
  if (!at) return cli_fail(st);
  /* the message names the private copy: name what the user gave instead */
  snprintf(line, sizeof line, "%.*s%s%s", (int)(at - m), m, as, at + len);
  fail(st, "%s", line);
  return cli_fail(st);
}

int cli_stdio_open(const char *cmd, cli_stdio *s, const char *in, const char *out, const char *out_name) {
  memset(s, 0, sizeof *s);
  s->in = in, s->out = out;
  int rc = EXIT_OK;
  if (cli_dash(in) && !(rc = cli_stdin_to_file(cmd, &s->in_temp, NULL))) s->in = s->in_temp.path;
  if (!rc && cli_dash(out) && !(rc = cli_stdout_file(cmd, &s->out_temp, out_name))) s->out = s->out_temp.path;
  if (rc) cli_temp_remove(&s->in_temp);
  return rc;
}

int cli_stdio_close(const char *cmd, cli_stdio *s, a2i2a_status st) {
  int rc = st ? cli_fail_as(st, &s->in_temp, "stdin") : EXIT_OK;
  if (!st && s->out_temp.path[0]) rc = cli_file_to_stdout(cmd, &s->out_temp);
  cli_temp_remove(&s->in_temp);
  cli_temp_remove(&s->out_temp);
  return rc;
}
