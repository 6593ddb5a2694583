/* One option table per subcommand (cli.h): getopt_long's tables, the parsing and checking of
 * each value (ranges and choices of the run parameters from chain/params.h), --help with the
 * defaults, and the nearest option for a typo all come from it. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/params.h"
#include "cli/cli.h"

/* In the order of CLI_PROGRESS_AUTO, _PLAIN, _NONE: a mode is its row. */
static const struct {
  a2i2a_entry entry;
} progress_modes[] = {
    {{"auto", "a live line when stderr is a terminal, nothing otherwise", "{}"}},
    {{"plain", "a line per stage (at most one a second within one), also when stderr is not a terminal", "{}"}},
    {{"none", "no progress; notes and warnings are still shown", "{}"}},
};
const registry_table cli_progress_modes = REGISTRY_TABLE(NULL, "progress mode", progress_modes, NULL);

static int row_count(const cli_command *cmd) {
  int n = 0;
  while (cmd->options[n].name || cmd->options[n].heading) n++;
  return n;
}

static const param_def *param_of(const cli_option *o) { return o->param ? param_find(o->param) : NULL; }

/* ---------------------------------------------------------------- typos */

/* Optimal string alignment distance: insertions, deletions, substitutions and swaps of two
 * neighbouring letters cost one each. */
static int edit_distance(const char *a, const char *b) {
  enum { MAX = 64 };
  int n = (int)strnlen(a, MAX - 1), m = (int)strnlen(b, MAX - 1);
  static _Thread_local int d[MAX][MAX];
  for (int i = 0; i <= n; i++) d[i][0] = i;
  for (int j = 0; j <= m; j++) d[0][j] = j;
  for (int i = 1; i <= n; i++)
    for (int j = 1; j <= m; j++) {
      int cost = a[i - 1] != b[j - 1], v = d[i - 1][j - 1] + cost;
      if (d[i - 1][j] + 1 < v) v = d[i - 1][j] + 1;
      if (d[i][j - 1] + 1 < v) v = d[i][j - 1] + 1;
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v) v = d[i - 2][j - 2] + 1;
      d[i][j] = v;
    }
  return d[n][m];
}

const char *cli_nearest(const char *word, const char *const *words, int n) {
  size_t len = strlen(word);
  int limit = len <= 4 ? 1 : len <= 8 ? 2 : 3, best = -1, best_d = limit + 1;
  for (int i = 0; i < n; i++) {
    int dist = edit_distance(word, words[i]);
    if (dist < best_d) best_d = dist, best = i;
  }
  return best >= 0 ? words[best] : NULL;
}

/* The long names of cmd (and their aliases) into names[]; their count. */
static int long_names(const cli_command *cmd, const char **names) {
  int k = 0;
  for (const cli_option *o = cmd->options; o->name || o->heading; o++) {
    if (o->name) names[k++] = o->name;
    if (o->alias) names[k++] = o->alias;
  }
  return k;
}

static int unknown_option(const cli_command *cmd, const char *arg, int letter) {
  char word[64];
  if (letter > 0 && letter < 256 && arg[1] != '-') return cli_usage_error(cmd->name, "unknown option '-%c'", letter);
  snprintf(word, sizeof word, "%.*s", (int)strcspn(arg, "="), arg);
  const char *names[2 * CLI_MAX_OPTIONS], *match[2 * CLI_MAX_OPTIONS];
  int n = long_names(cmd, names), nmatch = 0;
  /* getopt_long takes any unambiguous beginning of a name: this one is the beginning of several */
  for (int i = 0; i < n; i++)
    if (word[0] == '-' && word[1] == '-' && word[2] && !strncmp(names[i], word + 2, strlen(word + 2))) match[nmatch++] = names[i];
  if (nmatch > 1) {
    char list[512] = "";
    for (int i = 0, len = 0; i < nmatch && len < (int)sizeof list; i++)
      len += snprintf(list + len, sizeof list - len, "%s--%s", i ? ", " : "", match[i]);
    return cli_usage_error(cmd->name, "option '%s' is ambiguous (%s)", word, list);
  }
  const char *near = word[0] == '-' && word[1] == '-' ? cli_nearest(word + 2, names, n) : NULL;
  if (near) {
    fprintf(stderr, "a2i2a %s: unknown option '%s' (did you mean --%s?)\n", cmd->name, word, near);
    return EXIT_USAGE;
  }
  return cli_usage_error(cmd->name, "unknown option '%s'", word);
}

/* ---------------------------------------------------------------- parsing */

static int apply(const cli_command *cmd, const cli_option *o, const char *v, a2i2a_run_params *p, cli_args *a,
                 cli_handler handle, void *ctx) {
  const param_def *d = param_of(o);
  if (d && !o->arg) {
    *(int *)param_field(d, p) = !(o->flags & CLI_OFF);
    return CLI_CONTINUE;
  }
  if (d) return param_parse(d, v, p) ? cli_usage_error(cmd->name, "--%s: %s", o->name, a2i2a_last_error()) : CLI_CONTINUE;
  if (o->choices && registry_index(o->choices, v) < 0) {
    registry_unknown(o->choices, v);
    return cli_usage_error(cmd->name, "--%s: %s", o->name, a2i2a_last_error());
  }
  long l;
  switch (o->id) {
  case CLI_ID_THREADS:
    if (cli_int(cmd->name, "--threads", v, 1, 1024, &l)) return EXIT_USAGE;
    a->threads = (int)l;
    return CLI_CONTINUE;
  case CLI_ID_FORCE: a->force = 1; return CLI_CONTINUE;
  case CLI_ID_PROGRESS: a->progress = registry_index(&cli_progress_modes, v); return CLI_CONTINUE;
  case CLI_ID_QUIET: a->progress = CLI_QUIET, a->quiet = 1; return CLI_CONTINUE;
  case CLI_ID_VERBOSE: a->verbose = 1; return CLI_CONTINUE;
  case CLI_ID_LIST: a->list = 1; return CLI_CONTINUE;
  case CLI_ID_JSON: a->json = 1; return CLI_CONTINUE;
  }
  int rc = handle ? handle(ctx, o->id, v) : 0;
  return rc ? rc : CLI_CONTINUE;
}

int cli_parse(const cli_command *cmd, int argc, char **argv, a2i2a_run_params *p, const a2i2a_run_params *dflt,
              cli_args *a, cli_handler handle, void *ctx) {
  const cli_option *opts = cmd->options;
  const int n = row_count(cmd);
  struct option longs[2 * CLI_MAX_OPTIONS + 1];
  char shorts[3 * CLI_MAX_OPTIONS + 3];
  int nl = 0, ns = 0;
  if (cmd->stop_at_operand) shorts[ns++] = '+';
  shorts[ns++] = ':'; /* a missing value is told apart from an unknown option */
  for (int i = 0; i < n && i < CLI_MAX_OPTIONS; i++) {
    if (!opts[i].name) continue;
    int has_arg = opts[i].arg ? required_argument : no_argument;
    longs[nl++] = (struct option){opts[i].name, has_arg, NULL, 256 + i};
    if (opts[i].alias) longs[nl++] = (struct option){opts[i].alias, has_arg, NULL, 256 + i};
    if (opts[i].letter) {
      shorts[ns++] = opts[i].letter;
      if (opts[i].arg) shorts[ns++] = ':';
    }
  }
  longs[nl] = (struct option){0};
  shorts[ns] = 0;
  memset(a, 0, sizeof *a);

  /* every option in the order given, applied once all are known to be well formed */
  enum { MAX_GIVEN = 512 };
  int rows[MAX_GIVEN], count = 0, c;
  const char *values[MAX_GIVEN];
  optind = 0; /* glibc: start again from scratch */
  opterr = 0;
  while ((c = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
    if (c == ':') {
      if (optopt >= 256) return cli_usage_error(cmd->name, "--%s needs a value", opts[optopt - 256].name);
      return cli_usage_error(cmd->name, "-%c needs a value", optopt);
    }
    if (c == '?') return unknown_option(cmd, argv[optind - 1], optopt);
    int row = c - 256;
    if (c < 256)
      for (row = 0; row < n && opts[row].letter != c; row++) continue;
    if (opts[row].id == CLI_ID_HELP) {
      a2i2a_run_params own;
      if (!dflt && cmd->defaults) cmd->defaults(&own), dflt = &own;
      cli_help(cmd, dflt ? dflt : p, stdout);
      return EXIT_OK;
    }
    if (count == MAX_GIVEN) return cli_usage_error(cmd->name, "more than %d options", MAX_GIVEN);
    rows[count] = row;
    values[count++] = optarg;
  }
  a->operand = optind;
  for (int first = 1; first >= 0; first--)
    for (int k = 0; k < count; k++) {
      if (!(opts[rows[k]].flags & CLI_FIRST) != !first) continue;
      a->given[rows[k]] = 1;
      int rc = apply(cmd, &opts[rows[k]], values[k], p, a, handle, ctx);
      if (rc != CLI_CONTINUE) return rc;
    }
  return CLI_CONTINUE;
}

int cli_given(const cli_command *cmd, const cli_args *a, const char *name) {
  for (int i = 0; i < row_count(cmd) && i < CLI_MAX_OPTIONS; i++)
    if (cmd->options[i].name && !strcmp(cmd->options[i].name, name)) return a->given[i];
  return 0;
}

const cli_option *cli_given_without(const cli_command *cmd, const cli_args *a, unsigned flag) {
  for (int i = 0; i < row_count(cmd) && i < CLI_MAX_OPTIONS; i++)
    if (a->given[i] && !(cmd->options[i].flags & flag)) return &cmd->options[i];
  return NULL;
}

int cli_check_params(const cli_command *cmd, const a2i2a_run_params *p) {
  if (!params_check(p)) return 0;
  /* the message names parameters by key: name the options that set them instead */
  char msg[1024], out[1200];
  snprintf(msg, sizeof msg, "%s", a2i2a_last_error());
  for (const cli_option *o = cmd->options; o->name || o->heading; o++) {
    if (!o->param) continue;
    size_t klen = strlen(o->param);
    out[0] = 0;
    size_t len = 0;
    for (const char *s = msg; *s && len < sizeof out - 1;) {
      if (!strncmp(s, o->param, klen) && !strchr("abcdefghijklmnopqrstuvwxyz_.", s[klen] ? s[klen] : '!')) {
        len += (size_t)snprintf(out + len, sizeof out - len, "--%s", o->name);
        s += klen;
      } else {
        out[len++] = *s++;
        out[len] = 0;
      }
    }
    snprintf(msg, sizeof msg, "%s", out);
  }
  return cli_usage_error(cmd->name, "%s", msg);
}

/* ---------------------------------------------------------------- help */

void cli_style_defaults(const cli_option *o, char *buf, size_t size) {
  const char *key = strchr(o->param, '.') + 1; /* "a2i.max_seconds": the styles' "max_seconds" */
  size_t len = 0;
  buf[0] = 0;
  for (int i = 0; i < a2i2a_list_count(A2I2A_LIST_STYLES) && len < size; i++) {
    const a2i2a_entry *e = a2i2a_list_entry(A2I2A_LIST_STYLES, i);
    cJSON *j = cJSON_Parse(e->json);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    if (cJSON_IsNumber(v) && v->valuedouble > 0)
      len += (size_t)snprintf(buf + len, size - len, "%s%s %g", len ? ", " : "", e->name, v->valuedouble);
    else if (cJSON_IsString(v))
      len += (size_t)snprintf(buf + len, size - len, "%s%s %s", len ? ", " : "", e->name, v->valuestring);
    cJSON_Delete(j);
  }
}

enum { HELP_WIDTH = 100, HELP_MAX_LEFT = 26 };

static void left_column(const cli_option *o, char *buf, size_t size) {
  snprintf(buf, size, "  %s%c%s--%s%s%s", o->letter ? "-" : " ", o->letter ? o->letter : ' ', o->letter ? ", " : "  ",
           o->name, o->arg ? " " : "", o->arg ? o->arg : "");
}

/* The default as help shows it, "" for none. */
static void default_text(const cli_option *o, const a2i2a_run_params *dflt, char *buf, size_t size) {
  const param_def *d = param_of(o);
  buf[0] = 0;
  if (o->show_default) o->show_default(o, buf, size);
  else if (o->dflt) snprintf(buf, size, "%s", o->dflt);
  else if (d && o->arg && dflt) {
    char value[512];
    param_format(d, dflt, value, sizeof value);
    int unset = !strcmp(value, "0") || ((d->type == PARAM_TEXT || d->type == PARAM_CHOICE) &&
                                        !*(const char *const *)param_cfield(d, dflt));
    if (unset && d->unset) snprintf(buf, size, "%s", d->unset);
    else if (d->type == PARAM_TEXT) snprintf(buf, size, "\"%s\"", value);
    else snprintf(buf, size, "%s", value);
  }
}

void cli_option_text(const cli_option *o, const a2i2a_run_params *dflt, char *buf, size_t size) {
  const param_def *d = param_of(o);
  const registry_table *choices = o->choices ? o->choices : d && d->type == PARAM_CHOICE ? d->choices : NULL;
  char takes[600] = "", def[600];
  if (choices) {
    registry_names(choices, takes, sizeof takes);
    if (d && (d->flags & PARAM_LIST)) strncat(takes, ", or all", sizeof takes - strlen(takes) - 1);
  } else if (d && o->arg && d->type == PARAM_INT && d->step) {
    param_expect(d, takes, sizeof takes);
    takes[strcspn(takes, "(")] = 0;
    for (size_t n = strlen(takes); n && takes[n - 1] == ' ';) takes[--n] = 0;
  } else if (d && o->arg && (d->type == PARAM_INT || d->type == PARAM_NUMBER)) {
    snprintf(takes, sizeof takes, "%.10g to %.10g", d->min, d->max);
  }
  default_text(o, dflt, def, sizeof def);
  size_t len = (size_t)snprintf(buf, size, "%s", o->help ? o->help : d ? d->entry.description : "");
  if (*takes && len < size) len += (size_t)snprintf(buf + len, size - len, ": %s", takes);
  if (o->alias && len < size) len += (size_t)snprintf(buf + len, size - len, " (also --%s)", o->alias);
  /* \1: a space the lines are not broken at */
  if (*def && len < size) snprintf(buf + len, size - len, " (default:\1%s)", def);
}

/* text from column col to HELP_WIDTH, broken at spaces, later lines indented to col */
static void wrapped(FILE *f, const char *text, int col) {
  int width = HELP_WIDTH - col;
  if (!*text) fputc('\n', f);
  for (int first = 1; *text; first = 0) {
    if (!first) fprintf(f, "%*s", col, "");
    int len = (int)strlen(text);
    if (len > width) {
      int cut = width;
      while (cut > 0 && text[cut] != ' ') cut--;
      len = cut > 0 ? cut : width;
    }
    for (int i = 0; i < len; i++) fputc(text[i] == '\1' ? ' ' : text[i], f);
    fputc('\n', f);
    text += len;
    while (*text == ' ') text++;
  }
}

void cli_help(const cli_command *cmd, const a2i2a_run_params *dflt, FILE *f) {
  char left[128], text[2048];
  int col = 0;
  for (const cli_option *o = cmd->options; o->name || o->heading; o++) {
    if (!o->name) continue;
    left_column(o, left, sizeof left);
    int w = (int)strlen(left);
    if (w <= HELP_MAX_LEFT && w > col) col = w;
  }
  col += 2;
  fputs(cmd->usage, f);
  if (cmd->listing) {
    fprintf(f, "\n%s\n", cmd->listing_title);
    for (int i = 0; i < cmd->listing->count; i++) {
      const a2i2a_entry *e = registry_entry(cmd->listing, i);
      fprintf(f, "  %-*s", col - 2, e->name);
      wrapped(f, e->description, col);
    }
  }
  if (cmd->options[0].name) fprintf(f, "\noptions:\n");
  for (const cli_option *o = cmd->options; o->name || o->heading; o++) {
    if (!o->name) {
      fprintf(f, "\n%s\n", o->heading);
      continue;
    }
    left_column(o, left, sizeof left);
    cli_option_text(o, dflt, text, sizeof text);
    if ((int)strlen(left) + 2 > col) fprintf(f, "%s\n%*s", left, col, "");
    else fprintf(f, "%-*s", col, left);
    wrapped(f, text, col);
  }
  if (cmd->footer) fprintf(f, "\n%s", cmd->footer);
}
