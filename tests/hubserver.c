/* A tiny Hugging Face Hub stand-in for tests/cli_models.sh, on 127.0.0.1 only.
 *
 *   hubserver ROOT COMMIT PORTFILE LOGFILE [--cut PATH:N] [--corrupt PATH] [--token T] [--redirect]
 *             [--delay MS]
 *
 * Serves the files under ROOT as every repository's content at revision "main" or COMMIT:
 *   GET  /api/models/ORG/NAME/revision/REV   {"sha": COMMIT, "siblings": [{"rfilename": ...}]}
 *   HEAD/GET /ORG/NAME/resolve/REV/PATH      .safetensors/.bin/.ckpt are "LFS" files:
 *        X-Linked-Etag = their SHA-256, X-Linked-Size; with --redirect a 302 to
 *        http://localhost:PORT/cdn/PATH (another host name, so clients drop the token);
 *        other files: ETag = the first 40 hex digits of their SHA-256.
 *   GET  /cdn/PATH                          the content, with Range: bytes=N- support.
 * --cut PATH:N  the first GET of PATH's content stops after N bytes (connection closed);
 * --corrupt PATH  PATH's content is served with one byte changed (the headers stay right);
 * --token T  /api and /resolve answer 401 without "Authorization: Bearer T".
 * --delay MS  every GET of a file's content waits MS milliseconds first (slow downloads overlap).
 * Writes the port to PORTFILE when ready; logs "METHOD URL range=R auth=yes|no" per request;
 * exits after 60 s without a connection. One request per connection (Connection: close). */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <time.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/sha256.h"

static const char *root, *commit, *cut_path, *corrupt_path, *token;
static long cut_bytes = -1;
static int cut_done, redirect, port, delay_ms;
static FILE *logf;
static char listing[1 << 16];

static void add_files(const char *rel) {
  char dir[4096];
  snprintf(dir, sizeof dir, "%s%s%s", root, *rel ? "/" : "", rel);
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    char r[4096], full[8192];
    snprintf(r, sizeof r, "%s%s%s", rel, *rel ? "/" : "", e->d_name);
    snprintf(full, sizeof full, "%s/%s", root, r);
    struct stat st;
    if (stat(full, &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      add_files(r);
    } else {
      size_t l = strlen(listing);
      snprintf(listing + l, sizeof listing - l, "%s{\"rfilename\": \"%s\"}", listing[l - 1] == '[' ? "" : ", ", r);
    }
  }
  closedir(d);
}

static int is_lfs(const char *p) {
  const char *e = strrchr(p, '.');
  return e && (!strcmp(e, ".safetensors") || !strcmp(e, ".bin") || !strcmp(e, ".ckpt"));
}

/* SHA-256 of a served file, computed once (content never changes while we run) */
static void file_sha(const char *full, char hex[65]) {
  static char paths[256][512], hexes[256][65];
  static int n;
  for (int i = 0; i < n; i++)
    if (!strcmp(paths[i], full)) {
      memcpy(hex, hexes[i], 65);
      return;
    }
  sha256_file(full, hex);
  if (n < 256 && strlen(full) < 512) {
    strcpy(paths[n], full);
    memcpy(hexes[n++], hex, 65);
  }
}

static void send_all(int fd, const void *b, size_t n) {
  const char *p = b;
  while (n) {
    ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
    if (k <= 0) return;
    p += k;
    n -= (size_t)k;
  }
}

static void reply(int fd, int code, const char *reason, const char *extra, const char *body) {
  char h[8192];
  int n = snprintf(h, sizeof h, "HTTP/1.1 %d %s\r\nContent-Length: %zu\r\nConnection: close\r\n%s\r\n", code, reason,
                   body ? strlen(body) : 0, extra ? extra : "");
  send_all(fd, h, (size_t)n);
  if (body) send_all(fd, body, strlen(body));
}

/* The content of rel (corrupted if asked), from offset on; cut on the first request if asked. */
static void send_content(int fd, const char *rel, long long offset, int head) {
  char full[8192];
  snprintf(full, sizeof full, "%s/%s", root, rel);
  FILE *f = fopen(full, "rb");
  if (!f) {
    reply(fd, 404, "Not Found", NULL, "no such file");
    return;
  }
  fseek(f, 0, SEEK_END);
  long long size = ftell(f);
  if (offset > size || (offset == size && size > 0)) {
    char ex[128];
    snprintf(ex, sizeof ex, "Content-Range: bytes */%lld\r\n", size);
    reply(fd, 416, "Range Not Satisfiable", ex, "");
    fclose(f);
    return;
  }
  char h[1024];
  int n;
  if (offset > 0)
    n = snprintf(h, sizeof h,
                 "HTTP/1.1 206 Partial Content\r\nContent-Length: %lld\r\nContent-Range: bytes %lld-%lld/%lld\r\n"
                 "Accept-Ranges: bytes\r\nConnection: close\r\n\r\n",
                 size - offset, offset, size - 1, size);
  else
    n = snprintf(h, sizeof h, "HTTP/1.1 200 OK\r\nContent-Length: %lld\r\nAccept-Ranges: bytes\r\nConnection: close\r\n\r\n",
                 size);
  send_all(fd, h, (size_t)n);
  if (head) {
    fclose(f);
    return;
  }
  long long limit = size - offset;
  if (delay_ms > 0) {
    struct timespec ts = {delay_ms / 1000, (long)(delay_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
  }
  if (cut_path && !cut_done && !strcmp(rel, cut_path)) {
    cut_done = 1;
    if (cut_bytes < limit) limit = cut_bytes;
  }
  int corrupt = corrupt_path && !strcmp(corrupt_path, rel);
  fseek(f, (long)offset, SEEK_SET);
  char buf[65536];
  long long pos = offset;
  while (limit > 0) {
    size_t k = fread(buf, 1, limit < (long long)sizeof buf ? (size_t)limit : sizeof buf, f);
    if (!k) break;
    if (corrupt && pos <= size / 2 && size / 2 < pos + (long long)k) buf[size / 2 - pos] ^= 0x40;
    send_all(fd, buf, k);
    pos += (long long)k;
    limit -= (long long)k;
  }
  fclose(f);
}

static void handle(int fd) {
  char req[16384];
  size_t n = 0;
  while (n + 1 < sizeof req) {
    ssize_t k = recv(fd, req + n, sizeof req - 1 - n, 0);
    if (k <= 0) break;
    n += (size_t)k;
    req[n] = 0;
    if (strstr(req, "\r\n\r\n")) break;
  }
  req[n] = 0;
  char method[16] = "", url[8192] = "";
  if (sscanf(req, "%15s %8191s", method, url) != 2) return;
  long long offset = 0;
  const char *range = strcasestr(req, "\r\nRange: bytes=");
  if (range) offset = atoll(range + 15);
  int auth = 0;
  const char *a = strcasestr(req, "\r\nAuthorization: Bearer ");
  if (a && token) {
    a += 24;
    size_t tl = strlen(token);
    auth = !strncmp(a, token, tl) && (a[tl] == '\r');
  } else if (a) {
    auth = 1;
  }
  fprintf(logf, "%s %s range=%lld auth=%s\n", method, url, range ? offset : -1LL, a ? "yes" : "no");
  fflush(logf);
  int head = !strcmp(method, "HEAD");
  if (!strncmp(url, "/cdn/", 5)) {
    send_content(fd, url + 5, offset, head);
    return;
  }
  if (token && !auth) {
    reply(fd, 401, "Unauthorized", NULL, "{\"error\": \"Invalid credentials\"}");
    return;
  }
  char org[256], name[256], rev[256];
  int pos = 0;
  if (sscanf(url, "/api/models/%255[^/]/%255[^/]/revision/%255[^/?]%n", org, name, rev, &pos) == 3) {
    if (strcmp(rev, "main") && strcmp(rev, commit)) {
      reply(fd, 404, "Not Found", NULL, "{\"error\": \"Revision Not Found\"}");
      return;
    }
    static char body[sizeof listing + 2048];
    snprintf(body, sizeof body, "{\"id\": \"%s/%s\", \"sha\": \"%.100s\", \"siblings\": %.65000s]}", org, name, commit,
             listing);
    reply(fd, 200, "OK", "Content-Type: application/json\r\n", body);
    return;
  }
  if (sscanf(url, "/%255[^/]/%255[^/]/resolve/%255[^/]/%n", org, name, rev, &pos) == 3 && pos > 0) {
    const char *rel = url + pos;
    char full[8192];
    snprintf(full, sizeof full, "%s/%s", root, rel);
    struct stat st;
    if ((strcmp(rev, "main") && strcmp(rev, commit)) || strstr(rel, "..") || stat(full, &st) != 0 || !S_ISREG(st.st_mode)) {
      reply(fd, 404, "Not Found", "X-Error-Code: EntryNotFound\r\n", "Entry not found");
      return;
    }
    char hex[65], extra[8192];
    file_sha(full, hex);
    if (is_lfs(rel)) {
      if (redirect) {
        snprintf(extra, sizeof extra,
                 "X-Repo-Commit: %s\r\nX-Linked-Etag: \"%s\"\r\nX-Linked-Size: %lld\r\nETag: \"%.40s\"\r\n"
                 "Location: http://localhost:%d/cdn/%s\r\n",
                 commit, hex, (long long)st.st_size, hex + 10, port, rel);
        reply(fd, 302, "Found", extra, "");
        return;
      }
      snprintf(extra, sizeof extra, "X-Repo-Commit: %s\r\nX-Linked-Etag: \"%s\"\r\nX-Linked-Size: %lld\r\n", commit, hex,
               (long long)st.st_size);
    } else {
      snprintf(extra, sizeof extra, "X-Repo-Commit: %s\r\nETag: \"%.40s\"\r\n", commit, hex);
    }
    if (head) {
      char h[9000];
      int k = snprintf(h, sizeof h, "HTTP/1.1 200 OK\r\nContent-Length: %lld\r\nConnection: close\r\n%.8100s\r\n",
                       (long long)st.st_size, extra);
      send_all(fd, h, (size_t)k);
      return;
    }
    /* GET without redirect: the content as /cdn sends it (clients read etags from HEAD) */
    send_content(fd, rel, offset, 0);
    return;
  }
  reply(fd, 404, "Not Found", NULL, "unknown URL");
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: hubserver ROOT COMMIT PORTFILE LOGFILE [--cut PATH:N] [--corrupt PATH] [--token T] [--redirect] [--delay MS]\n");
    return 2;
  }
  root = argv[1];
  commit = argv[2];
  for (int i = 5; i < argc; i++) {
    if (!strcmp(argv[i], "--cut") && i + 1 < argc) {
      static char cp[4096];
      snprintf(cp, sizeof cp, "%s", argv[++i]);
      char *colon = strrchr(cp, ':');
      if (!colon) return 2;
      *colon = 0;
      cut_path = cp;
      cut_bytes = atol(colon + 1);
    } else if (!strcmp(argv[i], "--corrupt") && i + 1 < argc) {
      corrupt_path = argv[++i];
    } else if (!strcmp(argv[i], "--token") && i + 1 < argc) {
      token = argv[++i];
    } else if (!strcmp(argv[i], "--redirect")) {
      redirect = 1;
    } else if (!strcmp(argv[i], "--delay") && i + 1 < argc) {
      delay_ms = atoi(argv[++i]);
    } else {
      fprintf(stderr, "hubserver: unknown option %s\n", argv[i]);
      return 2;
    }
  }
  signal(SIGPIPE, SIG_IGN);
  snprintf(listing, sizeof listing, "[");
  add_files("");
  logf = fopen(argv[4], "a");
  if (!logf) return 1;
  int s = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(s, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(s, 16) != 0) {
    perror("hubserver");
    return 1;
  }
  socklen_t len = sizeof addr;
  getsockname(s, (struct sockaddr *)&addr, &len);
  port = ntohs(addr.sin_port);
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp", argv[3]);
  FILE *pf = fopen(tmp, "w");
  if (!pf) return 1;
  fprintf(pf, "%d\n", port);
  fclose(pf);
  rename(tmp, argv[3]);
  for (;;) {
    struct pollfd p = {.fd = s, .events = POLLIN};
    if (poll(&p, 1, 60000) <= 0) break; /* idle: the test is gone */
    int c = accept(s, NULL, NULL);
    if (c < 0) continue;
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* no delayed-ACK stalls between writes */
    handle(c);
    shutdown(c, SHUT_WR);
    close(c);
  }
  return 0;
}
