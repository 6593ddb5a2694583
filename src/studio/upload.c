/* Uploaded sounds: the request's body (raw bytes; the page sends the file as it is) goes into a
 * temporary file under --dir/.studio/tmp, is checked (size, then decoded as the chain decodes
 * it, then duration) and kept as --dir/.studio/uploads/HASH.EXT: HASH is the start of its
 * SHA-256 and EXT comes from the format found in its bytes. The client's file name is only
 * ever shown, never part of a path. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audio/audio.h"
#include "common/sha256.h"
#include "studio/studio.h"

struct studio_upload {
  studio *s;
  int fd;
  char tmp[STUDIO_PATH];
  char client_ext[8];  /* the client's name's ending, when it is a known one */
  char display[128];
  uint64_t bytes;
  sha256_ctx sha;
};

static void too_large(const studio *s, studio_reply *r) {
  char msg[256];
  snprintf(msg, sizeof msg, "This file is larger than the %.0f MB this studio accepts (a2i2a serve --max-upload-mb).",
           s->cfg.max_upload_mb);
  studio_reply_error(r, 413, "too_large", msg, NULL);
}

void studio_printable(const char *in, char *out, size_t n) {
  size_t k = 0;
  for (const char *c = in ? in : ""; *c && k + 1 < n; c++)
    if ((unsigned char)*c >= 32 && *c != 127 && *c != '"' && *c != '\\') out[k++] = *c;
  out[k] = 0;
}

/* The page sends the name percent-encoded: decoded, for showing only. */
static void display_name(const char *in, char *out, size_t n) {
  char decoded[512];
  size_t k = 0;
  for (const char *c = in ? in : ""; *c && k + 1 < sizeof decoded; c++) {
    char ch = *c;
    if (ch == '%' && c[1] && c[2]) {
      char hex[3] = {c[1], c[2], 0}, *end;
      long v = strtol(hex, &end, 16);
      if (!*end && v > 0) ch = (char)v, c += 2;
    }
    decoded[k++] = ch;
  }
  decoded[k] = 0;
  studio_printable(decoded, out, n);
  if (!*out) snprintf(out, n, "sound");
}

static const char *const known_exts[] = {"wav", "flac", "ogg", "oga", "opus", "mp3", "aif", "aiff", "au", "caf", "w64"};

studio_upload *studio_upload_begin(studio *s, const char *content_length, const char *filename, studio_reply *r) {
  if (content_length) {
    char *end;
    double len = strtod(content_length, &end);
    if (*end || len < 0) {
      studio_reply_error(r, 400, "bad_request", "The upload's length is not a number.", NULL);
      return NULL;
    }
    if (len > s->max_upload_bytes) {
      too_large(s, r);
      return NULL;
    }
  }
  studio_upload *u = calloc(1, sizeof *u);
  if (!u) {
    studio_reply_error(r, 500, "no_memory", "The server is out of memory.", NULL);
    return NULL;
  }
  u->s = s;
  display_name(filename, u->display, sizeof u->display);
  const char *dot = strrchr(u->display, '.');
  for (size_t i = 0; dot && i < sizeof known_exts / sizeof *known_exts; i++)
    if (!strcasecmp(dot + 1, known_exts[i])) snprintf(u->client_ext, sizeof u->client_ext, "%s", known_exts[i]);
  snprintf(u->tmp, sizeof u->tmp, "%s/.studio/tmp/upload-XXXXXX", s->dir);
  u->fd = mkstemp(u->tmp);
  if (u->fd < 0) {
    char detail[STUDIO_PATH + 64];
    snprintf(detail, sizeof detail, "%s: %s", u->tmp, strerror(errno));
    studio_reply_error(r, 500, "io", "The server cannot store the upload.", detail);
    free(u);
    return NULL;
  }
  sha256_init(&u->sha);
  return u;
}

int studio_upload_data(studio_upload *u, const char *data, size_t n, studio_reply *r) {
  u->bytes += n;
  if ((double)u->bytes > u->s->max_upload_bytes) {
    too_large(u->s, r);
    return -1;
  }
  sha256_update(&u->sha, data, n);
  for (size_t done = 0; done < n;) {
    ssize_t w = write(u->fd, data + done, n - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      studio_reply_error(r, 500, "io", "The server cannot store the upload (is the disk full?).", strerror(errno));
      return -1;
    }
    done += (size_t)w;
  }
  return 0;
}

void studio_upload_abort(studio_upload *u) {
  if (!u) return;
  if (u->fd >= 0) close(u->fd);
  if (u->tmp[0]) unlink(u->tmp);
  free(u);
}

/* The format libsndfile finds in the bytes, as a file name ending. */
static const char *ext_of_format(int format) {
  switch (format & SF_FORMAT_TYPEMASK) {
  case SF_FORMAT_WAV:
  case SF_FORMAT_WAVEX:
  case SF_FORMAT_RF64: return "wav";
  case SF_FORMAT_FLAC: return "flac";
  case SF_FORMAT_OGG: return "ogg";
  case SF_FORMAT_AIFF: return "aiff";
  case SF_FORMAT_AU: return "au";
  case SF_FORMAT_CAF: return "caf";
  case SF_FORMAT_W64: return "w64";
#ifdef SF_FORMAT_MPEG
  case SF_FORMAT_MPEG: return "mp3";
#endif
  default: return NULL;
  }
}

/* The library's error names the temporary file: name the person's file instead. */
static void error_about(const studio_upload *u, char *out, size_t n) {
  const char *e = a2i2a_last_error();
  size_t t = strlen(u->tmp);
  if (!strncmp(e, u->tmp, t)) snprintf(out, n, "%s%s", u->display, e + t);
  else snprintf(out, n, "%s", e);
}

void studio_upload_end(studio_upload *u, studio_reply *r) {
  studio *s = u->s;
  close(u->fd);
  u->fd = -1;
  if (u->bytes == 0) {
    studio_reply_error(r, 400, "empty", "The file is empty.", NULL);
    return;
  }
  /* the header's duration first: a long sound is refused before it is decoded */
  const char *ext = NULL;
  SF_INFO info;
  memset(&info, 0, sizeof info);
  SNDFILE *sf = sf_open(u->tmp, SFM_READ, &info);
  if (sf) {
    ext = ext_of_format(info.format);
    sf_close(sf);
  }
  char msg[512], detail[1024];
  snprintf(msg, sizeof msg,
           "This sound is longer than the %.0f seconds this studio accepts (a2i2a serve --max-seconds); cut it "
           "shorter and try again.",
           s->cfg.max_upload_seconds);
  if (sf && info.samplerate > 0 && (double)info.frames / info.samplerate > s->cfg.max_upload_seconds)
    return studio_reply_error(r, 413, "too_long", msg, NULL);
  if (!ext) ext = *u->client_ext ? u->client_ext : "audio";
  /* decoded as the chain decodes it: what fails here would fail in a run */
  audio_buf a;
  if (audio_read(u->tmp, &a) != A2I2A_OK) {
    error_about(u, detail, sizeof detail);
    return studio_reply_error(
        r, 415, "not_audio",
        "This file is not a sound a2i2a can read. Try WAV, FLAC, Ogg Vorbis/Opus, MP3 or AIFF.", detail);
  }
  double seconds = (double)a.frames / a.rate, rate = a.rate;
  int channels = a.channels;
  audio_free(&a);
  if (seconds > s->cfg.max_upload_seconds) return studio_reply_error(r, 413, "too_long", msg, NULL);

  uint8_t digest[32];
  char hex[65], id[32], path[STUDIO_PATH];
  sha256_final(&u->sha, digest);
  sha256_hex(digest, hex);
  snprintf(id, sizeof id, "%.16s.%s", hex, ext);
  snprintf(path, sizeof path, "%s/.studio/uploads/%s", s->dir, id);
  /* the same sound uploaded again is the same file */
  struct stat sb;
  if (stat(path, &sb) == 0 ? unlink(u->tmp) : rename(u->tmp, path)) {
    snprintf(detail, sizeof detail, "%.900s: %s", path, strerror(errno));
    return studio_reply_error(r, 500, "io", "The server cannot store the upload.", detail);
  }
  u->tmp[0] = 0; /* gone: studio_upload_abort must not remove a later upload's namesake */
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "id", id);
  cJSON_AddStringToObject(o, "name", u->display);
  cJSON_AddNumberToObject(o, "seconds", seconds);
  cJSON_AddNumberToObject(o, "rate", rate);
  cJSON_AddNumberToObject(o, "channels", channels);
  cJSON_AddNumberToObject(o, "bytes", (double)u->bytes);
  studio_reply_json(r, 201, o);
}

static int upload_id_valid(const char *id) {
  int k = 0;
  for (; k < 16; k++)
    if (!((id[k] >= '0' && id[k] <= '9') || (id[k] >= 'a' && id[k] <= 'f'))) return 0;
  if (id[k++] != '.') return 0;
  for (size_t i = 0; i < sizeof known_exts / sizeof *known_exts; i++)
    if (!strcmp(id + k, known_exts[i])) return 1;
  return !strcmp(id + k, "audio");
}

int studio_upload_path(const studio *s, const char *id, char *path, size_t n) {
  if (!upload_id_valid(id)) return -1;
  char rel[64];
  snprintf(rel, sizeof rel, ".studio/uploads/%s", id);
  struct stat sb;
  if (fstatat(s->dirfd, rel, &sb, AT_SYMLINK_NOFOLLOW) || !S_ISREG(sb.st_mode)) return -1;
  snprintf(path, n, "%s/%s", s->dir, rel);
  return 0;
}

void studio_upload_file(studio *s, const char *id, studio_reply *r) {
  char rel[64];
  struct stat sb;
  int fd = -1;
  if (upload_id_valid(id)) {
    snprintf(rel, sizeof rel, ".studio/uploads/%s", id);
    fd = openat(s->dirfd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  }
  if (fd >= 0 && (fstat(fd, &sb) || !S_ISREG(sb.st_mode))) close(fd), fd = -1;
  if (fd < 0) return studio_reply_error(r, 404, "not_found", "There is no such upload.", NULL);
  r->status = 200;
  r->fd = fd;
  r->fd_size = sb.st_size;
  r->type = studio_content_type(id);
}
