/* `a2i2a completion bash`: a bash completion script written from the commands' option tables,
 * with the values of every option that takes one of a list (samplers, readings, styles, ...). */
#include <stdio.h>
#include <string.h>

#include "chain/params.h"
#include "cli/cli.h"

/* The words of a list, separated by spaces (readings: also "all"). */
static void words(FILE *f, const registry_table *t, int with_all) {
  for (int i = 0; i < t->count; i++) fprintf(f, "%s%s", i ? " " : "", registry_entry(t, i)->name);
  if (with_all) fprintf(f, " all");
}

static void command_case(FILE *f, const cli_command *cmd) {
  fprintf(f, "  %s)\n    case \"$prev\" in\n", cmd->name);
  for (const cli_option *o = cmd->options; o->name || o->heading; o++) {
    if (!o->name || !o->arg) continue;
    const param_def *d = o->param ? param_find(o->param) : NULL;
    const registry_table *choices = o->choices ? o->choices : d && d->type == PARAM_CHOICE ? d->choices : NULL;
    fprintf(f, "    --%s", o->name);
    if (o->alias) fprintf(f, "|--%s", o->alias);
    if (o->letter) fprintf(f, "|-%c", o->letter);
    if (choices) {
      fprintf(f, ") COMPREPLY=($(compgen -W \"");
      words(f, choices, d && (d->flags & PARAM_LIST));
      fprintf(f, "\" -- \"$cur\")); return ;;\n");
    } else if (o->flags & CLI_PATH) {
      fprintf(f, ") COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n");
    } else {
      fprintf(f, ") return ;; # a value to type\n");
    }
  }
  fprintf(f, "    esac\n    opts=\"");
  int first = 1;
  for (const cli_option *o = cmd->options; o->name || o->heading; o++) {
    if (!o->name) continue;
    fprintf(f, "%s--%s", first ? "" : " ", o->name);
    if (o->alias) fprintf(f, " --%s", o->alias);
    if (o->letter) fprintf(f, " -%c", o->letter);
    first = 0;
  }
  fprintf(f, "\"\n");
  if (cmd->operand_list) {
    fprintf(f, "    operands=\"");
    words(f, cmd->operand_list, 0);
    fprintf(f, "\"\n");
  } else if (cmd->operands) {
    fprintf(f, "    operands=\"%s\"\n", cmd->operands);
  }
  fprintf(f, "    ;;\n");
}

void cli_completion_bash(FILE *f, const cli_command *const *cmds, int n) {
  fprintf(f, "# bash completion for a2i2a, written by `a2i2a completion bash` from its option tables.\n"
             "# Use: source <(a2i2a completion bash)\n"
             "_a2i2a() {\n"
             "  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} opts='' operands=''\n"
             "  COMPREPLY=()\n"
             "  # --option=value: bash splits at '='\n"
             "  if [ \"$cur\" = = ]; then cur=''; elif [ \"$prev\" = = ]; then prev=${COMP_WORDS[COMP_CWORD-2]}; fi\n"
             "  local commands=\"");
  for (int i = 0; i < n; i++) fprintf(f, "%s ", cmds[i]->name);
  fprintf(f, "help completion manpage\"\n"
             "  if [ \"$COMP_CWORD\" -eq 1 ]; then\n"
             "    COMPREPLY=($(compgen -W \"$commands --help --version\" -- \"$cur\"))\n"
             "    return\n"
             "  fi\n"
             "  case \"${COMP_WORDS[1]}\" in\n");
  for (int i = 0; i < n; i++) command_case(f, cmds[i]);
  fprintf(f, "  help) [ \"$COMP_CWORD\" -eq 2 ] && COMPREPLY=($(compgen -W \"$commands\" -- \"$cur\")); return ;;\n"
             "  completion) [ \"$COMP_CWORD\" -eq 2 ] && COMPREPLY=($(compgen -W \"bash zsh\" -- \"$cur\")); return ;;\n"
             "  *) return ;;\n"
             "  esac\n"
             "  if [[ $cur == -* ]]; then\n"
             "    COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
             "  elif [ -n \"$operands\" ]; then\n"
             "    COMPREPLY=($(compgen -W \"$operands\" -- \"$cur\"))\n"
             "  else\n"
             "    COMPREPLY=($(compgen -f -- \"$cur\"))\n"
             "  fi\n"
             "}\n"
             "complete -o filenames -F _a2i2a a2i2a\n");
}

/* ---------------------------------------------------------------- zsh */

/* s inside a zsh single-quoted _arguments spec: ' closes the quotes, and [ ] : \ mean things. */
static void zsh_text(FILE *f, const char *s, size_t max) {
  for (size_t n = 0; *s && n < max; s++, n++) {
    if (*s == '\'') fputs("'\\''", f);
    else if (strchr("[]:\\", *s)) fprintf(f, "\\%c", *s);
    else if (*s == '\1' || *s == '\n') fputc(' ', f);
    else fputc(*s, f);
  }
}

/* The action of an option's argument: its values, files, or free text. */
static void zsh_action(FILE *f, const cli_option *o) {
  const param_def *d = o->param ? param_find(o->param) : NULL;
  const registry_table *choices = o->choices ? o->choices : d && d->type == PARAM_CHOICE ? d->choices : NULL;
  fprintf(f, ":%s:", o->arg);
  if (choices && d && (d->flags & PARAM_LIST)) {
    fprintf(f, "_values -s , %s all", o->arg);
    for (int i = 0; i < choices->count; i++) fprintf(f, " %s", registry_entry(choices, i)->name);
  } else if (choices) {
    fputc('(', f);
    words(f, choices, 0);
    fputc(')', f);
  } else if (o->flags & CLI_PATH) {
    fputs("_files", f);
  } else {
    fputs(" ", f); /* a value to type */
  }
}

static void zsh_command(FILE *f, const cli_command *cmd) {
  fprintf(f, "    %s)\n      _arguments -s -S \\\n", cmd->name);
  for (const cli_option *o = cmd->options; o->name || o->heading; o++) {
    if (!o->name) continue;
    char help[2048];
    cli_option_text(o, NULL, help, sizeof help);
    help[strcspn(help, "(")] = 0; /* what it does, without the default */
    for (size_t len = strlen(help); len && help[len - 1] == ' ';) help[--len] = 0;
    const char *names[3] = {o->name, o->alias, NULL};
    char letter[3] = {'-', o->letter, 0};
    for (int k = 0; k < 3; k++) {
      if (k == 2 && !o->letter) break;
      if (k < 2 && !names[k]) continue;
      fprintf(f, "        '*%s%s[", k == 2 ? "" : "--", k == 2 ? letter : names[k]);
      zsh_text(f, help, 90);
      fputc(']', f);
      if (o->arg) zsh_action(f, o);
      fputs("' \\\n", f);
    }
  }
  if (cmd->operand_list) {
    fputs("        '*:operand:(", f);
    words(f, cmd->operand_list, 0);
    fputs(")'\n", f);
  } else if (cmd->operands) {
    fprintf(f, "        '1:action:(%s)' '*:argument: '\n", cmd->operands);
  } else {
    fputs("        '*:file:_files'\n", f);
  }
  fputs("      ;;\n", f);
}

void cli_completion_zsh(FILE *f, const cli_command *const *cmds, int n) {
  fprintf(f, "#compdef a2i2a\n"
             "# zsh completion for a2i2a, written by `a2i2a completion zsh` from its option tables.\n"
             "# Install as _a2i2a in a folder of $fpath, or: source <(a2i2a completion zsh)\n"
             "_a2i2a() {\n"
             "  local -a commands\n"
             "  commands=(\n");
  for (int i = 0; i < n; i++) {
    fprintf(f, "    '%s:", cmds[i]->name);
    zsh_text(f, cmds[i]->summary, 200);
    fputs("'\n", f);
  }
  fprintf(f, "    'help:the help of a command'\n"
             "    'completion:a completion script for bash or zsh'\n"
             "    'manpage:the manual page, in roff'\n"
             "  )\n"
             "  if (( CURRENT == 2 )); then\n"
             "    _describe -t commands 'a2i2a command' commands\n"
             "    _arguments '--help[the commands]' '--version[the version]' '-V[the version]'\n"
             "    return\n"
             "  fi\n"
             "  local cmd=${words[2]}\n"
             "  shift words\n"
             "  (( CURRENT-- ))\n"
             "  case $cmd in\n");
  for (int i = 0; i < n; i++) zsh_command(f, cmds[i]);
  fprintf(f, "    help) _describe -t commands 'a2i2a command' commands ;;\n"
             "    completion) _values shell bash zsh ;;\n"
             "  esac\n"
             "}\n"
             "if [ \"$funcstack[1]\" = _a2i2a ]; then _a2i2a \"$@\"; else compdef _a2i2a a2i2a; fi\n");
}
