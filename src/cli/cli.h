/* Shared helpers of the a2i2a subcommands: exit codes, one-line errors, the option tables from
 * which each subcommand's parsing, --help, typo suggestions and shell completion are made. */
#ifndef A2I2A_CLI_H
#define A2I2A_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "a2i2a.h"
#include "common/outfile.h"
#include "common/registry.h"

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2, EXIT_CANCELLED = 130 };

/* "a2i2a: <message>" on stderr; returns EXIT_USAGE, with a hint to --help. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints a2i2a_last_error() (one line) and returns EXIT_RUNTIME (EXIT_USAGE for ERR_PARAM,
 * cli_cancelled_exit() for ERR_CANCELLED). */
int cli_fail(a2i2a_status st);

/* Strict parser: the whole string must be a whole number within [min, max]. 0 on success; on
 * failure it prints a usage error naming the option. */
int cli_int(const char *cmd, const char *opt, const char *s, long min, long max, long *out);

/* Progress on stderr: a live line when stderr is a terminal (auto), plain lines even when it is
 * not (plain), none; quiet: no progress and no notes (warnings only). */
enum { CLI_QUIET = -1, CLI_PROGRESS_AUTO = 0, CLI_PROGRESS_PLAIN = 1, CLI_PROGRESS_NONE = 2 };

/* A job for one command: progress on stderr by mode (above), notes and warnings, Ctrl-C/SIGTERM
 * as cancel. NULL on out of memory. cli_job_done clears the live line and frees the job (after
 * -v, it first prints the job's stage timings). */
a2i2a_job *cli_job_new(int mode);
/* --preview FILE: the jobs made after it write each img2img step's preview there, replacing the
 * last; taesd (--preview-taesd) picks the decoder: NULL or "auto" (--taesd's TAESD, else
 * madebyollin/taesd when the Hugging Face cache holds it, else the latent projection at 1/8
 * size), "none" (always the projection), or a TAESD of its own. */
void cli_job_preview(const char *path, const char *taesd);
/* --preview's and --preview-taesd's rows, and their check before the work (a PNG name, not over
 * a file without --force; --preview-taesd only with --preview). */
#define CLI_OPTS_PREVIEW(id_, taesd_id_)                                                                     \
  {.name = "preview", .arg = "FILE", .id = id_, .flags = CLI_PATH | CLI_REPLAY, .dflt = "none",              \
   .help = "write the painting as it forms to FILE (PNG) after every step (--preview-taesd says how)"},      \
  {.name = "preview-taesd", .arg = "M", .id = taesd_id_, .flags = CLI_PATH | CLI_REPLAY,                    \
   .dflt = "auto: --taesd's, else madebyollin/taesd when it is in the Hugging Face cache, else none",       \
   .help = "the previews' decoder: a TAESD (folder, file or ORG/NAME; it never paints), or none: the "     \
           "latent projection at 1/8 size (cheapest)"}
int cli_preview_check(const char *cmd, const char *path, const char *taesd, int force);
void cli_job_done(a2i2a_job *job);
/* The exit status of a cancelled command: 128 + the signal that cancelled it, as a shell reports
 * a process that signal ended (130 for SIGINT, 143 for SIGTERM); 130 if none did. */
int cli_cancelled_exit(void);
/* -v: one line on stderr with the version, the BLAS kernels and the thread count, now; and the
 * timings of each job at cli_job_done. */
void cli_verbose(int on);
int cli_is_verbose(void);
/* -v: the model's description (its family, layout, parts and size) on stderr. */
void cli_describe_model(const a2i2a_model *model);

/* ---------------------------------------------------------------- "-" for stdin and stdout (cli_io.c) */

int cli_dash(const char *s);
/* A private file: in a locked folder of our own (common/outfile.h), removed with it. */
typedef struct {
  run_folder folder;
  char path[4500];
} cli_temp;
/* Copies stdin into t->path, in a private folder in dir (NULL: $TMPDIR, else /tmp). An exit
 * status after one line (an empty stdin is refused). */
int cli_stdin_to_file(const char *cmd, cli_temp *t, const char *dir);
/* A private file NAME for an output meant for stdout (refused when stdout is a terminal). */
int cli_stdout_file(const char *cmd, cli_temp *t, const char *name);
int cli_file_to_stdout(const char *cmd, const cli_temp *t);
void cli_temp_remove(cli_temp *t);
/* cli_fail, the message naming `as` ("stdin") where it names t's private file. */
int cli_fail_as(a2i2a_status st, const cli_temp *t, const char *as);

/* One input and one output, each a path or "-": in and out are what to hand the library. */
typedef struct {
  const char *in, *out;
  cli_temp in_temp, out_temp;
} cli_stdio;
/* out_name: the private output's file name (its extension picks the format). */
int cli_stdio_open(const char *cmd, cli_stdio *s, const char *in, const char *out, const char *out_name);
/* After the library's call: the output to stdout, or the error (naming stdin, not the private
 * copy); removes the private files. The exit status. */
int cli_stdio_close(const char *cmd, cli_stdio *s, a2i2a_status st);

/* ---------------------------------------------------------------- option tables (cli_options.c) */

/* The options the parser handles itself (cli_option.id). */
enum {
  CLI_ID_HELP = -1, CLI_ID_THREADS = -2, CLI_ID_FORCE = -3, CLI_ID_PROGRESS = -4, CLI_ID_QUIET = -5, CLI_ID_VERBOSE = -6,
  CLI_ID_LIST = -7, /* --list-THINGS: print a list and stop */
  CLI_ID_JSON = -8  /* --json: a list or listing as JSON */
};

enum {
  CLI_FIRST = 1 << 0,  /* applied before the others, whatever the order (run's --preset) */
  CLI_REPLAY = 1 << 1, /* run: allowed with --replay */
  CLI_OFF = 1 << 2,    /* a flag parameter the option turns off (--no-sheet) */
  CLI_PATH = 1 << 3,   /* the argument is a file or folder (shell completion) */
};

typedef struct cli_option {
  const char *name;    /* long name without "--"; NULL with heading: a heading of the help */
  char letter;         /* the short option, 0: none */
  const char *arg;     /* the argument's name in help ("N"); NULL: it takes none */
  const char *param;   /* the run parameter it sets (a key of chain/params.h): its range,
                          choices, help line and default come from there */
  int id;              /* for options without a parameter: what the command's handler gets */
  const char *help;    /* help line; NULL: the parameter's */
  const char *dflt;    /* the default as --help shows it; NULL: the parameter's value in the
                          command's defaults; "": none shown */
  /* the default, when it is known only at run time (NULL: dflt) */
  void (*show_default)(const struct cli_option *o, char *buf, size_t size);
  const registry_table *choices; /* the values of an option without a parameter (checked,
                                    listed in help, offered by completion) */
  unsigned flags;
  const char *alias;   /* another long name for it */
  const char *heading; /* a heading row: the help's next section */
} cli_option;

typedef struct {
  const char *name;           /* "i2i" */
  const char *summary;        /* one line, for `a2i2a --help` */
  const char *usage;          /* the usage lines and what the command does, before the options */
  const char *listing_title;  /* a list the help shows with descriptions, after the usage */
  const registry_table *listing;
  const char *footer;         /* after them ("exit status: ...") */
  const cli_option *options;  /* ends with a row of zeros */
  int stop_at_operand;        /* options end at the first operand (tokenize's TEXT) */
  const char *operands;       /* words completion offers for operands ("pull list") */
  const registry_table *operand_list; /* or the names of a list; neither: files */
  void (*defaults)(a2i2a_run_params *p); /* the command's parameters before any option (help and
                                            the man page show them); NULL: none */
} cli_command;

enum { CLI_MAX_OPTIONS = 96 };

/* What parsing gathered besides the parameters. */
typedef struct {
  int threads;             /* --threads N (0: not given: physical cores) */
  int force;               /* -f, --force */
  int progress;            /* cli_job_new's mode: --progress, -q */
  int quiet, verbose;      /* -q, -v */
  int list, json;          /* --list-THINGS, --json */
  int operand;             /* argv index of the first operand */
  unsigned char given[CLI_MAX_OPTIONS]; /* the command's options[i] was given */
} cli_args;

/* The command's handler: the value of one of its own options (id). 0, or an exit status after
 * printing one line. */
typedef int (*cli_handler)(void *ctx, int id, const char *value);

enum { CLI_CONTINUE = -1 };
/* Parses argv[1..] by cmd's table: parameters into *p (NULL for a command without any), the
 * shared options into *a, the command's own through handle(ctx, ...). Options marked CLI_FIRST
 * are applied first. --help prints the help with the defaults in *dflt (p when NULL). Returns CLI_CONTINUE, or the exit status to
 * return: EXIT_OK after --help, EXIT_USAGE after one line on stderr (an unknown option with the
 * nearest one, a missing value, a value out of range). */
int cli_parse(const cli_command *cmd, int argc, char **argv, a2i2a_run_params *p, const a2i2a_run_params *dflt,
              cli_args *a, cli_handler handle, void *ctx);
/* Whether option NAME (its long name) was given. */
int cli_given(const cli_command *cmd, const cli_args *a, const char *name);
/* The first option given that is not marked with flag (NULL: none). */
const cli_option *cli_given_without(const cli_command *cmd, const cli_args *a, unsigned flag);
/* Checks p by the parameters' table; an error names the command's option for the parameter
 * when it has one. 0 or EXIT_USAGE after one line. */
int cli_check_params(const cli_command *cmd, const a2i2a_run_params *p);
void cli_help(const cli_command *cmd, const a2i2a_run_params *dflt, FILE *f);
/* The help line of o (what it does, what it takes, its default), as --help shows it; \1 marks
 * spaces the help does not break lines at. */
void cli_option_text(const cli_option *o, const a2i2a_run_params *dflt, char *buf, size_t size);

/* show_default of an a2i option: each style's default from its registry entry ("seed 3600,
 * riffusion 600, fullband 600"); the styles that do not take it are left out. */
void cli_style_defaults(const cli_option *o, char *buf, size_t size);

/* The nearest of words[0..n) to word by edit distance (a swap of two letters counts one), or
 * NULL when none is near enough to be a typo. */
const char *cli_nearest(const char *word, const char *const *words, int n);

/* The subcommands: the table of each, and int cmd_NAME(int argc, char **argv), argv[0] = the
 * subcommand name. */
extern const cli_command cli_a2i, cli_i2a, cli_i2i, cli_run, cli_batch, cli_verify, cli_tokenize, cli_presets, cli_models,
    cli_serve;
extern const cli_command cli_grid;
int cmd_grid(int argc, char **argv);
int cmd_a2i(int argc, char **argv);
int cmd_i2a(int argc, char **argv);
int cmd_i2i(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_batch(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_presets(int argc, char **argv);
int cmd_models(int argc, char **argv);
int cmd_serve(int argc, char **argv);

/* ---------------------------------------------------------------- lists (cli_list.c) */

struct cJSON;
/* An entry as one JSON object: "name", "description", then the details of its registry. */
struct cJSON *cli_entry_json(const a2i2a_entry *e);
/* Every entry of list, as a JSON array. */
struct cJSON *cli_list_json(a2i2a_list list);
/* Prints j (formatted) on stdout and frees it; an exit status. */
int cli_print_json(struct cJSON *j);
/* The list on stdout: "NAME  description" lines, or (json) the JSON array. */
int cli_print_list(a2i2a_list list, int json);
/* --list-THINGS [--json] of a command: the list printed and an exit status; CLI_CONTINUE when
 * no list was asked for (--json alone is a usage error). */
int cli_listing(const cli_command *cmd, const cli_args *a, a2i2a_list list);
/* The rows of --list-THINGS and --json. */
#define CLI_OPT_LIST(things) \
  {.name = "list-" things, .id = CLI_ID_LIST, .help = "print every one of the " things " with a one-line description"}
#define CLI_OPT_JSON {.name = "json", .id = CLI_ID_JSON, .help = "print the list as JSON (for scripts)"}

/* `a2i2a completion bash|zsh`: a completion script made from the commands' tables. */
void cli_completion_bash(FILE *f, const cli_command *const *cmds, int n);
void cli_completion_zsh(FILE *f, const cli_command *const *cmds, int n);
/* `a2i2a manpage`: a2i2a(1) in roff (man(7) macros), made from the same tables. */
void cli_manpage(FILE *f, const cli_command *const *cmds, int n);
/* Set while the man page is written: defaults that depend on the machine say their rule only. */
extern int cli_writing_manpage;

/* Rows every command with a job shares (each applies to run --replay too). */
#define CLI_OPT_THREADS                                                                                           \
  {.name = "threads", .arg = "N", .id = CLI_ID_THREADS, .help = "threads for the kernels", .dflt = "physical cores", \
   .flags = CLI_REPLAY}
#define CLI_OPT_FORCE \
  {.name = "force", .letter = 'f', .id = CLI_ID_FORCE, .help = "replace existing outputs", .flags = CLI_REPLAY}
#define CLI_OPT_PROGRESS                                                                                         \
  {.name = "progress", .arg = "MODE", .id = CLI_ID_PROGRESS, .choices = &cli_progress_modes, .dflt = "auto",     \
   .help = "progress on stderr (auto: a live line when stderr is a terminal; plain: lines, also when it is "   \
           "not)",                                                                                               \
   .flags = CLI_REPLAY}
#define CLI_OPT_QUIET                                                                                             \
  {.name = "quiet", .letter = 'q', .id = CLI_ID_QUIET, .help = "no progress and no notes (warnings and errors only)", \
   .flags = CLI_REPLAY}
#define CLI_OPT_VERBOSE                                                                                     \
  {.name = "verbose", .letter = 'v', .id = CLI_ID_VERBOSE, .flags = CLI_REPLAY,                              \
   .help = "more detail on stderr: the version, BLAS kernels and threads first, the model, the stage timings"}
#define CLI_OPT_HELP {.name = "help", .letter = 'h', .id = CLI_ID_HELP, .help = "this help", .flags = CLI_REPLAY}
/* All of them: the options of a command that runs a job. */
#define CLI_OPTS_JOB CLI_OPT_THREADS, CLI_OPT_FORCE, CLI_OPT_PROGRESS, CLI_OPT_QUIET, CLI_OPT_VERBOSE, CLI_OPT_HELP
extern const registry_table cli_progress_modes;

/* ---------------------------------------------------------------- LoRAs (cli_lora.c) */

/* --lora PATH[:SCALE] (repeatable) and --lora-dir DIR, the rows of i2i and run; the command's
 * handler passes them to cli_lora_option with its own ids. */
#define CLI_OPTS_LORA(lora_id, dir_id)                                                                          \
  {.name = "lora", .arg = "PATH[:SCALE]", .id = lora_id, .flags = CLI_PATH, .dflt = "none",                     \
   .help = "merge a LoRA into the model at SCALE (default 1); repeat for several; <lora:NAME:SCALE> in the "    \
           "prompt does the same with --lora-dir's NAME.safetensors"},                                          \
  {.name = "lora-dir", .arg = "DIR", .id = dir_id, .flags = CLI_PATH,                                            \
   .dflt = "$A2I2A_LORA_DIR, else loras/ beside the model", .help = "where <lora:NAME:SCALE> tags find NAME.safetensors"}

enum { CLI_MAX_LORAS = 16 };
typedef struct {
  const char *dir; /* --lora-dir, or NULL */
  int n;           /* --lora, in the order given */
  const char *path[CLI_MAX_LORAS];
  double scale[CLI_MAX_LORAS];
  char **owned;    /* strings made for the lists (cli_lora_free) */
  int nowned;
} cli_loras;

/* --lora's value (dir 0) or --lora-dir's (dir 1): 0, or an exit status after a usage error. */
int cli_lora_option(const char *cmd, cli_loras *o, int dir, const char *value);
/* The LoRAs of one painting: --lora's, then the tags of *prompt, each NAME.safetensors in the
 * LoRA folder (--lora-dir, else $A2I2A_LORA_DIR, else loras/ beside model); *prompt becomes
 * the prompt without its tags. list gets CLI_MAX_LORAS at most (*n). 0, or an exit status after
 * one line. */
int cli_lora_list(const char *cmd, cli_loras *o, const char *model, const char **prompt, a2i2a_lora *list, int *n);
/* A <lora:NAME:SCALE> tag in --to-prompt is refused (usage error, one line): a LoRA is merged into
 * the model for the whole run, the same at both endpoints of a travel, so it cannot travel. */
int cli_lora_no_travel(const char *cmd, const a2i2a_i2i_params *p);
void cli_lora_free(cli_loras *o);

#endif
