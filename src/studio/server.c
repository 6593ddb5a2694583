/* The HTTP side of the studio (libmicrohttpd, one thread per connection): the checks every
 * request passes first (Host, Origin, fetch metadata, token), the embedded page, the uploads
 * streamed to disk, the server-sent events, and the replies of the API. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/job.h"
#include "common/outfile.h"
#include "studio/studio.h"

enum { MAX_JSON_BODY = 256 * 1024, HEARTBEAT_SECONDS = 10 };
#define MAX_DROPPED ((uint64_t)64 << 20)

/* the page: no inline script, nothing from elsewhere */
#define CSP                                                                                              \
  "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; script-src 'self'; "           \
  "style-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "        \
  "frame-ancestors 'none'"

typedef enum { REQ_PLAIN, REQ_UPLOAD } request_kind;

typedef struct {
  request_kind kind;
  int answered;          /* a reply is queued already (a refusal before or during the body) */
  studio_upload *upload;
  studio_reply refusal;  /* chosen while the body still comes */
  int refused;
  uint64_t dropped;      /* body bytes read past the refusal */
  char *body;
  size_t size;
} request;

/* ---------------------------------------------------------------- replies */

static void add_common_headers(struct MHD_Response *resp) {
  MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
  MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
  MHD_add_response_header(resp, "X-Frame-Options", "DENY");
  MHD_add_response_header(resp, "Cross-Origin-Resource-Policy", "same-origin");
}

static enum MHD_Result send_reply(struct MHD_Connection *c, studio_reply *r) {
  struct MHD_Response *resp;
  if (r->fd >= 0) {
    resp = MHD_create_response_from_fd64((uint64_t)r->fd_size, r->fd); /* owns the fd now */
    if (!resp) close(r->fd);
    r->fd = -1;
  } else {
    resp = MHD_create_response_from_buffer(r->size, r->body ? r->body : (char *)"",
                                           r->body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!resp) free(r->body);
  }
  r->body = NULL;
  if (!resp) return MHD_NO;
  add_common_headers(resp);
  MHD_add_response_header(resp, "Content-Type", r->type ? r->type : "application/octet-stream");
  MHD_add_response_header(resp, "Cache-Control", r->no_store ? "no-store" : "no-cache");
  if (r->disposition[0]) MHD_add_response_header(resp, "Content-Disposition", r->disposition);
  enum MHD_Result ret = MHD_queue_response(c, (unsigned)r->status, resp);
  MHD_destroy_response(resp);
  return ret;
}

static void reply_init(studio_reply *r) {
  memset(r, 0, sizeof *r);
  r->fd = -1;
}

/* ---------------------------------------------------------------- the checks */

static const char *header(struct MHD_Connection *c, const char *name) {
  return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

/* Host must name this server: an IP address (DNS rebinding needs a name), localhost, or the
 * name it was started with; and its port. */
static int host_allowed(const studio *s, const char *host) {
  if (!host || !*host || strlen(host) > 255) return 0;
  char name[256];
  const char *port;
  if (host[0] == '[') {
    const char *close_br = strchr(host, ']');
    if (!close_br) return 0;
    snprintf(name, sizeof name, "%.*s", (int)(close_br - host - 1), host + 1);
    port = close_br[1] == ':' ? close_br + 2 : close_br[1] ? NULL : "";
    if (!port) return 0;
  } else {
    const char *colon = strrchr(host, ':');
    snprintf(name, sizeof name, "%.*s", colon ? (int)(colon - host) : (int)strlen(host), host);
    port = colon ? colon + 1 : "";
  }
  char *end;
  long p = *port ? strtol(port, &end, 10) : 80;
  if ((*port && *end) || p != s->port) return 0;
  unsigned char addr[16];
  if (inet_pton(AF_INET, name, addr) == 1 || inet_pton(AF_INET6, name, addr) == 1) return 1;
  return !strcasecmp(name, "localhost") || (s->host[0] && !strcasecmp(name, s->host)) ||
         (s->hostname[0] && !strcasecmp(name, s->hostname));
}

/* Equal strings, in a time that does not depend on where they differ. */
static int same_secret(const char *a, const char *b) {
  size_t n = strlen(a), m = strlen(b);
  unsigned char diff = n != m;
  for (size_t i = 0; i < m; i++) diff |= (unsigned char)(a[i % (n ? n : 1)] ^ b[i]);
  return diff == 0 && n == m;
}

static int token_given(const studio *s, struct MHD_Connection *c, const char *url) {
  if (!s->token[0]) return 1;
  const char *t = header(c, "X-A2I2A-Token");
  if (t && same_secret(t, s->token)) return 1;
  const char *auth = header(c, "Authorization");
  if (auth && !strncasecmp(auth, "Bearer ", 7) && same_secret(auth + 7, s->token)) return 1;
  char cookie[64];
  snprintf(cookie, sizeof cookie, "a2i2a_token_%d", s->port);
  t = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, cookie);
  if (t && same_secret(t, s->token)) return 1;
  t = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token");
  return !strcmp(url, "/") && t && same_secret(t, s->token);
}

/* 0 if the request may go on; otherwise fills r with the refusal. */
static int check(studio *s, struct MHD_Connection *c, const char *url, const char *method, studio_reply *r) {
  if (strcmp(method, "GET") && strcmp(method, "HEAD") && strcmp(method, "POST") && strcmp(method, "DELETE")) {
    studio_reply_error(r, 405, "method", "This method is not used here.", method);
    return -1;
  }
  const char *host = header(c, "Host");
  if (!host_allowed(s, host)) {
    studio_reply_error(r, 403, "foreign_host", "This server answers only to its own address.", host);
    return -1;
  }
  const char *origin = header(c, "Origin");
  if (origin && (strncmp(origin, "http://", 7) || strcasecmp(origin + 7, host))) {
    studio_reply_error(r, 403, "foreign_origin", "Requests from other sites are refused.", origin);
    return -1;
  }
  /* browsers say where a request comes from: only the page itself may use the API; another
   * site may at most link to the page */
  const char *site = header(c, "Sec-Fetch-Site"), *mode = header(c, "Sec-Fetch-Mode");
  int navigation = mode && !strcmp(mode, "navigate") && !strcmp(url, "/");
  if (site && strcmp(site, "same-origin") && strcmp(site, "none") && !navigation) {
    studio_reply_error(r, 403, "foreign_site", "Requests from other sites are refused.", site);
    return -1;
  }
  if (!token_given(s, c, url)) {
    studio_reply_error(r, 401, "token",
                       "This studio needs its token: open the address a2i2a serve printed (it ends in ?token=...).",
                       NULL);
    return -1;
  }
  /* a POST that a form of another site could send without asking is refused (no CORS here) */
  if (!strcmp(method, "POST")) {
    const char *type = header(c, "Content-Type");
    int upload = !strcmp(url, "/api/uploads");
    int ok = type && (upload ? !strncasecmp(type, "application/octet-stream", 24) || !strncasecmp(type, "audio/", 6)
                             : !strncasecmp(type, "application/json", 16));
    if (!ok) {
      studio_reply_error(r, 415, "content_type",
                         upload ? "Send the sound as application/octet-stream (or audio/*)."
                                : "Send JSON (Content-Type: application/json).",
                         type);
      return -1;
    }
  }
  return 0;
}

/* ---------------------------------------------------------------- the page */

static enum MHD_Result send_asset(studio *s, struct MHD_Connection *c, const char *url) {
  const char *path = !strcmp(url, "/") ? "/index.html" : url;
  for (int i = 0; i < studio_nassets; i++) {
    if (strcmp(studio_assets[i].path, path)) continue;
    struct MHD_Response *resp = MHD_create_response_from_buffer(studio_assets[i].size, (void *)studio_assets[i].data,
                                                                MHD_RESPMEM_PERSISTENT);
    if (!resp) return MHD_NO;
    add_common_headers(resp);
    MHD_add_response_header(resp, "Content-Type", studio_content_type(path));
    MHD_add_response_header(resp, "Cache-Control", "no-cache");
    MHD_add_response_header(resp, "Content-Security-Policy", CSP);
    unsigned status = 200;
    /* the token arrives once in the address: kept as a cookie of this port, then out of sight */
    const char *t = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token");
    if (s->token[0] && t && !strcmp(url, "/")) {
      char cookie[200];
      snprintf(cookie, sizeof cookie, "a2i2a_token_%d=%s; Path=/; HttpOnly; SameSite=Strict", s->port, s->token);
      MHD_add_response_header(resp, "Set-Cookie", cookie);
      MHD_add_response_header(resp, "Location", "/");
      status = 303;
    }
    enum MHD_Result ret = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return ret;
  }
  studio_reply r;
  reply_init(&r);
  studio_reply_error(&r, 404, "not_found", "There is no such page.", NULL);
  return send_reply(c, &r);
}

/* ---------------------------------------------------------------- events */

/* One tab's stream: whatever changed since it last looked, as "job" and "runs" events; a new
 * tab gets every job's current state (and so its latest preview) first. */
typedef struct {
  studio *s;
  uint64_t seen;
  studio_text out;  /* what is still to be sent, from off */
  size_t off;
  double last;
  int started;
} events;

static void add_event(events *e, const char *event, const char *json) {
  studio_text_add(&e->out, "event: ");
  studio_text_add(&e->out, event);
  studio_text_add(&e->out, "\ndata: ");
  studio_text_add(&e->out, json);
  studio_text_add(&e->out, "\n\n");
}

/* Waits for a change and writes the events; -1 when the server stops. */
static int next_events(events *e) {
  studio *s = e->s;
  /* many changes in a burst (Griffin-Lim iterations) reach a tab at most five times a second */
  double wait = e->last + 0.2 - now_seconds();
  if (e->started && wait > 0) {
    struct timespec ts = {0, (long)(wait * 1e9)};
    nanosleep(&ts, NULL);
  }
  pthread_mutex_lock(&s->lock);
  int timed_out = 0;
  if (e->started) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += HEARTBEAT_SECONDS;
    while (!s->stopping && s->version == e->seen && !timed_out)
      timed_out = pthread_cond_timedwait(&s->changed, &s->lock, &until) == ETIMEDOUT;
  }
  if (s->stopping) {
    pthread_mutex_unlock(&s->lock);
    return -1;
  }
  char head[64];
  if (!e->started) {
    snprintf(head, sizeof head, "{\"version\":%llu}", (unsigned long long)s->version);
    studio_text_add(&e->out, "retry: 2000\n");
    add_event(e, "hello", head);
  }
  if (timed_out) studio_text_add(&e->out, ": keep-alive\n\n");
  for (studio_job *j = s->jobs; j; j = j->next)
    if (j->version > e->seen) add_event(e, "job", studio_job_text(j));
  if (s->runs_version > e->seen && e->started) {
    snprintf(head, sizeof head, "{\"version\":%llu}", (unsigned long long)s->runs_version);
    add_event(e, "runs", head);
  }
  e->seen = s->version;
  e->started = 1;
  pthread_mutex_unlock(&s->lock);
  e->last = now_seconds();
  return e->out.failed ? -1 : 0;
}

static ssize_t events_read(void *cls, uint64_t pos, char *out, size_t max) {
  (void)pos;
  events *e = cls;
  while (e->off == e->out.len) {
    e->off = e->out.len = 0;
    if (next_events(e)) return MHD_CONTENT_READER_END_OF_STREAM;
  }
  size_t n = e->out.len - e->off < max ? e->out.len - e->off : max;
  memcpy(out, e->out.buf + e->off, n);
  e->off += n;
  return (ssize_t)n;
}

static void events_free(void *cls) {
  events *e = cls;
  free(e->out.buf);
  free(e);
}

static enum MHD_Result send_events(studio *s, struct MHD_Connection *c) {
  events *e = calloc(1, sizeof *e);
  if (!e) return MHD_NO;
  e->s = s;
  struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, events_read, e, events_free);
  if (!resp) {
    free(e);
    return MHD_NO;
  }
  add_common_headers(resp);
  MHD_add_response_header(resp, "Content-Type", "text/event-stream");
  MHD_add_response_header(resp, "Cache-Control", "no-store");
  enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
  MHD_destroy_response(resp);
  return ret;
}

/* ---------------------------------------------------------------- requests */

static enum MHD_Result refuse(request *rq, struct MHD_Connection *c, studio_reply *r) {
  rq->answered = 1;
  return send_reply(c, r);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *version, const char *data, size_t *data_size, void **con_cls) {
  (void)version;
  studio *s = cls;
  request *rq = *con_cls;
  if (s->cfg.log_requests && !rq) {
    char shown[256];
    studio_printable(url, shown, sizeof shown);
    fprintf(stderr, "a2i2a serve: %s %s\n", method, shown);
  }
  if (!rq) {
    /* the first call has the headers only: every check happens before any body is read */
    rq = calloc(1, sizeof *rq);
    if (!rq) return MHD_NO;
    *con_cls = rq;
    studio_reply r;
    reply_init(&r);
    if (check(s, c, url, method, &r)) return refuse(rq, c, &r);
    if (!strcmp(method, "POST") && !strcmp(url, "/api/uploads")) {
      rq->kind = REQ_UPLOAD;
      rq->upload = studio_upload_begin(s, header(c, MHD_HTTP_HEADER_CONTENT_LENGTH), header(c, "X-Filename"), &r);
      if (!rq->upload) return refuse(rq, c, &r);
    }
    return MHD_YES;
  }
  if (rq->answered) { /* a refusal went out: the rest of the body is dropped */
    *data_size = 0;
    return MHD_YES;
  }
  if (*data_size) {
    if (rq->refused) {
      /* past a limit: the rest is read and dropped, so that the client gets to read the
       * refusal; beyond a bound the connection is closed instead */
      rq->dropped += *data_size;
      if (rq->dropped > MAX_DROPPED) return MHD_NO;
    } else if (rq->kind == REQ_UPLOAD) {
      reply_init(&rq->refusal);
      if (studio_upload_data(rq->upload, data, *data_size, &rq->refusal)) rq->refused = 1;
    } else if (rq->size + *data_size > MAX_JSON_BODY) {
      reply_init(&rq->refusal);
      studio_reply_error(&rq->refusal, 413, "too_large", "The request is too large.", NULL);
      rq->refused = 1;
    } else {
      char *b = realloc(rq->body, rq->size + *data_size + 1);
      if (!b) return MHD_NO;
      memcpy(b + rq->size, data, *data_size);
      rq->body = b;
      rq->size += *data_size;
      rq->body[rq->size] = 0;
    }
    *data_size = 0;
    return MHD_YES;
  }
  if (rq->refused) return refuse(rq, c, &rq->refusal);
  studio_reply r;
  reply_init(&r);
  if (rq->kind == REQ_UPLOAD) {
    studio_upload_end(rq->upload, &r);
    return send_reply(c, &r);
  }
  if (!strcmp(url, "/api/events") && !strcmp(method, "GET")) return send_events(s, c);
  if (strncmp(url, "/api/", 5)) {
    if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
      studio_reply_error(&r, 405, "method", "This method is not used here.", method);
      return send_reply(c, &r);
    }
    return send_asset(s, c, url);
  }
  const char *limit = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "limit");
  studio_api(s, method, url, MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "q"), limit, rq->body, rq->size, &r);
  return send_reply(c, &r);
}

/* A request ends (answered, or the client went away mid-upload or mid-stream): what it held goes. */
static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe) {
  (void)cls, (void)c, (void)toe;
  request *rq = *con_cls;
  if (!rq) return;
  studio_upload_abort(rq->upload);
  free(rq->refusal.body);
  free(rq->body);
  free(rq);
  *con_cls = NULL;
}

/* MHD's own unescaping, except that a URL with an escaped NUL stays escaped: "run.json%00.png"
 * must not become "run.json" (a name with '%' is no valid name, so it is not found). */
static size_t unescape(void *cls, struct MHD_Connection *c, char *s) {
  (void)cls, (void)c;
  for (const char *p = s; (p = strchr(p, '%')); p++)
    if (p[1] == '0' && p[2] == '0') return strlen(s);
  return MHD_http_unescape(s);
}

/* ---------------------------------------------------------------- start and stop */

static int is_loopback(const struct sockaddr *sa) {
  if (sa->sa_family == AF_INET) return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
  if (sa->sa_family == AF_INET6) {
    const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
    return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
  }
  return 0;
}

static int is_wildcard(const struct sockaddr *sa) {
  if (sa->sa_family == AF_INET) return ((const struct sockaddr_in *)sa)->sin_addr.s_addr == htonl(INADDR_ANY);
  if (sa->sa_family == AF_INET6) return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)sa)->sin6_addr);
  return 0;
}

static a2i2a_status listen_on(studio *s, int *loopback, int *wildcard) {
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
  struct addrinfo *res = NULL;
  char port[16];
  snprintf(port, sizeof port, "%d", s->cfg.port);
  int rc = getaddrinfo(s->cfg.host, port, &hints, &res);
  if (rc) return fail(A2I2A_ERR_PARAM, "--host %s: %s", s->cfg.host, gai_strerror(rc));
  int err = 0;
  for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      err = errno;
      continue;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 128)) {
      err = errno;
      close(fd);
      continue;
    }
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &len);
    s->port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                             : ((struct sockaddr_in6 *)&ss)->sin6_port);
    *loopback = is_loopback((struct sockaddr *)&ss);
    *wildcard = is_wildcard((struct sockaddr *)&ss);
    s->listen_fd = fd;
    freeaddrinfo(res);
    return A2I2A_OK;
  }
  freeaddrinfo(res);
  return fail(A2I2A_ERR_IO, "cannot listen on %s port %d: %s", s->cfg.host, s->cfg.port, strerror(err));
}

static a2i2a_status make_dirs(studio *s) {
  if (mkdir(s->cfg.dir, 0755) && errno != EEXIST) return fail(A2I2A_ERR_IO, "%s: cannot create: %s", s->cfg.dir, strerror(errno));
  char abs[PATH_MAX];
  if (!realpath(s->cfg.dir, abs)) return fail(A2I2A_ERR_IO, "%s: %s", s->cfg.dir, strerror(errno));
  if (strlen(abs) >= sizeof s->dir) return fail(A2I2A_ERR_PARAM, "%.60s...: path too long", abs);
  memcpy(s->dir, abs, strlen(abs) + 1);
  s->dirfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (s->dirfd < 0) return fail(A2I2A_ERR_IO, "%s: not a folder: %s", s->dir, strerror(errno));
  static const char *const sub[] = {".studio", ".studio/uploads", ".studio/tmp"};
  for (int i = 0; i < 3; i++)
    if (mkdirat(s->dirfd, sub[i], 0755) && errno != EEXIST)
      return fail(A2I2A_ERR_IO, "%s/%s: cannot create: %s", s->dir, sub[i], strerror(errno));
  /* one studio per folder: a second would take the first one's work in progress for leftovers */
  int fd = openat(s->dirfd, ".studio/lock", O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return fail(A2I2A_ERR_IO, "%s/.studio/lock: cannot create: %s", s->dir, strerror(errno));
  if (flock(fd, LOCK_EX | LOCK_NB)) {
    close(fd);
    return fail(A2I2A_ERR_IO, "%s: another a2i2a serve is using this folder", s->dir);
  }
  s->lockfd = fd;
  /* what a studio stopped by force left half-done */
  remove_tree_at(s->dirfd, ".studio/tmp");
  if (mkdirat(s->dirfd, ".studio/tmp", 0755))
    return fail(A2I2A_ERR_IO, "%s/.studio/tmp: cannot create: %s", s->dir, strerror(errno));
  return A2I2A_OK;
}

a2i2a_status studio_start(const studio_config *cfg, studio **out) {
  *out = NULL;
  studio *s = xcalloc(1, sizeof *s, "the studio");
  if (!s) return A2I2A_ERR_NOMEM;
  s->cfg = *cfg;
  s->dirfd = s->listen_fd = s->lockfd = -1;
  s->max_upload_bytes = cfg->max_upload_mb * 1e6;
  pthread_mutex_init(&s->lock, NULL);
  pthread_mutex_init(&s->cache_lock, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_cond_init(&s->changed, &ca);
  pthread_cond_init(&s->work, &ca);
  pthread_condattr_destroy(&ca);
  a2i2a_status st = make_dirs(s);
  int loopback = 0, wildcard = 0;
  if (!st) st = listen_on(s, &loopback, &wildcard);
  if (st) {
    studio_stop(s);
    return st;
  }
  if (cfg->token) snprintf(s->token, sizeof s->token, "%s", cfg->token);
  else if (!loopback && studio_random_hex(s->token, 24)) st = fail(A2I2A_ERR_INTERNAL, "no random numbers for a token");
  gethostname(s->hostname, sizeof s->hostname);
  if (!wildcard) snprintf(s->host, sizeof s->host, "%s", cfg->host);
  const char *shown = wildcard ? s->hostname : cfg->host;
  int v6 = strchr(shown, ':') != NULL;
  snprintf(s->url, sizeof s->url, "http://%s%s%s:%d/%s%s", v6 ? "[" : "", shown, v6 ? "]" : "", s->port,
           s->token[0] ? "?token=" : "", s->token);
  if (!st) st = studio_jobs_start(s);
  if (!st) {
    s->mhd = MHD_start_daemon(MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ITC, 0, NULL, NULL, handle, s,
                              MHD_OPTION_LISTEN_SOCKET, s->listen_fd, MHD_OPTION_NOTIFY_COMPLETED, completed, s, MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL,
                              MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60, MHD_OPTION_CONNECTION_LIMIT, (unsigned)1000,
                              MHD_OPTION_END);
    if (!s->mhd) st = fail(A2I2A_ERR_INTERNAL, "cannot start the HTTP server (libmicrohttpd)");
  }
  if (st) {
    studio_stop(s);
    return st;
  }
  *out = s;
  return A2I2A_OK;
}

const char *studio_url(const studio *s) { return s->url; }
int studio_port(const studio *s) { return s->port; }
const char *studio_token(const studio *s) { return s->token; }

void studio_stop(studio *s) {
  if (!s) return;
  /* the streams end, the running job is cancelled (its folder goes), then the connections */
  pthread_mutex_lock(&s->lock);
  s->stopping = 1;
  studio_changed(s);
  pthread_mutex_unlock(&s->lock);
  /* no new connections: the listening socket is ours again (else MHD closes it) */
  if (s->mhd && MHD_quiesce_daemon(s->mhd) < 0) s->listen_fd = -1;
  studio_jobs_stop(s);
  if (s->mhd) MHD_stop_daemon(s->mhd);
  if (s->listen_fd >= 0) close(s->listen_fd);
  if (s->lockfd >= 0) {
    remove_tree_at(s->dirfd, ".studio/tmp");
    mkdirat(s->dirfd, ".studio/tmp", 0755);
    close(s->lockfd);
  }
  if (s->dirfd >= 0) close(s->dirfd);
  studio_cache_free(s);
  pthread_cond_destroy(&s->changed);
  pthread_cond_destroy(&s->work);
  pthread_mutex_destroy(&s->lock);
  pthread_mutex_destroy(&s->cache_lock);
  free(s);
}
