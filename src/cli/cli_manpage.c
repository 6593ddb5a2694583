/* `a2i2a manpage`: a2i2a(1) in roff, written from the commands' option tables (their usage,
 * lists, options with their defaults), so that the manual says what --help says. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

/* The source tree the program was built from: the man page names paths in it from its root
 * (tests/fixtures/sd), not from the build machine's. */
static size_t source_prefix(const char *s) {
#ifdef A2I2A_FIXTURES_DIR
  static const char dir[] = A2I2A_FIXTURES_DIR, tail[] = "tests/fixtures";
  size_t n = sizeof dir - 1 - (sizeof tail - 1);
  if (sizeof dir > sizeof tail && !strcmp(dir + n, tail) && !strncmp(s, dir, n)) return n;
#else
  (void)s;
#endif
  return 0;
}

/* s as roff text: backslashes and hyphens escaped, no line starting with a control character. */
static void roff(FILE *f, const char *s) {
  int bol = 1;
  for (; *s; s++) {
    s += source_prefix(s);
    if (!*s) break;
    if (bol && (*s == '.' || *s == '\'')) fputs("\\&", f);
    bol = *s == '\n';
    if (*s == '\\') fputs("\\e", f);
    else if (*s == '-') fputs("\\-", f);
    else if (*s == '\1') fputc(' ', f);
    else fputc(*s, f);
  }
}

static void option_tag(FILE *f, const cli_option *o) {
  fputs(".TP\n", f);
  if (o->letter) fprintf(f, "\\fB\\-%c\\fR, ", o->letter);
  fputs("\\fB\\-\\-", f);
  roff(f, o->name);
  fputs("\\fR", f);
  if (o->arg) {
    fputs(" \\fI", f);
    roff(f, o->arg);
    fputs("\\fR", f);
  }
  fputc('\n', f);
}

static void command_section(FILE *f, const cli_command *cmd) {
  a2i2a_run_params dflt, *d = NULL;
  if (cmd->defaults) cmd->defaults(&dflt), d = &dflt;
  fprintf(f, ".SS \"a2i2a %s\"\n", cmd->name);
  roff(f, cmd->summary);
  fputs(".\n.PP\n.nf\n", f);
  roff(f, cmd->usage);
  fputs(".fi\n", f);
  if (cmd->listing) {
    fputs(".PP\n", f);
    roff(f, cmd->listing_title);
    fputc('\n', f);
    for (int i = 0; i < cmd->listing->count; i++) {
      const a2i2a_entry *e = registry_entry(cmd->listing, i);
      fputs(".TP\n.B ", f);
      roff(f, e->name);
      fputc('\n', f);
      roff(f, e->description);
      fputc('\n', f);
    }
  }
  if (cmd->options[0].name) fputs(".PP\nOptions:\n", f);
  for (const cli_option *o = cmd->options; o->name || o->heading; o++) {
    if (!o->name) {
      fputs(".PP\n", f);
      roff(f, o->heading);
      fputc('\n', f);
      continue;
    }
    char text[2048];
    cli_option_text(o, d, text, sizeof text);
    option_tag(f, o);
    roff(f, text);
    fputc('\n', f);
  }
  if (cmd->footer) {
    fputs(".PP\n", f);
    roff(f, cmd->footer);
  }
}

int cli_writing_manpage;

void cli_manpage(FILE *f, const cli_command *const *cmds, int n) {
  cli_writing_manpage = 1; /* defaults as rules, not this machine's paths */
  fprintf(f, ".\\\" a2i2a(1), written by `a2i2a manpage` from the program's option tables.\n"
             ".TH A2I2A 1 \"\" \"a2i2a %s\" \"User Commands\"\n"
             ".SH NAME\n"
             "a2i2a \\- sampling across media: sound \\-> spectrogram \\-> Stable Diffusion \\-> sound\n"
             ".SH SYNOPSIS\n"
             ".B a2i2a\n.I command\n.RI [ options ]\n.br\n"
             ".B a2i2a\n.I command\n.B \\-\\-help\n.br\n"
             ".B a2i2a completion\n.BR bash | zsh\n.br\n"
             ".B a2i2a manpage\n.br\n"
             ".B a2i2a \\-\\-version\n.RB [ \\-v ]\n"
             ".SH DESCRIPTION\n"
             "a2i2a turns a sound into a spectrogram image (\\fBa2i\\fR), lets Stable Diffusion repaint it "
             "(\\fBi2i\\fR), and reads the painting back as sound in several ways (\\fBi2a\\fR); \\fBrun\\fR "
             "does the whole chain, with presets, several seeds or prompts in one call, and long inputs in "
             "crossfaded clips. Every option has its default in the help of its command, which this page "
             "repeats. A file name \\fB\\-\\fR is stdin or stdout where the command says so.\n"
             ".SH COMMANDS\n",
          a2i2a_version());
  for (int i = 0; i < n; i++) command_section(f, cmds[i]);
  fputs(".SH ENVIRONMENT\n"
        ".TP\n.B A2I2A_MODEL\nthe model of \\fBi2i\\fR, \\fBrun\\fR and \\fBtokenize\\fR when \\fB\\-\\-model\\fR "
        "is not given.\n"
        ".TP\n.B A2I2A_DATA\nwhere the bundled CLIP merges are (default: \\fIPREFIX/share/a2i2a\\fR next to the "
        "program).\n"
        ".TP\n.B A2I2A_MEMORY_MB\nthe memory a painting may use, instead of what /proc/meminfo and the cgroup "
        "say.\n"
        ".TP\n.BR HF_HOME \", \" HF_HUB_CACHE\nthe Hugging Face cache (default: "
        "\\fI~/.cache/huggingface/hub\\fR).\n"
        ".TP\n.BR HF_ENDPOINT \", \" HF_TOKEN \", \" HF_HUB_OFFLINE\nthe hub \\fBmodels pull\\fR downloads "
        "from, its token, and no network.\n"
        ".TP\n.B XDG_CACHE_HOME\nwhere the models' SHA\\-256 are cached (\\fIa2i2a/sha256.tsv\\fR).\n"
        ".TP\n.B TMPDIR\nwhere stdin and stdout are kept while a command reads or writes them (\\fBrun\\fR: "
        "in its output folder).\n"
        ".SH EXIT STATUS\n"
        ".TP\n.B 0\nsuccess\n.TP\n.B 1\na runtime failure: bad input, I/O, a missing model, not enough memory\n"
        ".TP\n.B 2\na usage error: an unknown option, a value out of range\n"
        ".TP\n.B 130\ninterrupted by Ctrl\\-C (SIGINT): nothing is left behind\n"
        ".TP\n.B 143\ninterrupted by SIGTERM: nothing is left behind\n"
        ".SH FILES\n"
        ".TP\n.I OUTDIR/.a2i2a\\-run.XXXXXX\nthe private folder of a running \\fBrun\\fR; one a killed run left "
        "is removed by the next run into OUTDIR.\n"
        ".SH SEE ALSO\n"
        "The documentation in the source tree: README.md and docs/ (chain.md, readings.md, styles.md, "
        "library.md).\n",
        f);
}
