/* The Hugging Face cache and Hub client behind `a2i2a models` and ORG/NAME model names (see
 * hub.h for the cache layout).
 *
 * Per file, as huggingface_hub does it: a HEAD on $ENDPOINT/ORG/NAME/resolve/REV/PATH without
 * following redirects gives the blob's etag (X-Linked-Etag for LFS files = the SHA-256 of the
 * content, else ETag) and size; the GET then follows redirects (to the CDN for LFS files). */
#include "hub/hub.h"
#include "common/err.h"
#include "common/job.h"
#include "common/sha256.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#define HUB_MAX_FILES 64
#define HUB_MAX_LISTING (32 << 20) /* bytes of API JSON we accept */

void hub_cache_dir(char *out, size_t n) {
  const char *e = getenv("HF_HUB_CACHE");
  if (e && *e) {
    snprintf(out, n, "%s", e);
  } else if ((e = getenv("HF_HOME")) && *e) {
    snprintf(out, n, "%s/hub", e);
  } else {
    const char *home = getenv("HOME");
    snprintf(out, n, "%s/.cache/huggingface/hub", home && *home ? home : ".");
  }
}

int hub_repo_valid(const char *s) {
  if (!s) return 0;
  const char *slash = strchr(s, '/');
  if (!slash || slash == s || !slash[1] || strchr(slash + 1, '/') || strlen(s) > 200) return 0;
  for (const char *c = s; *c; c++)
    if (!(isalnum((unsigned char)*c) || *c == '-' || *c == '_' || *c == '.' || *c == '/')) return 0;
  return s[0] != '.' && slash[1] != '.' && !strstr(s, "..") && !strstr(s, "--");
}

static int is_dir(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* models--ORG--NAME under the cache folder */
static void repo_folder(const char *hub, const char *repo, char *out, size_t n) {
  const char *slash = strchr(repo, '/');
  snprintf(out, n, "%s/models--%.*s--%s", hub, (int)(slash - repo), repo, slash + 1);
}

a2i2a_status hub_snapshot(const char *cache_dir, const char *repo, char *out, size_t n) {
  char hub[4096], base[4400];
  if (cache_dir && *cache_dir) snprintf(hub, sizeof hub, "%s", cache_dir);
  else hub_cache_dir(hub, sizeof hub);
  if (!hub_repo_valid(repo)) return fail(A2I2A_ERR_PARAM, "'%s' is not a Hugging Face model name (ORG/NAME)", repo);
  repo_folder(hub, repo, base, sizeof base);
  if (!is_dir(base))
    return fail(A2I2A_ERR_MODEL, "%s: not in the Hugging Face cache; 'a2i2a models pull %s' gets it", repo, repo);
  char refp[4500], rev[256] = "";
  snprintf(refp, sizeof refp, "%s/refs/main", base);
  FILE *f = fopen(refp, "r");
  if (f) {
    if (!fgets(rev, sizeof rev, f)) rev[0] = 0;
    fclose(f);
    size_t l = strlen(rev);
    while (l && isspace((unsigned char)rev[l - 1])) rev[--l] = 0;
  }
  if (!rev[0]) { /* no refs/main: accept a single snapshot */
    char sd[4500];
    snprintf(sd, sizeof sd, "%s/snapshots", base);
    DIR *d = opendir(sd);
    int count = 0;
    if (d) {
      struct dirent *de;
      while ((de = readdir(d)))
        if (de->d_name[0] != '.') {
          count++;
          snprintf(rev, sizeof rev, "%s", de->d_name);
        }
      closedir(d);
    }
    if (count != 1)
      return fail(A2I2A_ERR_MODEL, "%s: %s has no refs/main and %d snapshots; give the snapshot folder's path",
                  repo, base, count);
  }
  /* a commit's name, not a path: what refs/main says must not lead out of snapshots/ */
  int plain = strcmp(rev, ".") && strcmp(rev, "..");
  for (const char *c = rev; *c && plain; c++) plain = isalnum((unsigned char)*c) || strchr("._-", *c);
  if (!plain)
    return fail(A2I2A_ERR_MODEL, "%s: %s names '%.60s', not a commit (letters, digits, '.', '_', '-')", repo, refp,
                rev);
  if (snprintf(out, n, "%s/snapshots/%s", base, rev) >= (int)n)
    return fail(A2I2A_ERR_LIMIT, "%s: cache path too long (%s)", repo, base);
  if (!is_dir(out)) return fail(A2I2A_ERR_MODEL, "%s: refs/main names snapshot %s, which is missing (%s)", repo, rev, out);
  return A2I2A_OK;
}

/* ------------------------------------------------------------------ which files */

static int has_file(const char *const *files, int n, const char *name) {
  for (int i = 0; i < n; i++)
    if (!strcmp(files[i], name)) return i;
  return -1;
}

static int is_pickle(const char *name) {
  const char *ext = strrchr(name, '.');
  return ext && (!strcmp(ext, ".bin") || !strcmp(ext, ".ckpt") || !strcmp(ext, ".pt") || !strcmp(ext, ".pth") ||
                 !strcmp(ext, ".pkl") || !strcmp(ext, ".msgpack") || !strcmp(ext, ".h5") || !strcmp(ext, ".onnx"));
}

/* A vocoder repository (src/vocoder): Vocos's config.yaml and its weights, or HiFi-GAN's
 * config.json and its generator files (generator*, g_<steps>: the names its training writes);
 * safetensors first. 0 if it is neither. */
static int select_vocoder(const char *const *files, int nfiles, const char **chosen, int max) {
  int n = 0, config = has_file(files, nfiles, "config.yaml");
  if (config >= 0) {
    int w = has_file(files, nfiles, "model.safetensors");
    if (w < 0) w = has_file(files, nfiles, "pytorch_model.bin");
    if (w < 0 || max < 2) return 0;
    chosen[n++] = files[config];
    chosen[n++] = files[w];
    return n;
  }
  if ((config = has_file(files, nfiles, "config.json")) < 0 || max < 1) return 0;
  chosen[n++] = files[config];
  /* as the vocoder reads the folder: the safetensors generators when there are any */
  for (int safetensors = 1; safetensors >= 0 && n == 1; safetensors--)
    for (int i = 0; i < nfiles && n < max; i++) {
      const char *f = files[i], *ext = strrchr(f, '.');
      if (!strchr(f, '/') && (ext && !strcmp(ext, ".safetensors")) == safetensors &&
          (!strncmp(f, "generator", 9) || (!strncmp(f, "g_", 2) && isdigit((unsigned char)f[2]))))
        chosen[n++] = f;
    }
  return n > 1 ? n : 0;
}

int hub_select_files(const char *repo, const char *const *files, int nfiles, const char **chosen, int max) {
  int n = 0;
  /* a single diffusers model at the top (a TAESD, as madebyollin/taesd publishes it): its config
   * and its safetensors weights, nothing else (the repository also holds .pth files) */
  int top_config = has_file(files, nfiles, "config.json");
  int top_weights = has_file(files, nfiles, "diffusion_pytorch_model.safetensors");
  if (has_file(files, nfiles, "model_index.json") < 0 && top_config >= 0 && top_weights >= 0) {
    if (max >= 2) chosen[n++] = files[top_config], chosen[n++] = files[top_weights];
    return n;
  }
  if (has_file(files, nfiles, "model_index.json") < 0 && (n = select_vocoder(files, nfiles, chosen, max)) > 0)
    return n;
  static const char *required[] = {"model_index.json", "scheduler/scheduler_config.json", "text_encoder/config.json",
                                   "unet/config.json", "vae/config.json"};
  for (size_t r = 0; r < sizeof required / sizeof *required; r++) {
    int i = has_file(files, nfiles, required[r]);
    if (i < 0) {
      if (r == 0)
        fail(A2I2A_ERR_MODEL, "%s: the repository has no model_index.json: not a diffusers Stable Diffusion pipeline, "
             "nor a vocoder (Vocos: config.yaml and its weights; HiFi-GAN: config.json and generator files)", repo);
      else
        fail(A2I2A_ERR_MODEL, "%s: the repository has no %s: not a diffusers Stable Diffusion pipeline", repo,
             required[r]);
      return -1;
    }
    if (n < max) chosen[n++] = files[i];
  }
  int ntok = 0;
  for (int i = 0; i < nfiles; i++)
    if (!strncmp(files[i], "tokenizer/", 10) && !strchr(files[i] + 10, '/') && files[i][10] && !is_pickle(files[i])) {
      if (n < max) chosen[n++] = files[i];
      ntok++;
    }
  if (!ntok) {
    fail(A2I2A_ERR_MODEL, "%s: the repository has no tokenizer/ files", repo);
    return -1;
  }
  /* per part: safetensors (the fp16 variant first: half the download, and a2i2a computes in
   * float32 anyway), else PyTorch's .bin, which a2i2a reads without running it (sd/torch_file.h) */
  static const char *parts[][3] = {{"text_encoder", "model", "pytorch_model"},
                                   {"unet", "diffusion_pytorch_model", "diffusion_pytorch_model"},
                                   {"vae", "diffusion_pytorch_model", "diffusion_pytorch_model"}};
  for (int p = 0; p < 3; p++) {
    char names[4][256];
    snprintf(names[0], sizeof names[0], "%s/%s.fp16.safetensors", parts[p][0], parts[p][1]);
    snprintf(names[1], sizeof names[1], "%s/%s.safetensors", parts[p][0], parts[p][1]);
    snprintf(names[2], sizeof names[2], "%s/%s.fp16.bin", parts[p][0], parts[p][2]);
    snprintf(names[3], sizeof names[3], "%s/%s.bin", parts[p][0], parts[p][2]);
    int i = -1;
    for (int k = 0; k < 4 && i < 0; k++) i = has_file(files, nfiles, names[k]);
    if (i < 0) {
      fail(A2I2A_ERR_MODEL, "%s: the repository has no %s (or its .fp16 or .bin forms)", repo, names[1]);
      return -1;
    }
    if (n < max) chosen[n++] = files[i];
  }
  return n;
}

/* ------------------------------------------------------------------ HTTP */

typedef struct {
  CURL *curl;
  char endpoint[1024];
  const char *token;
  char auth[4200];
  a2i2a_job *job;
} hub_session;

typedef struct {
  long code;
  char etag[160], linked_etag[160], commit[160], location[4096], content_range[160];
  long long size, linked_size;
} http_headers;

static void trim(char *s) {
  size_t n = strlen(s);
  while (n && isspace((unsigned char)s[n - 1])) s[--n] = 0;
  size_t k = 0;
  while (s[k] && isspace((unsigned char)s[k])) k++;
  memmove(s, s + k, strlen(s + k) + 1);
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *userdata) {
  http_headers *h = userdata;
  size_t n = size * nitems;
  char line[4400];
  if (n >= sizeof line) return n;
  memcpy(line, buf, n);
  line[n] = 0;
  if (!strncmp(line, "HTTP/", 5)) { /* a new response (after a redirect): forget the last one's */
    char keep_etag[160], keep_size[32];
    snprintf(keep_etag, sizeof keep_etag, "%s", h->linked_etag);
    snprintf(keep_size, sizeof keep_size, "%lld", h->linked_size);
    long long ls = h->linked_size;
    memset(h, 0, sizeof *h);
    snprintf(h->linked_etag, sizeof h->linked_etag, "%s", keep_etag);
    h->linked_size = ls;
    h->size = -1;
    return n;
  }
  char *colon = strchr(line, ':');
  if (!colon) return n;
  *colon = 0;
  char *v = colon + 1;
  trim(v);
  if (!strcasecmp(line, "x-linked-etag")) snprintf(h->linked_etag, sizeof h->linked_etag, "%s", v);
  else if (!strcasecmp(line, "etag")) snprintf(h->etag, sizeof h->etag, "%s", v);
  else if (!strcasecmp(line, "x-repo-commit")) snprintf(h->commit, sizeof h->commit, "%s", v);
  else if (!strcasecmp(line, "location")) snprintf(h->location, sizeof h->location, "%s", v);
  else if (!strcasecmp(line, "content-range")) snprintf(h->content_range, sizeof h->content_range, "%s", v);
  else if (!strcasecmp(line, "content-length")) h->size = strtoll(v, NULL, 10);
  else if (!strcasecmp(line, "x-linked-size")) h->linked_size = strtoll(v, NULL, 10);
  return n;
}

/* Options every request shares: http(s) only, auth for the endpoint, time-outs. */
static struct curl_slist *setup(hub_session *s, const char *url, http_headers *h) {
  CURL *c = s->curl;
  curl_easy_reset(c);
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_USERAGENT, "a2i2a/" A2I2A_VERSION);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L); /* stalled for a minute: give up (and resume) */
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, h);
  memset(h, 0, sizeof *h);
  h->size = h->linked_size = -1;
  struct curl_slist *list = NULL;
  /* custom headers are not sent to other hosts after a redirect (curl ≥ 7.58), so the token
   * stays with the endpoint and never reaches the CDN */
  if (s->auth[0]) list = curl_slist_append(list, s->auth);
  if (list) curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
  return list;
}

static a2i2a_status http_status_error(const char *repo, const char *what, long code) {
  if (code == 401 || code == 403)
    return fail(A2I2A_ERR_MODEL,
                "%s: %s: access denied (HTTP %ld): the model is gated or private; accept its licence on the Hub "
                "and set HF_TOKEN",
                repo, what, code);
  if (code == 404)
    return fail(A2I2A_ERR_MODEL, "%s: %s: not found (HTTP 404): no such repository, revision or file (or it is private: set HF_TOKEN)",
                repo, what);
  return fail(A2I2A_ERR_IO, "%s: %s: the server answered HTTP %ld", repo, what, code);
}

typedef struct {
  char *data;
  size_t len, cap;
} membuf;

static size_t on_body_mem(char *p, size_t size, size_t n, void *ud) {
  membuf *b = ud;
  size_t k = size * n;
  if (b->len + k + 1 > HUB_MAX_LISTING) return 0;
  if (b->len + k + 1 > b->cap) {
    size_t cap = (b->len + k + 1) * 2;
    char *d = realloc(b->data, cap);
    if (!d) return 0;
    b->data = d;
    b->cap = cap;
  }
  memcpy(b->data + b->len, p, k);
  b->len += k;
  b->data[b->len] = 0;
  return k;
}

/* URL-escapes each '/'-separated part of path (keeping the slashes) or all of it. */
static void escape_path(CURL *c, const char *path, int keep_slash, char *out, size_t n) {
  out[0] = 0;
  size_t used = 0;
  const char *p = path;
  while (*p) {
    const char *e = keep_slash ? strchr(p, '/') : NULL;
    size_t len = e ? (size_t)(e - p) : strlen(p);
    char *esc = curl_easy_escape(c, p, (int)len);
    used += (size_t)snprintf(out + used, used < n ? n - used : 0, "%s%s", esc ? esc : "", e ? "/" : "");
    curl_free(esc);
    p += len + (e ? 1 : 0);
  }
}

/* ------------------------------------------------------------------ files and folders */

static a2i2a_status mkdirs(const char *path) {
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s", path);
  for (char *p = tmp + 1; *p; p++)
    if (*p == '/') {
      *p = 0;
      if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return fail(A2I2A_ERR_IO, "%s: cannot create folder: %s", tmp, strerror(errno));
      *p = '/';
    }
  if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return fail(A2I2A_ERR_IO, "%s: cannot create folder: %s", tmp, strerror(errno));
  struct stat st;
  if (stat(tmp, &st) != 0 || !S_ISDIR(st.st_mode)) return fail(A2I2A_ERR_IO, "%s: exists and is not a folder", tmp);
  return A2I2A_OK;
}

static long long file_size(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode) ? (long long)st.st_size : -1;
}

static int is_sha256_hex(const char *s) {
  if (strlen(s) != 64) return 0;
  for (int i = 0; i < 64; i++)
    if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i])) return 0;
  return 1;
}

/* An etag as a file name: W/ and quotes gone, nothing that could leave the blobs folder. */
static int normalise_etag(const char *raw, char *out, size_t n) {
  const char *s = raw;
  if (!strncmp(s, "W/", 2)) s += 2;
  size_t k = 0;
  for (; *s && k + 1 < n; s++) {
    if (*s == '"') continue;
    if (!(isalnum((unsigned char)*s) || *s == '-' || *s == '_')) return 0;
    out[k++] = *s;
  }
  out[k] = 0;
  return k > 0;
}

/* ------------------------------------------------------------------ progress */

static void human(long long b, char *out, size_t n) {
  if (b >= (1LL << 30)) snprintf(out, n, "%.2f GB", b / 1073741824.0);
  else if (b >= (1LL << 20)) snprintf(out, n, "%.1f MB", b / 1048576.0);
  else snprintf(out, n, "%.1f kB", b / 1024.0);
}

static int kib(long long bytes) { return bytes > 0 ? (int)((bytes + 1023) / 1024) : 0; }

/* One file's transfers: its progress in KiB only grows (a server that restarts a resumed file
 * from byte 0 holds it where it was until the new transfer passes it). */
typedef struct {
  hub_session *s;
  long long offset; /* bytes already on disk when this transfer began */
  int total_kib;    /* the file's size (0: unknown) */
  int *step;        /* the KiB reported so far */
  double last;
} xfer_progress;

/* libcurl calls it many times a second during a transfer: the cancel is noticed here (a non-zero
 * return aborts the transfer with CURLE_ABORTED_BY_CALLBACK); progress at most 10 times a second. */
static int on_xfer(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow) {
  (void)ultotal;
  (void)ulnow;
  (void)dltotal;
  xfer_progress *x = ud;
  if (job_check(x->s->job)) return 1;
  double t = now_seconds();
  if (t - x->last < 0.1) return 0;
  int done = (int)((x->offset + (long long)dlnow) / 1024);
  if (x->total_kib > 0 && done > x->total_kib) done = x->total_kib;
  if (x->total_kib > 0 && done > *x->step) {
    *x->step = done;
    x->last = t;
    job_step(x->s->job, done);
  }
  return 0;
}

/* ------------------------------------------------------------------ one file */

typedef struct {
  FILE *f;
  CURL *curl;
  long long offset;  /* resume point */
  int started, bad_range;
  http_headers *h;
} download_sink;

static size_t on_body_file(char *p, size_t size, size_t n, void *ud) {
  download_sink *d = ud;
  if (!d->started) {
    d->started = 1;
    long code = 0;
    curl_easy_getinfo(d->curl, CURLINFO_RESPONSE_CODE, &code);
    if (code == 206) {
      long long start = -1;
      if (sscanf(d->h->content_range, "bytes %lld-", &start) != 1 || start != d->offset) {
        d->bad_range = 1;
        return 0;
      }
      if (fseeko(d->f, (off_t)d->offset, SEEK_SET) != 0) return 0;
    } else { /* 200: the server sends everything again */
      if (fseeko(d->f, 0, SEEK_SET) != 0 || ftruncate(fileno(d->f), 0) != 0) return 0;
      d->offset = 0;
    }
  }
  return fwrite(p, size, n, d->f) * size;
}

typedef struct {
  const char *path;     /* in the repository */
  char etag[160];
  long long size;       /* -1 unknown */
} remote_file;

static a2i2a_status head_file(hub_session *s, const char *repo, const char *rev_esc, remote_file *rf) {
  char path_esc[4096], url[8192];
  escape_path(s->curl, rf->path, 1, path_esc, sizeof path_esc);
  snprintf(url, sizeof url, "%s/%s/resolve/%s/%s", s->endpoint, repo, rev_esc, path_esc);
  for (int hop = 0; hop < 5; hop++) {
    http_headers h;
    struct curl_slist *list = setup(s, url, &h);
    curl_easy_setopt(s->curl, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(s->curl, CURLOPT_FOLLOWLOCATION, 0L);
    CURLcode rc = curl_easy_perform(s->curl);
    curl_slist_free_all(list);
    if (rc != CURLE_OK)
      return fail(A2I2A_ERR_IO, "%s: %s: cannot reach %s: %s", repo, rf->path, s->endpoint, curl_easy_strerror(rc));
    curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &h.code);
    const char *raw = h.linked_etag[0] ? h.linked_etag : h.etag;
    /* a redirect inside the Hub (renamed repository) has no etag yet: follow it */
    if (h.code >= 300 && h.code < 400 && !raw[0] && h.location[0] == '/') {
      snprintf(url, sizeof url, "%s%s", s->endpoint, h.location);
      continue;
    }
    if (h.code >= 400) return http_status_error(repo, rf->path, h.code);
    if (!raw[0] || !normalise_etag(raw, rf->etag, sizeof rf->etag))
      return fail(A2I2A_ERR_IO, "%s: %s: the server gave no usable ETag (got \"%s\"); is %s a Hugging Face Hub?", repo,
                  rf->path, raw, s->endpoint);
    rf->size = h.linked_size >= 0 ? h.linked_size : (h.code < 300 ? h.size : -1);
    return A2I2A_OK;
  }
  return fail(A2I2A_ERR_IO, "%s: %s: too many redirects", repo, rf->path);
}

static int transient(CURLcode rc) {
  return rc == CURLE_PARTIAL_FILE || rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR || rc == CURLE_GOT_NOTHING ||
         rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_COULDNT_CONNECT || rc == CURLE_HTTP2 ||
         rc == CURLE_HTTP2_STREAM;
}

/* Fetches rf into blobs/<etag> (nothing to do if it is there). The caller holds the blob's lock.
 * A cancel stops the transfer and keeps blobs/<etag>.incomplete: that is how the cache resumes
 * (huggingface_hub does the same), so the next pull continues where this one stopped. */
static a2i2a_status fetch_blob_locked(hub_session *s, const char *repo, const char *rev_esc, const char *blobs,
                                      const remote_file *rf, int retries, int *downloaded) {
  char blob[4700], part[4800];
  snprintf(blob, sizeof blob, "%s/%s", blobs, rf->etag);
  snprintf(part, sizeof part, "%s.incomplete", blob);
  *downloaded = 0;
  long long have = file_size(blob);
  if (have >= 0 && (rf->size < 0 || have == rf->size)) return A2I2A_OK;
  char path_esc[4096], url[8192];
  escape_path(s->curl, rf->path, 1, path_esc, sizeof path_esc);
  snprintf(url, sizeof url, "%s/%s/resolve/%s/%s", s->endpoint, repo, rev_esc, path_esc);
  FILE *f = fopen(part, "ab+");
  if (!f) return fail(A2I2A_ERR_IO, "%s: cannot write: %s", part, strerror(errno));
  a2i2a_status st = A2I2A_OK;
  int step = 0;
  for (int attempt = 0;; attempt++) {
    long long offset = file_size(part);
    if (offset < 0) offset = 0;
    if (rf->size >= 0 && offset > rf->size) { /* longer than the file: start again */
      if (ftruncate(fileno(f), 0) != 0) {
        st = fail(A2I2A_ERR_IO, "%s: %s", part, strerror(errno));
        break;
      }
      offset = 0;
    }
    if (rf->size >= 0 && offset == rf->size) break; /* complete from an earlier run */
    http_headers h;
    struct curl_slist *list = setup(s, url, &h);
    download_sink sink = {.f = f, .curl = s->curl, .offset = offset, .h = &h};
    xfer_progress xp = {.s = s, .offset = offset, .total_kib = kib(rf->size), .step = &step};
    char range[64];
    if (offset > 0) {
      snprintf(range, sizeof range, "%lld-", offset);
      curl_easy_setopt(s->curl, CURLOPT_RANGE, range);
    }
    curl_easy_setopt(s->curl, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(s->curl, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(s->curl, CURLOPT_WRITEFUNCTION, on_body_file);
    curl_easy_setopt(s->curl, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(s->curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(s->curl, CURLOPT_XFERINFOFUNCTION, on_xfer);
    curl_easy_setopt(s->curl, CURLOPT_XFERINFODATA, &xp);
    CURLcode rc = curl_easy_perform(s->curl);
    curl_slist_free_all(list);
    fflush(f);
    long code = 0;
    curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &code);
    if (rc == CURLE_OK) break;
    if (rc == CURLE_ABORTED_BY_CALLBACK && (st = job_check(s->job))) break;
    if (rc == CURLE_HTTP_RETURNED_ERROR && code == 416 && offset > 0 && attempt < retries) {
      if (ftruncate(fileno(f), 0) != 0) { /* the server cannot resume from there: start again */
        st = fail(A2I2A_ERR_IO, "%s: %s", part, strerror(errno));
        break;
      }
      continue;
    }
    if (rc == CURLE_HTTP_RETURNED_ERROR) {
      st = http_status_error(repo, rf->path, code);
      break;
    }
    if (sink.bad_range) {
      st = fail(A2I2A_ERR_IO, "%s: %s: the server resumed at the wrong place (%s)", repo, rf->path, h.content_range);
      fclose(f);
      f = NULL;
      unlink(part);
      break;
    }
    if (rc == CURLE_WRITE_ERROR) {
      st = fail(A2I2A_ERR_IO, "%s: cannot write (disk full?): %s", part, strerror(errno));
      break;
    }
    if (transient(rc) && attempt < retries) {
      job_log(s->job, A2I2A_LOG_NOTE, "%s: %s; resuming (%d of %d)", rf->path, curl_easy_strerror(rc), attempt + 1,
              retries);
      struct timespec ts = {0, 300000000L * (attempt + 1)};
      nanosleep(&ts, NULL);
      continue;
    }
    st = fail(A2I2A_ERR_IO, "%s: %s: download failed: %s (the partial file is kept; run the same command to resume)", repo,
              rf->path, curl_easy_strerror(rc));
    break;
  }
  if (f) fclose(f);
  if (st) return st;
  long long got = file_size(part);
  if (rf->size >= 0 && got != rf->size) {
    unlink(part);
    return fail(A2I2A_ERR_IO, "%s: %s: downloaded %lld bytes, expected %lld; deleted it, run again", repo, rf->path, got,
                rf->size);
  }
  if (is_sha256_hex(rf->etag)) { /* LFS: the etag is the content's SHA-256 */
    char hex[65];
    if ((st = sha256_file(part, hex))) return st;
    if (strcmp(hex, rf->etag) != 0) {
      unlink(part);
      return fail(A2I2A_ERR_IO,
                  "%s: %s: the download is corrupt (SHA-256 %.16s... instead of %.16s...); deleted it, nothing was "
                  "added to the cache",
                  repo, rf->path, hex, rf->etag);
    }
  }
  if (rename(part, blob) != 0) {
    int e = errno;
    unlink(part);
    return fail(A2I2A_ERR_IO, "%s: cannot move into place: %s", blob, strerror(e));
  }
  *downloaded = 1;
  return A2I2A_OK;
}

/* One download of a blob at a time, also across processes (two pulls of one model would
 * otherwise append to the same .incomplete file, and the second could write into the blob the
 * first had just moved into place): an exclusive flock on locks/<etag>.lock, where
 * huggingface_hub keeps its own (<cache>/.locks/models--ORG--NAME/), so it and we also wait for
 * each other. The lock files stay: removing them would reopen the race. */
static a2i2a_status fetch_blob(hub_session *s, const char *repo, const char *rev_esc, const char *blobs,
                               const char *locks, const remote_file *rf, int retries, int *downloaded) {
  char lock[4800];
  snprintf(lock, sizeof lock, "%s/%s.lock", locks, rf->etag);
  int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return fail(A2I2A_ERR_IO, "%s: cannot create the download lock: %s", lock, strerror(errno));
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    job_log(s->job, A2I2A_LOG_NOTE, "%s: waiting for another download of it to finish", rf->path);
    /* polled rather than blocking, so that a cancel is noticed while waiting */
    for (;;) {
      a2i2a_status st = job_check(s->job);
      if (st) {
        close(fd);
        return st;
      }
      if (flock(fd, LOCK_EX | LOCK_NB) == 0) break;
      if (errno != EWOULDBLOCK && errno != EINTR) {
        int e = errno;
        close(fd);
        return fail(A2I2A_ERR_IO, "%s: cannot lock: %s", lock, strerror(e));
      }
      struct timespec ts = {0, 100000000L};
      nanosleep(&ts, NULL);
    }
  }
  a2i2a_status st = fetch_blob_locked(s, repo, rev_esc, blobs, rf, retries, downloaded);
  close(fd); /* releases the lock */
  return st;
}

/* snapshots/<commit>/<path> → ../../blobs/<etag> (one more ../ per folder in path), replacing
 * whatever was there, via a temporary link (named for this process) and rename. */
static a2i2a_status link_snapshot(const char *base, const char *commit, const remote_file *rf) {
  char link[4600], dir[4600], target[1024] = "", tmp[4700];
  snprintf(link, sizeof link, "%s/snapshots/%s/%s", base, commit, rf->path);
  snprintf(dir, sizeof dir, "%s", link);
  *strrchr(dir, '/') = 0;
  a2i2a_status st = mkdirs(dir);
  if (st) return st;
  size_t used = 0;
  used += (size_t)snprintf(target + used, sizeof target - used, "../../");
  for (const char *p = rf->path; *p; p++)
    if (*p == '/') used += (size_t)snprintf(target + used, sizeof target - used, "../");
  snprintf(target + used, sizeof target - used, "blobs/%s", rf->etag);
  snprintf(tmp, sizeof tmp, "%s.a2i2a-tmp%ld", link, (long)getpid()); /* another pull may be linking too */
  unlink(tmp);
  if (symlink(target, tmp) != 0) return fail(A2I2A_ERR_IO, "%s: cannot create a symbolic link: %s", link, strerror(errno));
  if (rename(tmp, link) != 0) {
    int e = errno;
    unlink(tmp);
    return fail(A2I2A_ERR_IO, "%s: cannot create: %s", link, strerror(e));
  }
  return A2I2A_OK;
}

static a2i2a_status write_ref(const char *base, const char *rev, const char *commit) {
  char path[4600], dir[4600], tmp[4700];
  snprintf(path, sizeof path, "%s/refs/%s", base, rev);
  snprintf(dir, sizeof dir, "%s", path);
  *strrchr(dir, '/') = 0;
  a2i2a_status st = mkdirs(dir);
  if (st) return st;
  snprintf(tmp, sizeof tmp, "%s.a2i2a-tmp%ld", path, (long)getpid());
  FILE *f = fopen(tmp, "wb");
  if (!f) return fail(A2I2A_ERR_IO, "%s: cannot write: %s", tmp, strerror(errno));
  int bad = fputs(commit, f) < 0;
  bad |= fclose(f) != 0;
  if (bad || rename(tmp, path) != 0) {
    unlink(tmp);
    return fail(A2I2A_ERR_IO, "%s: cannot write", path);
  }
  return A2I2A_OK;
}

/* ------------------------------------------------------------------ the pull */

static a2i2a_status list_repo(hub_session *s, const char *repo, const char *rev_esc, const char *rev, cJSON **json) {
  char url[4096];
  snprintf(url, sizeof url, "%s/api/models/%s/revision/%s", s->endpoint, repo, rev_esc);
  http_headers h;
  membuf b = {0};
  struct curl_slist *list = setup(s, url, &h);
  curl_easy_setopt(s->curl, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(s->curl, CURLOPT_WRITEFUNCTION, on_body_mem);
  curl_easy_setopt(s->curl, CURLOPT_WRITEDATA, &b);
  CURLcode rc = curl_easy_perform(s->curl);
  curl_slist_free_all(list);
  long code = 0;
  curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &code);
  if (rc != CURLE_OK) {
    free(b.data);
    return fail(A2I2A_ERR_IO, "%s: cannot reach %s: %s", repo, s->endpoint, curl_easy_strerror(rc));
  }
  if (code != 200) {
    free(b.data);
    char what[300];
    snprintf(what, sizeof what, "revision %s", rev);
    return http_status_error(repo, what, code);
  }
  *json = b.data ? cJSON_Parse(b.data) : NULL;
  free(b.data);
  if (!*json) return fail(A2I2A_ERR_IO, "%s: %s did not answer with a model listing (not JSON)", repo, url);
  return A2I2A_OK;
}

a2i2a_status hub_pull(const char *repo, const a2i2a_pull_params *p, char *snapshot, size_t n, a2i2a_job *job) {
  if (!hub_repo_valid(repo)) return fail(A2I2A_ERR_PARAM, "'%s' is not a Hugging Face model name (ORG/NAME)", repo ? repo : "");
  const char *offline = getenv("HF_HUB_OFFLINE");
  if (offline && *offline && strcmp(offline, "0"))
    return fail(A2I2A_ERR_PARAM, "%s: HF_HUB_OFFLINE is set: not downloading", repo);
  const char *rev = p->revision && *p->revision ? p->revision : "main";
  if (strstr(rev, "..") || rev[0] == '/' || strlen(rev) > 200)
    return fail(A2I2A_ERR_PARAM, "'%s' is not a valid revision", rev);
  if (job_check(job)) return A2I2A_ERR_CANCELLED;
  hub_session s = {0};
  const char *ep = p->endpoint && *p->endpoint ? p->endpoint : getenv("HF_ENDPOINT");
  snprintf(s.endpoint, sizeof s.endpoint, "%s", ep && *ep ? ep : "https://huggingface.co");
  size_t el = strlen(s.endpoint);
  while (el && s.endpoint[el - 1] == '/') s.endpoint[--el] = 0;
  if (strncmp(s.endpoint, "http://", 7) && strncmp(s.endpoint, "https://", 8))
    return fail(A2I2A_ERR_PARAM, "HF_ENDPOINT '%s' must start with http:// or https://", s.endpoint);
  s.token = p->token ? p->token : getenv("HF_TOKEN");
  if (s.token && *s.token) {
    for (const char *c = s.token; *c; c++)
      if ((unsigned char)*c < 0x21 || (unsigned char)*c > 0x7e) return fail(A2I2A_ERR_PARAM, "HF_TOKEN contains spaces or control characters");
    snprintf(s.auth, sizeof s.auth, "Authorization: Bearer %s", s.token);
  }
  s.job = job;
  int retries = p->retries > 0 ? p->retries : 3;
  char hub[4096], base[4400], blobs[4500], locks[4500];
  if (p->cache_dir && *p->cache_dir) snprintf(hub, sizeof hub, "%s", p->cache_dir);
  else hub_cache_dir(hub, sizeof hub);
  repo_folder(hub, repo, base, sizeof base);
  snprintf(blobs, sizeof blobs, "%s/blobs", base);
  char lock_root[4200];
  snprintf(lock_root, sizeof lock_root, "%s/.locks", hub);
  repo_folder(lock_root, repo, locks, sizeof locks);

  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return fail(A2I2A_ERR_INTERNAL, "libcurl failed to start");
  s.curl = curl_easy_init();
  if (!s.curl) return fail(A2I2A_ERR_NOMEM, "libcurl failed to start");
  a2i2a_status st;
  cJSON *json = NULL;
  char rev_esc[1024];
  escape_path(s.curl, rev, 0, rev_esc, sizeof rev_esc);
  remote_file files[HUB_MAX_FILES];
  int nf = 0;
  const char *names[1024];
  int nnames = 0;
  if ((st = list_repo(&s, repo, rev_esc, rev, &json))) goto done;
  const cJSON *sha = cJSON_GetObjectItemCaseSensitive(json, "sha");
  const cJSON *sib = cJSON_GetObjectItemCaseSensitive(json, "siblings");
  char commit[128];
  if (!cJSON_IsString(sha) || !normalise_etag(sha->valuestring, commit, sizeof commit) || !cJSON_IsArray(sib)) {
    st = fail(A2I2A_ERR_IO, "%s: the Hub's listing has no commit (sha) or file list (siblings)", repo);
    goto done;
  }
  const cJSON *it;
  cJSON_ArrayForEach(it, sib) {
    const cJSON *rf = cJSON_GetObjectItemCaseSensitive(it, "rfilename");
    if (cJSON_IsString(rf) && nnames < 1024) names[nnames++] = rf->valuestring;
  }
  const char *chosen[HUB_MAX_FILES];
  nf = hub_select_files(repo, names, nnames, chosen, HUB_MAX_FILES);
  if (nf < 0) {
    st = A2I2A_ERR_MODEL;
    if (strstr(a2i2a_last_error(), "pickle")) st = A2I2A_ERR_UNSUPPORTED;
    goto done;
  }
  for (int i = 0; i < nf; i++) {
    /* never let a listed name leave the snapshot folder */
    if (chosen[i][0] == '/' || strstr(chosen[i], "..") || strstr(chosen[i], "//")) {
      st = fail(A2I2A_ERR_IO, "%s: the listing names an unsafe path '%s'", repo, chosen[i]);
      goto done;
    }
    memset(&files[i], 0, sizeof files[i]);
    files[i].path = chosen[i];
  }
  if ((st = mkdirs(blobs)) || (st = mkdirs(locks))) goto done;
  /* the commit a branch name points to is pinned for every file: resolve through it */
  char commit_esc[256];
  escape_path(s.curl, commit, 0, commit_esc, sizeof commit_esc);
  /* progress: the listing and each file's size take the first 2 %, the downloads the rest,
   * each file its share by size */
  job_span whole = job_enter(job, 0, 0.02);
  job_stage(job, "listing", repo, nf);
  long long total = 0;
  for (int i = 0; i < nf; i++) {
    if ((st = job_check(job)) || (st = head_file(&s, repo, commit_esc, &files[i]))) goto done;
    if (files[i].size > 0) total += files[i].size;
    job_step(job, i + 1);
  }
  job_leave(job, whole);
  /* enough room for what is still missing (plus 1 %), before anything is written */
  long long missing = 0;
  for (int i = 0; i < nf; i++) {
    char blob[4700], part[4800];
    snprintf(blob, sizeof blob, "%s/%s", blobs, files[i].etag);
    snprintf(part, sizeof part, "%s.incomplete", blob);
    long long have = file_size(blob), partial = file_size(part);
    if (files[i].size > 0 && have != files[i].size) missing += files[i].size - (partial > 0 ? partial : 0);
  }
  struct statvfs vfs;
  if (missing > 0 && statvfs(blobs, &vfs) == 0) {
    long long avail = (long long)vfs.f_bavail * (long long)vfs.f_frsize;
    if (avail < missing + missing / 100) {
      char need[32], have[32];
      human(missing, need, sizeof need);
      human(avail, have, sizeof have);
      st = fail(A2I2A_ERR_IO, "%s: needs %s more in %s, only %s free", repo, need, hub, have);
      goto done;
    }
  }
  char tb[32];
  human(total, tb, sizeof tb);
  job_log(job, A2I2A_LOG_INFO, "%s (%s, commit %.12s): %d files, %s", repo, rev, commit, nf, tb);
  int fetched = 0;
  double weight = 0, before = 0; /* a small file still moves the fraction a little */
  for (int i = 0; i < nf; i++) weight += (double)(files[i].size > 0 ? files[i].size : 0) + 65536;
  for (int i = 0; i < nf; i++) {
    if ((st = job_check(job))) goto done;
    double share = ((double)(files[i].size > 0 ? files[i].size : 0) + 65536) / weight;
    job_span span = job_enter(job, 0.02 + 0.98 * before, 0.02 + 0.98 * (before + share));
    before += share;
    int got = 0;
    job_stage(job, "download", files[i].path, kib(files[i].size));
    st = fetch_blob(&s, repo, commit_esc, blobs, locks, &files[i], retries, &got);
    if (st) goto done;
    job_step(job, kib(files[i].size));
    job_leave(job, span);
    fetched += got;
    if (got) {
      char sz[32];
      human(files[i].size > 0 ? files[i].size : 0, sz, sizeof sz);
      job_log(job, A2I2A_LOG_INFO, "%s (%s)", files[i].path, sz);
    }
  }
  /* only now, with every blob in place, does the snapshot appear; from here on the pull is not
   * cancelled, so that the links and the ref are all made or none */
  for (int i = 0; i < nf; i++)
    if ((st = link_snapshot(base, commit, &files[i]))) goto done;
  if (strcmp(rev, commit) != 0 && (st = write_ref(base, rev, commit))) goto done;
  if (snapshot) snprintf(snapshot, n, "%s/snapshots/%s", base, commit);
  job_log(job, A2I2A_LOG_INFO, "%s: %d downloaded, %d already in the cache", repo, fetched, nf - fetched);
done:
  cJSON_Delete(json);
  curl_easy_cleanup(s.curl);
  return st;
}

a2i2a_pull_params a2i2a_pull_default_params(void) {
  a2i2a_pull_params p = {0};
  return p;
}

a2i2a_status a2i2a_models_pull(const char *repo, const a2i2a_pull_params *params, char *snapshot,
                               size_t snapshot_size, a2i2a_job *job) {
  job_begin(job);
  a2i2a_pull_params defaults = a2i2a_pull_default_params();
  return job_end(job, hub_pull(repo, params ? params : &defaults, snapshot, snapshot_size, job));
}
