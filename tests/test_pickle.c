/* PyTorch checkpoints (sd/torch_file.h, sd/pickle.h) against shared/fixtures/pickle:
 *  - every hostile file is refused by the model opener and by a2i2a_models_convert with one line
 *    naming the file and the reason, in a child process that stays under 100 MB and a second,
 *    leaves no output and never creates the naive loader's mark file;
 *  - tensors.bin and tensors-legacy.bin equal tensors.safetensors tensor by tensor (name, dtype,
 *    shape, bytes), read and converted; the tiny model's .bin folder and .ckpt equal its
 *    safetensors forms, and img2img gives the same bytes from either;
 *  - crafted pickles and containers, one per rule of the machine, and every truncation and
 *    byte change of the two small fixtures: refused with a message or read inside the buffer;
 *  - the hub's choice of weights (safetensors first, then .bin) and a folder with both. */
#include "check.h"
#include "common/err.h"
#include "hub/hub.h"
#include "sd/model.h"
#include "sd/pickle.h"
#include "sd/pipeline.h"
#include "sd/torch_file.h"

#include <dirent.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MARK_FILE "/tmp/a2i2a-pickle-ran-code"

static char tmp[] = "/tmp/a2i2a_test_pickle_XXXXXX";

static int exists(const char *p) {
  struct stat s;
  return stat(p, &s) == 0;
}

static uint8_t *read_all(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *b = malloc((size_t)len + 1);
  *n = b ? fread(b, 1, (size_t)len, f) : 0;
  fclose(f);
  return b;
}

/* a and b hold the same tensors: names, dtypes, shapes and bytes */
static void same_tensors(const st_file *a, const st_file *b, const char *what) {
  CHECK(a->n == b->n, "%s: %d tensors, expected %d", what, a->n, b->n);
  for (int i = 0; i < b->n; i++) {
    const st_tensor *x = st_find(a, b->tensors[i].name), *y = &b->tensors[i];
    if (!x) {
      CHECK(0, "%s: tensor %s missing", what, y->name);
      continue;
    }
    int same_shape = x->ndim == y->ndim;
    for (int d = 0; same_shape && d < y->ndim; d++) same_shape = x->shape[d] == y->shape[d];
    CHECK(x->dtype == y->dtype && same_shape && x->nbytes == y->nbytes, "%s: %s: dtype %s ndim %d, expected %s %d",
          what, y->name, st_dtype_name(x->dtype), x->ndim, st_dtype_name(y->dtype), y->ndim);
    CHECK(x->nbytes != y->nbytes || !memcmp(x->data, y->data, y->nbytes), "%s: %s: values differ", what, y->name);
  }
}

static int inside(const st_file *f, const void *p) {
  return (const uint8_t *)p >= (const uint8_t *)f->map && (const uint8_t *)p < (const uint8_t *)f->map + f->map_size;
}

/* ------------------------------------------------------------------ hostile files */

/* What each hostile file must be refused for (a file not listed: any one-line refusal). */
static const struct {
  const char *file, *reason;
} hostile_reasons[] = {
    {"system.bin", "not a weights file: it calls posix.system"},
    {"raw_system.bin", "not a weights file: it calls posix.system"},
    {"inst.bin", "not a weights file: it calls posix.system"},
    {"eval.bin", "not a weights file: it calls builtins.eval"},
    {"nested.bin", "not a weights file: it calls subprocess.call"},
    {"stack_global.bin", "not a weights file: it calls os.system"},
    {"build.bin", "not a weights file: it calls torch.nn.modules.module.Module"},
    {"huge_shape.bin", "shape 1099511627776 x 4194304"},
    {"past_end.bin", "reads element 14 of storage '0', which has 4"},
    {"deep.bin", "objects on the stack"},
    {"no_pkl.bin", "no archive/data.pkl"},
};

/* Runs one library call on path in a child: the refusal's status and message come back through a
 * pipe, its peak memory and time through wait4. */
static void refused_in_child(const char *path, const char *name, int convert) {
  char out[4300], msg[1024] = "";
  snprintf(out, sizeof out, "%s/out.safetensors", tmp);
  int fds[2];
  if (pipe(fds)) {
    CHECK(0, "pipe");
    return;
  }
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    a2i2a_model *m = NULL;
    a2i2a_status st = convert ? a2i2a_models_convert(path, out, 0, NULL, 0, NULL) : a2i2a_model_open(path, &m);
    const char *e = a2i2a_last_error();
    if (write(fds[1], e, strlen(e)) < 0) _exit(3);
    _exit(st == A2I2A_OK ? 1 : 0);
  }
  close(fds[1]);
  ssize_t got = read(fds[0], msg, sizeof msg - 1);
  msg[got > 0 ? got : 0] = 0;
  close(fds[0]);
  int status = 0;
  struct rusage ru;
  wait4(pid, &status, 0, &ru);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
  const char *how = convert ? "convert" : "model open";
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s %s: not refused (status %d): %s", how, name, status, msg);
  CHECK(strstr(msg, path) && !strchr(msg, '\n'), "%s %s: not one line naming the file: %s", how, name, msg);
  for (size_t i = 0; i < sizeof hostile_reasons / sizeof *hostile_reasons; i++)
    if (!strcmp(hostile_reasons[i].file, name))
      CHECK(strstr(msg, hostile_reasons[i].reason) != NULL, "%s %s: the reason is not '%s': %s", how, name,
            hostile_reasons[i].reason, msg);
  CHECK(ru.ru_maxrss < 100 * 1024, "%s %s: peak memory %ld KiB", how, name, ru.ru_maxrss);
  CHECK(secs < 1.0, "%s %s: %.2f s", how, name, secs);
  CHECK(!exists(out), "%s %s: an output file was left", how, name);
  CHECK(!exists(MARK_FILE), "%s %s: %s exists: code ran", how, name, MARK_FILE);
  unlink(out);
}

static void test_hostile(void) {
  CHECK(!exists(MARK_FILE), "%s exists before the test", MARK_FILE);
  const char *dir = fixture("pickle/hostile");
  DIR *d = opendir(dir);
  CHECK(d != NULL, "%s missing", dir);
  int n = 0;
  struct dirent *e;
  while (d && (e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    refused_in_child(path, e->d_name, 0);
    refused_in_child(path, e->d_name, 1);
    n++;
  }
  if (d) closedir(d);
  CHECK(n >= (int)(sizeof hostile_reasons / sizeof *hostile_reasons), "only %d hostile files", n);
}

/* ------------------------------------------------------------------ the fixtures */

static void test_state_dicts(void) {
  st_file gold, zip, legacy, conv;
  CHECK(st_open(fixture("pickle/tensors.safetensors"), &gold) == A2I2A_OK, "%s", a2i2a_last_error());
  CHECK(pt_open(fixture("pickle/tensors.bin"), &zip) == A2I2A_OK, "tensors.bin: %s", a2i2a_last_error());
  CHECK(pt_open(fixture("pickle/tensors-legacy.bin"), &legacy) == A2I2A_OK, "tensors-legacy.bin: %s",
        a2i2a_last_error());
  same_tensors(&zip, &gold, "tensors.bin");
  same_tensors(&legacy, &gold, "tensors-legacy.bin");
  CHECK(gold.n == 15, "the golden file has %d tensors", gold.n);
  /* contiguous tensors stay in the file (the shared storage once), strided views are copies */
  const st_tensor *rows = st_find(&zip, "view_rows"), *a = st_find(&zip, "shared_a"),
                  *tr = st_find(&zip, "view_transposed");
  CHECK(rows && a && inside(&zip, rows->data) && inside(&zip, a->data) &&
            (const uint8_t *)rows->data == (const uint8_t *)a->data + 20 * st_dtype_size(a->dtype),
        "view_rows is not shared_a's storage at offset 20");
  CHECK(tr && !inside(&zip, tr->data) && zip.nowned == 2, "strided views: %d copies", zip.nowned);
  CHECK(((uintptr_t)st_find(&zip, "f32")->data & 63) == 0, "zip records are used in place, 64-byte aligned");

  /* converted through the library: the same tensors again, read back by the safetensors parser */
  const char *ins[] = {"pickle/tensors.bin", "pickle/tensors-legacy.bin"};
  for (int i = 0; i < 2; i++) {
    char out[4300], written[4300];
    snprintf(out, sizeof out, "%s/conv%d.safetensors", tmp, i);
    CHECK(a2i2a_models_convert(fixture(ins[i]), out, 0, written, sizeof written, NULL) == A2I2A_OK,
          "convert %s: %s", ins[i], a2i2a_last_error());
    CHECK(!strcmp(written, out), "written: %s", written);
    CHECK(st_open(out, &conv) == A2I2A_OK, "%s", a2i2a_last_error());
    same_tensors(&conv, &gold, ins[i]);
    CHECK(st_meta(&conv, "format") && !strcmp(st_meta(&conv, "format"), "pt"), "format metadata");
    st_close(&conv);
    /* nothing replaced without force */
    CHECK(a2i2a_models_convert(fixture(ins[i]), out, 0, NULL, 0, NULL) == A2I2A_ERR_EXISTS, "%s: overwritten",
          ins[i]);
    CHECK(a2i2a_models_convert(fixture(ins[i]), out, 1, NULL, 0, NULL) == A2I2A_OK, "force: %s",
          a2i2a_last_error());
  }
  /* the default output: beside the input, transformers' pytorch_model named model */
  char cmd[9000], path[4300], written[4300];
  snprintf(cmd, sizeof cmd, "mkdir -p %s/te && cp %s %s/te/pytorch_model.bin", tmp,
           fixture("pickle/tensors.bin"), tmp);
  CHECK(system(cmd) == 0, "%s", cmd);
  snprintf(path, sizeof path, "%s/te/pytorch_model.bin", tmp);
  CHECK(a2i2a_models_convert(path, NULL, 0, written, sizeof written, NULL) == A2I2A_OK, "%s", a2i2a_last_error());
  snprintf(path, sizeof path, "%s/te/model.safetensors", tmp);
  CHECK(!strcmp(written, path) && exists(path), "default output %s", written);
  CHECK(a2i2a_models_convert(fixture("pickle/tensors.safetensors"), NULL, 0, NULL, 0, NULL) ==
            A2I2A_ERR_PARAM,
        "converting a safetensors file");
  st_close(&gold), st_close(&zip), st_close(&legacy);
}

static void test_tiny_model(void) {
  sd_model st_folder, bin_folder, st_single, ckpt;
  CHECK(sd_model_open(fixture("sd/tiny-sd1"), &st_folder) == A2I2A_OK, "%s", a2i2a_last_error());
  CHECK(sd_model_open(fixture("pickle/tiny-sd1-bin"), &bin_folder) == A2I2A_OK, "tiny-sd1-bin: %s",
        a2i2a_last_error());
  CHECK(sd_model_open(fixture("sd/tiny-sd1.safetensors"), &st_single) == A2I2A_OK, "%s",
        a2i2a_last_error());
  CHECK(sd_model_open(fixture("pickle/tiny-sd1.ckpt"), &ckpt) == A2I2A_OK, "tiny-sd1.ckpt: %s",
        a2i2a_last_error());
  CHECK(bin_folder.layout == SD_LAYOUT_DIFFUSERS && bin_folder.family == 1 && ckpt.layout == SD_LAYOUT_LDM &&
            ckpt.family == 1,
        "layouts");
  static const char *parts[] = {"unet", "vae", "text_encoder"};
  for (int p = 0; p < SD_NPARTS; p++) same_tensors(&bin_folder.file[p], &st_folder.file[p], parts[p]);
  same_tensors(&ckpt.file[0], &st_single.file[0], "tiny-sd1.ckpt");
  CHECK(st_meta(&ckpt.file[0], "global_step") && !strcmp(st_meta(&ckpt.file[0], "global_step"), "470000") &&
            st_meta(&ckpt.file[0], "epoch") && !strcmp(st_meta(&ckpt.file[0], "epoch"), "6"),
        "the .ckpt's other entries as metadata");
  sd_model_release(&ckpt, SD_TEXT); /* only pages of the mapping are dropped: the weights stay */
  same_tensors(&ckpt.file[0], &st_single.file[0], "tiny-sd1.ckpt after release");
  sd_model_close(&st_folder), sd_model_close(&bin_folder), sd_model_close(&st_single), sd_model_close(&ckpt);
}

/* A single file opened with the folder's text-encoder config (the tiny encoder's heads cannot
 * be inferred from its shapes), as a2i2a_model_open would open a real one. */
static struct a2i2a_model *open_single(const char *path) {
  struct a2i2a_model *mdl = calloc(1, sizeof *mdl);
  size_t n;
  char *json = (char *)read_all(fixture("sd/tiny-sd1/text_encoder/config.json"), &n);
  cJSON *config = json ? (json[n] = 0, cJSON_Parse(json)) : NULL;
  free(json);
  int ok = mdl && config && !sd_model_open(path, &mdl->m) && !tokenizer_load(&mdl->tok, &mdl->m) &&
           !clip_load_config(&mdl->clip, &mdl->m, config) && !unet_load(&mdl->unet, &mdl->m) &&
           !vae_load(&mdl->vae, &mdl->m);
  cJSON_Delete(config);
  CHECK(ok, "%s: %s", path, a2i2a_last_error());
  if (!ok) sd_pipeline_close(mdl);
  return ok ? mdl : NULL;
}

static uint8_t *paint(a2i2a_model *m) {
  enum { W = 64, H = 48 };
  static uint8_t rgb[W * H * 3];
  for (int i = 0; i < W * H * 3; i++) rgb[i] = (uint8_t)(i * 7 % 251);
  a2i2a_i2i_params p = a2i2a_i2i_default_params();
  p.steps = 4;
  p.strength = 0.75;
  p.seed = 7;
  uint8_t *out = NULL;
  int w, h;
  if (!m || a2i2a_i2i(m, rgb, W, H, &p, &out, &w, &h, NULL) || w != W || h != H) {
    CHECK(0, "img2img: %s", a2i2a_last_error());
    a2i2a_free(out);
    return NULL;
  }
  return out;
}

static void test_same_pictures(void) {
  a2i2a_model *a = NULL, *b = NULL;
  CHECK(a2i2a_model_open(fixture("sd/tiny-sd1"), &a) == A2I2A_OK, "%s", a2i2a_last_error());
  CHECK(a2i2a_model_open(fixture("pickle/tiny-sd1-bin"), &b) == A2I2A_OK, "%s", a2i2a_last_error());
  uint8_t *pa = paint(a), *pb = paint(b);
  CHECK(pa && pb && !memcmp(pa, pb, 64 * 48 * 3), "img2img from tiny-sd1-bin differs from tiny-sd1");
  a2i2a_free(pa), a2i2a_free(pb);
  a2i2a_model_close(a), a2i2a_model_close(b);
  struct a2i2a_model *c = open_single(fixture("sd/tiny-sd1.safetensors")),
                     *d = open_single(fixture("pickle/tiny-sd1.ckpt"));
  uint8_t *pc = paint(c), *pd = paint(d);
  CHECK(pc && pd && !memcmp(pc, pd, 64 * 48 * 3), "img2img from tiny-sd1.ckpt differs from tiny-sd1.safetensors");
  a2i2a_free(pc), a2i2a_free(pd);
  sd_pipeline_close(c), sd_pipeline_close(d);
}

/* ------------------------------------------------------------------ crafted pickles */

static void refuse(const char *what, const char *pickle, size_t n, a2i2a_status want, const char *must) {
  pk_machine m;
  pk_init(&m, "crafted.bin");
  size_t used;
  pk_ref root;
  a2i2a_status st = pk_run(&m, (const uint8_t *)pickle, n, &used, &root);
  const char *e = a2i2a_last_error();
  CHECK(st == want, "%s: status %d, expected %d (%s)", what, st, want, e);
  CHECK(strstr(e, "crafted.bin") && strstr(e, must), "%s: error does not say '%s': %s", what, must, e);
  pk_free(&m);
}
#define REFUSE(what, lit, must) refuse(what, lit, sizeof lit - 1, A2I2A_ERR_FORMAT, must)

static void test_machine(void) {
  REFUSE("BINPUT on an empty stack", "\x80\x02q\x00.", "stack is empty");
  REFUSE("memo index too large", "\x80\x02Nr\xff\xff\xff\x7f.", "memo index");
  REFUSE("memo entry not set", "\x80\x02j\x05\x00\x00\x00.", "memo entry 5 is not set");
  REFUSE("APPENDS into a dict", "\x80\x02}(K\x01K\x02" "e.", "APPENDS into a dict");
  REFUSE("SETITEM into a list", "\x80\x02]K\x01K\x02s.", "SETITEM into a list");
  REFUSE("NEWOBJ", "\x80\x02\x63\x63ollections\nOrderedDict\n)\x81.", "it calls collections.OrderedDict");
  REFUSE("OBJ", "\x80\x02(\x63torch\nSize\no.", "it calls torch.Size");
  REFUSE("EXT1", "\x80\x02\x82\x01.", "copyreg extension registry");
  REFUSE("protocol 0 INT", "\x80\x02I12\n.", "unsupported pickle opcode 0x49");
  REFUSE("a string past the end", "\x80\x02X\xff\x00\x00\x00" "ab.", "ends inside opcode");
  REFUSE("no STOP", "\x80\x02N", "without STOP");
  REFUSE("protocol 6", "\x80\x06N.", "protocol 6");
  REFUSE("REDUCE of a storage class", "\x80\x02\x63torch\nFloatStorage\n)R.", "not a tensor rebuild");
  REFUSE("REDUCE of None", "\x80\x02N)R.", "REDUCE of a None");
  REFUSE("BUILD of a list", "\x80\x02]}b.", "BUILD of a list");
  REFUSE("a persistent id that is a number", "\x80\x02K\x01Q.", "not a storage");
  REFUSE("an unknown global", "\x80\x02\x63os\nsystem\n.", "it calls os.system");
  REFUSE("a frame past the end", "\x80\x04\x95\xff\x00\x00\x00\x00\x00\x00\x00N.", "frame runs past the end");
  REFUSE("POP_MARK without MARK", "\x80\x02\x31.", "no MARK");
  REFUSE("a negative stride",
         "\x80\x02\x63torch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storage\x63torch\nFloatStorage\n"
         "X\x01\x00\x00\x00kX\x03\x00\x00\x00" "cpuK\x04tQK\x00K\x02\x85J\xff\xff\xff\xff\x85\x89}tR.",
         "whole numbers");
  char deep[400] = "\x80\x02";
  memset(deep + 2, '(', 300);
  refuse("MARK nesting", deep, 302, A2I2A_ERR_FORMAT, "nested deeper than 256");
  char name[400] = "\x80\x02\x63";
  memset(name + 3, 'a', 300);
  refuse("a global's name of 300 bytes", name, 303, A2I2A_ERR_FORMAT, "a global's name");

  /* accepted: protocol 4's FRAME, SHORT_BINUNICODE, STACK_GLOBAL, MEMOIZE; BUILD of an
   * OrderedDict (a state dict's _metadata); numbers of each width */
  static const char p4[] = "\x80\x04\x95\x2e\x00\x00\x00\x00\x00\x00\x00\x8c\x0b\x63ollections\x94\x8c\x0bOrderedDict"
                           "\x94\x93\x94)R\x94}b\x8c\x01\x61\x8a\x01\xffs\x8c\x01\x62J\xfe\xff\xff\xffs\x8c\x01\x63"
                           "G\x3f\xf8\x00\x00\x00\x00\x00\x00s.";
  pk_machine m;
  pk_init(&m, "p4");
  size_t used;
  pk_ref root;
  CHECK(pk_run(&m, (const uint8_t *)p4, sizeof p4 - 1, &used, &root) == A2I2A_OK, "protocol 4: %s", a2i2a_last_error());
  if (used == sizeof p4 - 1) {
    const pk_obj *d = pk_at(&m, root);
    int f1, f2, f3;
    pk_ref a = pk_dict_get(&m, d, "a", &f1), b = pk_dict_get(&m, d, "b", &f2), c = pk_dict_get(&m, d, "c", &f3);
    CHECK(d->kind == PK_DICT && f1 && f2 && f3 && pk_at(&m, a)->v.i == -1 && pk_at(&m, b)->v.i == -2 &&
              pk_at(&m, c)->v.f == 1.5,
          "protocol 4 values");
  } else {
    CHECK(0, "protocol 4: used %zu of %zu bytes", used, sizeof p4 - 1);
  }
  pk_free(&m);

  /* APPENDS of no items to an empty list (whose items are NULL): accepted, and no arithmetic
   * on a null pointer (UBSan in the sanitizer build; fuzz_pickle found it) */
  static const char empty_appends[] = "\x80\x02](e.";
  pk_init(&m, "empty appends");
  CHECK(pk_run(&m, (const uint8_t *)empty_appends, sizeof empty_appends - 1, &used, &root) == A2I2A_OK &&
            pk_at(&m, root)->kind == PK_LIST && pk_at(&m, root)->n == 0,
        "APPENDS of nothing: %s", a2i2a_last_error());
  pk_free(&m);
}

/* A legacy file around main (one storage 'k' of FloatStorage, count values 1, 2, 3, ...). */
static uint8_t *legacy_file(const char *main, size_t main_len, uint64_t count, size_t nvalues, size_t *len) {
  static const uint8_t head[] = {
      0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, '.', /* the magic number */
      0x80, 0x02, 'M',  0xe9, 0x03, '.',                                                     /* version 1001 */
      0x80, 0x02, '}',  '.'};                                                                /* sys_info */
  static const char keys[] = "\x80\x02]X\x01\x00\x00\x00ka.";
  *len = sizeof head + main_len + sizeof keys - 1 + 8 + 4 * nvalues;
  uint8_t *b = malloc(*len), *p = b;
  memcpy(p, head, sizeof head), p += sizeof head;
  memcpy(p, main, main_len), p += main_len;
  memcpy(p, keys, sizeof keys - 1), p += sizeof keys - 1;
  memcpy(p, &count, 8), p += 8;
  for (size_t i = 0; i < nvalues; i++, p += 4) {
    float v = (float)(i + 1);
    memcpy(p, &v, 4);
  }
  return b;
}

/* {"w": storage k viewed with shape (A, B) and strides (S, T)} */
#define LEGACY_MAIN(A, B, S, T)                                                                              \
  "\x80\x02\x63\x63ollections\nOrderedDict\n)RX\x01\x00\x00\x00w\x63torch._utils\n_rebuild_tensor_v2\n"    \
  "((X\x07\x00\x00\x00storage\x63torch\nFloatStorage\nX\x01\x00\x00\x00kX\x03\x00\x00\x00" "cpuK\x04NtQK\x00" \
  A B "\x86" S T "\x86\x89}tRs."

static void test_containers(void) {
  /* a transposed view of 4 values: copied once, in order */
  static const char tr[] = LEGACY_MAIN("K\x02", "K\x02", "K\x01", "K\x02");
  size_t len;
  uint8_t *b = legacy_file(tr, sizeof tr - 1, 4, 4, &len);
  st_file f;
  CHECK(pt_parse(b, len, "crafted.bin", &f) == A2I2A_OK, "legacy transposed: %s", a2i2a_last_error());
  const st_tensor *w = st_find(&f, "w");
  float want[4] = {1, 3, 2, 4};
  CHECK(w && w->numel == 4 && w->dtype == ST_F32 && !memcmp(w->data, want, 16) && f.nowned == 1, "transposed values");
  st_close(&f);
  free(b);
  /* a storage shorter than its class and size say, or cut short */
  b = legacy_file(tr, sizeof tr - 1, 3, 3, &len);
  CHECK(pt_parse(b, len, "crafted.bin", &f) == A2I2A_ERR_FORMAT && strstr(a2i2a_last_error(), "storage 'k'"),
        "legacy count: %s", a2i2a_last_error());
  free(b);
  b = legacy_file(tr, sizeof tr - 1, 4, 4, &len);
  CHECK(pt_parse(b, len - 1, "crafted.bin", &f) == A2I2A_ERR_FORMAT && strstr(a2i2a_last_error(), "cut short"),
        "legacy cut: %s", a2i2a_last_error());
  free(b);
  /* a view repeating one value 2^30 times: more memory than the file could need */
  static const char bcast[] = LEGACY_MAIN("J\x00\x00\x00\x04", "K\x10", "K\x00", "K\x00");
  b = legacy_file(bcast, sizeof bcast - 1, 4, 4, &len);
  CHECK(pt_parse(b, len, "crafted.bin", &f) == A2I2A_ERR_FORMAT && strstr(a2i2a_last_error(), "repeats"),
        "broadcast view: %s", a2i2a_last_error());
  free(b);
  /* neither format */
  CHECK(pt_parse((const uint8_t *)"{\"a\":1}", 7, "crafted.bin", &f) == A2I2A_ERR_FORMAT &&
            strstr(a2i2a_last_error(), "not a PyTorch checkpoint"),
        "not a checkpoint: %s", a2i2a_last_error());
}

/* Every prefix and every byte set to 0, 0xff or +1 of a fixture: refused with a message naming
 * it, or read with every tensor inside the buffer or a copy the file owns. */
static void test_mutations(const char *rel) {
  size_t n;
  uint8_t *orig = read_all(fixture(rel), &n), *b = malloc(n + 1);
  CHECK(orig && b && n > 100, "%s missing", rel);
  if (!orig || !b) return;
  int accepted = 0, refused = 0;
  for (size_t k = 0; k < 4 * n; k++) {
    size_t len = n, at = k % n;
    memcpy(b, orig, n);
    if (k < n) len = k; /* a prefix */
    else b[at] = k < 2 * n ? 0 : k < 3 * n ? 0xff : (uint8_t)(b[at] + 1);
    st_file f;
    if (pt_parse(b, len, "mutated.bin", &f) == A2I2A_OK) {
      accepted++;
      for (int i = 0; i < f.n; i++) {
        const uint8_t *p = f.tensors[i].data;
        int in_buf = p >= b && p + f.tensors[i].nbytes <= b + len, owned = 0;
        for (int j = 0; j < f.nowned; j++) owned |= p == f.owned[j];
        if (f.tensors[i].nbytes && !in_buf && !owned) CHECK(0, "%s: change %zu: tensor outside the buffer", rel, k);
      }
      st_close(&f);
    } else {
      refused++;
      if (!strstr(a2i2a_last_error(), "mutated.bin")) CHECK(0, "%s: change %zu: %s", rel, k, a2i2a_last_error());
    }
  }
  CHECK(refused > (int)n, "%s: %d accepted, %d refused", rel, accepted, refused);
  free(orig), free(b);
}

/* ------------------------------------------------------------------ choosing weights */

static void test_choice(void) {
  const char *base[] = {"model_index.json", "scheduler/scheduler_config.json", "text_encoder/config.json",
                        "unet/config.json", "vae/config.json", "tokenizer/vocab.json"};
  const char *files[16], *chosen[16];
  int nb = 6;
  memcpy(files, base, sizeof base);
  files[nb++] = "text_encoder/pytorch_model.bin";
  files[nb++] = "text_encoder/model.safetensors";
  files[nb++] = "unet/diffusion_pytorch_model.bin";
  files[nb++] = "unet/diffusion_pytorch_model.fp16.bin";
  files[nb++] = "vae/diffusion_pytorch_model.bin";
  int n = hub_select_files("org/x", files, nb, chosen, 16);
  CHECK(n == 9 && !strcmp(chosen[6], "text_encoder/model.safetensors") &&
            !strcmp(chosen[7], "unet/diffusion_pytorch_model.fp16.bin") &&
            !strcmp(chosen[8], "vae/diffusion_pytorch_model.bin"),
        "hub choice: %d %s %s %s", n, n > 8 ? chosen[6] : "", n > 8 ? chosen[7] : "", n > 8 ? chosen[8] : "");
  CHECK(hub_select_files("org/x", files, 6, chosen, 16) < 0 && strstr(a2i2a_last_error(), ".bin forms"),
        "no weights: %s", a2i2a_last_error());
  /* madebyollin/taesd's listing: its diffusers config and safetensors, not its .pth files */
  const char *taesd_repo[] = {".gitattributes", "README.md", "config.json", "diffusion_pytorch_model.safetensors",
                              "taesd_decoder.pth", "taesd_decoder.safetensors", "taesd_encoder.pth"};
  n = hub_select_files("madebyollin/taesd", taesd_repo, 7, chosen, 16);
  CHECK(n == 2 && !strcmp(chosen[0], "config.json") && !strcmp(chosen[1], "diffusion_pytorch_model.safetensors"),
        "TAESD choice: %d", n);

  /* without model_index.json, a vocoder: Vocos's config.yaml and weights (safetensors first),
   * HiFi-GAN's config.json and generators (the safetensors ones when there are any) */
  const char *vocos[] = {"README.md", "config.yaml", "pytorch_model.bin", "model.safetensors"};
  n = hub_select_files("org/v", vocos, 4, chosen, 16);
  CHECK(n == 2 && !strcmp(chosen[0], "config.yaml") && !strcmp(chosen[1], "model.safetensors"), "vocos choice: %d",
        n);
  n = hub_select_files("org/v", vocos, 3, chosen, 16);
  CHECK(n == 2 && !strcmp(chosen[1], "pytorch_model.bin"), "vocos pickle choice: %d", n);
  const char *hifigan[] = {"config.json", "generator_v1", "do_02500000", "g_02500000.safetensors", "x/generator"};
  n = hub_select_files("org/h", hifigan, 5, chosen, 16);
  CHECK(n == 2 && !strcmp(chosen[0], "config.json") && !strcmp(chosen[1], "g_02500000.safetensors"),
        "hifigan choice: %d", n);
  n = hub_select_files("org/h", hifigan, 3, chosen, 16);
  CHECK(n == 2 && !strcmp(chosen[1], "generator_v1"), "hifigan pickle choice: %d", n);
  const char *neither[] = {"config.json", "model.safetensors", "README.md"};
  CHECK(hub_select_files("org/n", neither, 3, chosen, 16) < 0 && strstr(a2i2a_last_error(), "nor a vocoder"),
        "neither: %s", a2i2a_last_error());
  CHECK(hub_select_files("org/n", vocos, 2, chosen, 16) < 0, "vocos config without weights");

  /* a folder with both forms: the safetensors are used */
  char cmd[9000], p[4300], model[4096];
  if (!realpath(fixture("sd/tiny-sd1"), model)) {
    CHECK(0, "tiny-sd1 missing");
    return;
  }
  snprintf(cmd, sizeof cmd,
           "set -e; d=%s/both; mkdir $d; for x in %s/*; do ln -s $x $d/; done; rm $d/unet; mkdir $d/unet;"
           "ln -s %s/unet/* $d/unet/; echo junk > $d/unet/diffusion_pytorch_model.bin",
           tmp, model, model);
  CHECK(system(cmd) == 0, "%s", cmd);
  snprintf(p, sizeof p, "%s/both", tmp);
  sd_model m;
  CHECK(sd_model_open(p, &m) == A2I2A_OK && strstr(m.file[SD_UNET].path, ".safetensors"), "both forms: %s",
        a2i2a_last_error());
  sd_model_close(&m);
}

int main(void) {
  if (!mkdtemp(tmp)) {
    CHECK(0, "mkdtemp");
    return check_done();
  }
  /* the PyTorch files are in the full fixture set only */
  if (fixture_case("pickle/tensors.bin")) {
    test_hostile(); /* first: the children's peak memory starts from this process's */
    test_state_dicts();
    test_tiny_model();
    test_same_pictures();
  }
  test_machine();
  test_containers();
  if (fixture_case("pickle/tensors.bin")) {
    test_mutations("pickle/tensors.bin");
    test_mutations("pickle/tensors-legacy.bin");
  }
  test_choice();
  char cmd[4200];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
  CHECK(system(cmd) == 0, "%s", cmd);
  return check_done();
}
