/* Shared helpers of the a2i2a subcommands: exit codes, one-line errors, strict numbers. */
#ifndef A2I2A_CLI_H
#define A2I2A_CLI_H

#include <stdint.h>
#include "a2i2a.h"

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2, EXIT_CANCELLED = 130 };

/* "a2i2a: <message>" on stderr; returns EXIT_USAGE, with a hint to --help. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints a2i2a_last_error() (one line) and returns EXIT_RUNTIME (EXIT_USAGE for ERR_PARAM). */
int cli_fail(a2i2a_status st);

/* Strict parsers: the whole string must be a number within [min, max]. 0 on success; on
 * failure they print a usage error naming the option. */
int cli_int(const char *cmd, const char *opt, const char *s, long min, long max, long *out);
int cli_u64(const char *cmd, const char *opt, const char *s, uint64_t *out);
int cli_double(const char *cmd, const char *opt, const char *s, double min, double max, double *out);

/* A job for one command: progress on stderr (mode -1 quiet: warnings only; 0 a live line when
 * stderr is a terminal; 1 plain lines), notes and warnings, Ctrl-C/SIGTERM as cancel. NULL on
 * out of memory. cli_job_done clears the live line and frees the job. */
a2i2a_job *cli_job_new(int mode);
void cli_job_done(a2i2a_job *job);

/* The subcommands: int cmd_NAME(int argc, char **argv), argv[0] = the subcommand name. */
int cmd_a2i(int argc, char **argv);
int cmd_i2a(int argc, char **argv);
int cmd_i2i(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_presets(int argc, char **argv);
int cmd_models(int argc, char **argv);
int cmd_serve(int argc, char **argv);

#endif
