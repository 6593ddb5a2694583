/* a2i2a tokenize: shows how a prompt becomes CLIP's 77 token ids. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "cli/cli.h"
#include "common/err.h"
#include "sd/clip.h"
#include "sd/model.h"

enum { O_MODEL = 1, O_IDS };

static const cli_option options[] = {
    {.name = "model", .arg = "M", .id = O_MODEL, .flags = CLI_PATH,
     .help = "a diffusers folder, a .safetensors checkpoint or ORG/NAME in the Hugging Face cache; its "
             "tokenizer/ (vocab.json + merges.txt) is used when it has one, else the bundled OpenAI merges; "
             "padding by its family",
     .dflt = "$A2I2A_MODEL; without either, the bundled merges with SD 1.x padding"},
    {.name = "ids", .id = O_IDS, .help = "print exactly the 77 ids on one line, separated by spaces, and nothing else"},
    {.name = "quiet", .letter = 'q', .id = CLI_ID_QUIET, .help = "no note on stderr (warnings only)"},
    {.name = "verbose", .letter = 'v', .id = CLI_ID_VERBOSE,
     .help = "the version and BLAS kernels, and the model's description, on stderr"},
    CLI_OPT_HELP,
    {0},
};

const cli_command cli_tokenize = {
    .name = "tokenize",
    .summary = "show how a prompt is tokenized",
    .usage = "usage: a2i2a tokenize [--model M] [--ids] [--] TEXT...\n\n"
             "Shows the 77 CLIP token ids Stable Diffusion sees for a prompt: <|startoftext|>, at most 75\n"
             "content tokens, <|endoftext|>, then padding (SD 1.x: 49407, SD 2.x: 0). Several TEXT\n"
             "arguments are joined with spaces; TEXT '-' reads the prompt from standard input.\n"
             "A prompt longer than 75 tokens is cut, with a warning on stderr saying how many were dropped.\n",
    .footer = "exit status: 0 success, 1 runtime failure (bad model or tokenizer files), 2 usage error\n",
    .options = options,
    .stop_at_operand = 1,
};

typedef struct {
  const char *model;
  int ids_only;
} tokenize_ctx;

static int handle(void *ctx, int id, const char *value) {
  tokenize_ctx *c = ctx;
  if (id == O_MODEL) c->model = value;
  if (id == O_IDS) c->ids_only = 1;
  return 0;
}

/* A token's text for a terminal: valid UTF-8 as is, other bytes (a character split across
 * tokens) as \xNN. */
static void print_token(const char *s) {
  size_t n = strlen(s);
  for (size_t i = 0; i < n;) {
    utf8proc_int32_t c;
    utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(n - i), &c);
    if (k <= 0 || c < 0x20 || c == 0x7f) {
      printf("\\x%02x", (unsigned char)s[i]);
      i++;
    } else {
      fwrite(s + i, 1, (size_t)k, stdout);
      i += (size_t)k;
    }
  }
}

static char *read_stdin(void) {
  size_t cap = 4096, n = 0;
  char *b = malloc(cap);
  size_t got;
  while (b && (got = fread(b + n, 1, cap - n - 1, stdin)) > 0) {
    n += got;
    if (n + 1 == cap) {
      char *nb = cap < (64u << 20) ? realloc(b, cap * 2) : NULL;
      if (!nb) {
        free(b);
        return NULL;
      }
      b = nb;
      cap *= 2;
    }
  }
  if (b) b[n] = 0;
  return b;
}

int cmd_tokenize(int argc, char **argv) {
  tokenize_ctx c = {0};
  cli_args a;
  int rc = cli_parse(&cli_tokenize, argc, argv, NULL, NULL, &a, handle, &c);
  if (rc != CLI_CONTINUE) return rc;
  const char *model = c.model;
  int ids_only = c.ids_only, first = a.operand;
  if (first >= argc) return cli_usage_error("tokenize", "no TEXT given");
  cli_verbose(a.verbose);

  /* the prompt: the arguments joined with spaces, or standard input */
  char *text;
  if (first == argc - 1 && !strcmp(argv[first], "-")) {
    text = read_stdin();
    if (!text) {
      fprintf(stderr, "a2i2a: standard input: cannot read the prompt\n");
      return EXIT_RUNTIME;
    }
  } else {
    size_t len = 1;
    for (int i = first; i < argc; i++) len += strlen(argv[i]) + 1;
    text = malloc(len);
    text[0] = 0;
    for (int i = first; i < argc; i++) {
      if (i > first) strcat(text, " ");
      strcat(text, argv[i]);
    }
  }

  if (!model) {
    const char *env = getenv("A2I2A_MODEL");
    if (env && *env) model = env;
  }
  clip_tokenizer *tok = NULL;
  sd_model m;
  int have_model = 0;
  a2i2a_status st;
  if (model) {
    if ((st = sd_model_open(model, &m))) {
      free(text);
      return cli_fail(st);
    }
    have_model = 1;
    if (a.verbose) {
      char desc[512];
      sd_model_describe(&m, desc, sizeof desc);
      fprintf(stderr, "a2i2a: model: %s\n", desc);
    }
    st = tokenizer_load(&tok, &m);
  } else {
    st = tokenizer_load_dir(&tok, NULL, 1);
    if (!st && !a.quiet)
      fprintf(stderr, "a2i2a: no --model or $A2I2A_MODEL: using the bundled CLIP merges with SD 1.x padding (%d)\n",
              tokenizer_pad_id(tok));
  }
  if (st) {
    if (have_model) sd_model_close(&m);
    free(text);
    return cli_fail(st);
  }

  int ids[CLIP_CTX], *all = NULL, nall = 0, dropped = 0;
  st = tokenizer_encode(tok, text, ids, &dropped);
  if (!st) st = tokenizer_tokens(tok, text, strlen(text), &all, &nall);
  if (st) {
    tokenizer_free(tok);
    if (have_model) sd_model_close(&m);
    free(text);
    return cli_fail(st);
  }
  if (dropped > 0)
    fprintf(stderr, "a2i2a: warning: the prompt is %d tokens long; the last %d were dropped (CLIP reads %d)\n",
            nall, dropped, CLIP_CTX - 2);

  if (ids_only) {
    for (int i = 0; i < CLIP_CTX; i++) printf(i ? " %d" : "%d", ids[i]);
    printf("\n");
  } else {
    char buf[256];
    printf("tokenizer: %s (padding %d)\n", tokenizer_source(tok), tokenizer_pad_id(tok));
    int last = 1 + (nall < CLIP_CTX - 2 ? nall : CLIP_CTX - 2); /* where <|endoftext|> is */
    for (int i = 0; i <= last; i++) {
      tokenizer_token_text(tok, ids[i], buf, sizeof buf);
      printf("%3d %6d  ", i, ids[i]);
      print_token(buf);
      printf("\n");
    }
    if (last + 1 < CLIP_CTX)
      printf("%d-%d %d  (padding, %d tokens)\n", last + 1, CLIP_CTX - 1, ids[CLIP_CTX - 1], CLIP_CTX - 1 - last);
    if (dropped > 0) {
      printf("dropped (%d):", dropped);
      for (int i = CLIP_CTX - 2; i < nall; i++) {
        tokenizer_token_text(tok, all[i], buf, sizeof buf);
        printf(" ");
        print_token(buf);
      }
      printf("\n");
    }
  }
  free(all);
  tokenizer_free(tok);
  if (have_model) sd_model_close(&m);
  free(text);
  return EXIT_OK;
}
