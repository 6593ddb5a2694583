/* a2i2a batch: a sound library through the chain as independent items, resumable and sharded
 * (the work is chain/batch.c's; this is the command line around it). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/batch.h"
#include "chain/chain.h"
#include "chain/params.h"
#include "cli/cli.h"
#include "cli/cli_chain.h"
#include "common/err.h"

enum { O_OUTPUT = 1, O_PRESET, O_LIST, O_ITEM, O_SHARD, O_RETRY, O_STATUS, O_MERGE, O_LORA, O_LORA_DIR };

static void batch_defaults(a2i2a_run_params *p) { a2i2a_run_preset(NULL, p); }

static const cli_option options[] = {
    {.name = "output", .letter = 'o', .arg = "DIR", .id = O_OUTPUT, .flags = CLI_PATH,
     .help = "the batch folder: one folder per item (OUTDIR/ID), batch.json"},
    {.name = "list", .id = O_LIST, .help = "print the item ids (of --shard's items), one a line, and stop"},
    {.name = "item", .arg = "ID", .id = O_ITEM, .help = "run this item only (an id of --list)"},
    {.name = "shard", .arg = "K/N", .id = O_SHARD, .help = "run the items whose position is K mod N (K from 0)"},
    {.name = "retry-failed", .id = O_RETRY, .help = "run the items that failed before, and only them"},
    {.name = "status", .arg = "OUTDIR", .id = O_STATUS, .flags = CLI_PATH,
     .help = "print how many items of OUTDIR are done, failed and pending, and why each failed, and stop"},
    {.name = "merge", .id = O_MERGE,
     .help = "gather the batch folders given as operands (one per shard) into -o OUTDIR"},
    {.name = "preset", .arg = "NAME", .id = O_PRESET, .choices = &chain_preset_registry, .dflt = "seed",
     .help = "the values every other option starts from ('a2i2a presets')", .flags = CLI_FIRST},
    CLI_OPTS_JOB,
    {.name = "no-sheet", .param = "sheet", .help = "do not write sheet.png", .flags = CLI_OFF},
    CLI_OPTS_CHAIN,
    {.heading = "LoRA (painting):"},
    CLI_OPTS_LORA(O_LORA, O_LORA_DIR),
    {0},
};

const cli_command cli_batch = {
    .name = "batch",
    .summary = "a sound library through the chain: resumable, sharded items",
    .usage = "usage: a2i2a batch SOURCE -o OUTDIR [--shard K/N | --item ID] [--retry-failed] [run's options]\n"
             "       a2i2a batch SOURCE --list [--shard K/N] [run's options]\n"
             "       a2i2a batch --status OUTDIR\n"
             "       a2i2a batch --merge SHARD_DIR... -o OUTDIR\n\n"
             "Runs the chain over a library: SOURCE is a folder (every sound in it, recursively, in byte\n"
             "order of the paths), a .csv file (a \"path\" column, the others settings for that row: prompt,\n"
             "seed, steps, preset, readings or any run.json key), or a list of paths, one a line. Each\n"
             "sound x seed x prompt is an item with a stable id (a hash of the sound's bytes and of every\n"
             "setting that changes its outputs) and its own folder OUTDIR/ID, what 'a2i2a run' writes.\n"
             "Items already done (run.json and outputs matching its hashes) are skipped, so the same\n"
             "command resumes an interrupted batch; a sound that fails fails its item only, and the batch\n"
             "goes on. OUTDIR/batch.json keeps every item's state. --list, --item and --shard let GNU\n"
             "parallel or a Slurm array spread the items (docs/scale-out.md).\n",
    .listing_title = "presets (--preset):",
    .listing = &chain_preset_registry,
    .footer = "exit status: 0 every item done, 1 an item failed (the others ran) or a runtime failure,\n"
              "2 usage error, 130 interrupted (143 by SIGTERM; the running item leaves nothing behind)\n",
    .options = options,
    .defaults = batch_defaults,
};

typedef struct {
  a2i2a_run_params *p;
  const char *outdir, *item, *status;
  int list, retry, merge;
  long shard_k, shard_n;
  cli_cross cross;
  cli_loras loras;
} batch_ctx;

static int handle(void *ctx, int id, const char *v) {
  batch_ctx *c = ctx;
  switch (id) {
  case O_OUTPUT: c->outdir = v; break;
  case O_PRESET: a2i2a_run_preset(v, c->p); break;
  case O_LIST: c->list = 1; break;
  case O_ITEM: c->item = v; break;
  case O_RETRY: c->retry = 1; break;
  case O_STATUS: c->status = v; break;
  case O_MERGE: c->merge = 1; break;
  case O_LORA:
  case O_LORA_DIR: return cli_lora_option("batch", &c->loras, id == O_LORA_DIR, v);
  case O_SHARD: {
    char k[32], n[32];
    const char *slash = strchr(v, '/');
    if (!slash || slash - v >= (long)sizeof k || strlen(slash + 1) >= sizeof n)
      return cli_usage_error("batch", "--shard: '%s' is not K/N", v);
    snprintf(k, sizeof k, "%.*s", (int)(slash - v), v);
    snprintf(n, sizeof n, "%s", slash + 1);
    if (cli_int("batch", "--shard N", n, 1, 1000000, &c->shard_n)) return EXIT_USAGE;
    if (cli_int("batch", "--shard K", k, 0, c->shard_n - 1, &c->shard_k)) return EXIT_USAGE;
    break;
  }
  default: return cli_cross_option("batch", &c->cross, c->p, id, v);
  }
  return 0;
}

static int print_status(const char *outdir) {
  batch_status s;
  a2i2a_status st = batch_status_read(outdir, &s);
  if (st) return cli_fail(st);
  printf("%d items: %d done, %d failed, %d pending\n", s.nitems, s.done, s.failed, s.pending);
  for (int i = 0; i < s.nitems; i++)
    if (s.items[i].state == BATCH_FAILED) printf("failed %s %s: %s\n", s.items[i].id, s.items[i].input, s.items[i].reason);
  batch_status_free(&s);
  return EXIT_OK;
}

static int merge(const batch_ctx *c, int argc, char **argv, int first) {
  if (!c->outdir) return cli_usage_error("batch", "--merge: no output folder (-o OUTDIR)");
  if (first >= argc) return cli_usage_error("batch", "--merge: no batch folder to gather");
  int copied;
  a2i2a_status st = batch_merge(c->outdir, (const char *const *)argv + first, argc - first, &copied);
  if (st) return cli_fail(st);
  fprintf(stderr, "a2i2a batch: gathered %d items into %s\n", copied, c->outdir);
  return print_status(c->outdir);
}

static int batch_cmd(int argc, char **argv, batch_ctx *ctx);

int cmd_batch(int argc, char **argv) {
  batch_ctx c = {.shard_n = 1};
  int rc = batch_cmd(argc, argv, &c);
  cli_lora_free(&c.loras);
  return rc;
}

static int batch_cmd(int argc, char **argv, batch_ctx *c) {
  const char *C = "batch";
  a2i2a_run_params p, dflt;
  a2i2a_run_preset(NULL, &p);
  dflt = p;
  c->p = &p;
  cli_args a;
  int rc = cli_parse(&cli_batch, argc, argv, &p, &dflt, &a, handle, c);
  if (rc != CLI_CONTINUE) return rc;
  if (c->status) return a.operand < argc ? cli_usage_error(C, "--status takes no SOURCE") : print_status(c->status);
  if (c->merge) return merge(c, argc, argv, a.operand);
  if (a.operand >= argc) return cli_usage_error(C, "no SOURCE (a folder of sounds, a list of paths, or a .csv)");
  if (argc - a.operand > 1) return cli_usage_error(C, "one SOURCE only (a folder, a list or a .csv)");
  if (!c->list && !c->outdir) return cli_usage_error(C, "no output folder (-o OUTDIR)");
  if (c->item && cli_given(&cli_batch, &a, "shard")) return cli_usage_error(C, "--item and --shard cannot be combined");
  const char *env_model = getenv("A2I2A_MODEL");
  if (!cli_given(&cli_batch, &a, "model") && env_model && *env_model) p.model = env_model;
  if ((rc = cli_check_params(&cli_batch, &p))) return rc;
  /* prompts and seeds given cross every sound; otherwise each row keeps its own */
  int own_prompts = c->cross.nprompts > 0, own_seeds = c->cross.nseeds > 0 || c->cross.variations > 0;
  if ((rc = cli_cross_finish(C, &cli_batch, &a, &p, &c->cross))) return rc;
  const char *given[CLI_MAX_OPTIONS];
  int ngiven = 0;
  for (int i = 0; options[i].name || options[i].heading; i++)
    if (a.given[i] && options[i].param) given[ngiven++] = options[i].param;
  batch_settings s = {.p = &p, .given = given, .ngiven = ngiven, .prompts = c->cross.prompts,
                      .nprompts = own_prompts ? c->cross.nprompts : 0, .seeds = c->cross.seeds,
                      .nseeds = own_seeds ? c->cross.nseeds : 0, .nloras = c->loras.n};
  a2i2a_lora given_loras[CLI_MAX_LORAS];
  for (int i = 0; i < c->loras.n; i++) given_loras[i] = (a2i2a_lora){.path = c->loras.path[i], .scale = c->loras.scale[i]};
  s.loras = given_loras;
  batch_plan plan;
  a2i2a_status st = batch_expand(argv[a.operand], &s, &plan);
  if (st) return cli_fail(st);

  /* this process's items: --item, or its shard */
  int *mine = calloc((size_t)plan.nitems, sizeof *mine), nmine = 0;
  if (!mine) return batch_plan_free(&plan), cli_fail(fail(A2I2A_ERR_NOMEM, "out of memory"));
  for (int i = 0; i < plan.nitems; i++)
    if (c->item ? !strcmp(plan.items[i].id, c->item) : i % c->shard_n == c->shard_k) mine[nmine++] = i;
  if (c->item && !nmine) {
    batch_plan_free(&plan), free(mine);
    return cli_usage_error(C, "--item %s: no such item in %s (a2i2a batch %s --list)", c->item, argv[a.operand],
                           argv[a.operand]);
  }
  if (c->list) {
    for (int i = 0; i < nmine; i++) printf("%s\n", plan.items[mine[i]].id);
    batch_plan_free(&plan), free(mine);
    return EXIT_OK;
  }
  /* the prompts' LoRA tags name files that are there, before anything is written (a prompt once) */
  a2i2a_lora loras[CLI_MAX_LORAS];
  int nloras;
  for (int i = 0; i < nmine && !rc; i++) {
    const char *prompt = plan.items[mine[i]].p.i2i.prompt, *before = i ? plan.items[mine[i - 1]].p.i2i.prompt : NULL;
    if (!i || strcmp(prompt ? prompt : "", before ? before : ""))
      rc = cli_lora_list(C, &c->loras, p.model, &prompt, loras, &nloras);
  }
  if (rc) return batch_plan_free(&plan), free(mine), rc;
  a2i2a_set_threads(a.threads);
  cli_verbose(a.verbose);

  /* what is left: done items (hashes verified) are skipped, failed ones wait for --retry-failed */
  int *todo = calloc((size_t)nmine + 1, sizeof *todo), ntodo = 0, done = 0, failed = 0;
  if (!todo) st = fail(A2I2A_ERR_NOMEM, "out of memory");
  for (int i = 0; i < nmine && !st; i++) {
    const batch_item *it = &plan.items[mine[i]];
    batch_state bs = batch_item_state(c->outdir, it->id, it->input_sha256, 1, NULL, 0);
    int run = a.force || (c->retry ? bs == BATCH_FAILED : bs == BATCH_PENDING); /* --force: all again */
    done += bs == BATCH_DONE && !run;
    failed += bs == BATCH_FAILED && !run;
    if (run) todo[ntodo++] = mine[i];
  }
  if (!st) st = batch_write_json(c->outdir, &plan);
  if (!st && !ntodo) {
    if (a.progress != CLI_QUIET)
      fprintf(stderr, "a2i2a batch: nothing to do: %d of %d items done, %d failed%s\n", done, nmine, failed,
              failed && !c->retry ? " (--retry-failed runs them again)" : "");
    batch_plan_free(&plan), free(mine), free(todo);
    return failed ? EXIT_RUNTIME : EXIT_OK;
  }
  a2i2a_model *model = NULL;
  a2i2a_job *job = st ? NULL : cli_job_new(a.progress);
  if (!st && !job) st = fail(A2I2A_ERR_NOMEM, "out of memory");
  if (!st) st = a2i2a_model_open(p.model, &model);
  if (!st) cli_describe_model(model);
  int ran = 0, newly_failed = 0;
  for (int k = 0; k < ntodo && !st && !rc; k++) {
    /* the item's LoRAs, as run finds them: --lora's, then its prompt's tags, taken out of it */
    batch_item it = plan.items[todo[k]];
    if ((rc = cli_lora_list(C, &c->loras, p.model, &it.p.i2i.prompt, loras, &nloras))) break;
    if (a.progress != CLI_QUIET) fprintf(stderr, "a2i2a batch: %d/%d %s %s\n", k + 1, ntodo, it.id, it.input);
    /* a LoRA that does not fit the model stops the batch: every item with it would fail */
    if ((st = a2i2a_model_set_loras(model, loras, nloras, job))) break;
    a2i2a_status one = batch_run_item(model, c->outdir, &it, job);
    if (one == A2I2A_ERR_CANCELLED) st = one;
    else if (one) fprintf(stderr, "a2i2a batch: %s failed: %s\n", it.id, a2i2a_last_error()), newly_failed++;
    else ran++;
    /* after each item, so that --status and the studio follow along */
    a2i2a_status js = batch_write_json(c->outdir, &plan);
    if (!st) st = js;
  }
  if (model) a2i2a_model_close(model);
  if (job) cli_job_done(job);
  if (!rc) rc = st ? cli_fail(st) : newly_failed + failed ? EXIT_RUNTIME : EXIT_OK;
  if (!st && !rc && a.progress != CLI_QUIET)
    fprintf(stderr, "a2i2a batch: %d items ran, %d failed, %d were done before%s; see a2i2a batch --status %s\n", ran,
            newly_failed, done, failed ? ", some failed before" : "", c->outdir);
  batch_plan_free(&plan), free(mine), free(todo);
  return rc;
}
