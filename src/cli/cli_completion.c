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
  fprintf(f, "help completion\"\n"
             "  if [ \"$COMP_CWORD\" -eq 1 ]; then\n"
             "    COMPREPLY=($(compgen -W \"$commands --help --version\" -- \"$cur\"))\n"
             "    return\n"
             "  fi\n"
             "  case \"${COMP_WORDS[1]}\" in\n");
  for (int i = 0; i < n; i++) command_case(f, cmds[i]);
  fprintf(f, "  help) [ \"$COMP_CWORD\" -eq 2 ] && COMPREPLY=($(compgen -W \"$commands\" -- \"$cur\")); return ;;\n"
             "  completion) [ \"$COMP_CWORD\" -eq 2 ] && COMPREPLY=($(compgen -W \"bash\" -- \"$cur\")); return ;;\n"
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
