/* A run as one zip file (libzip): its regular files under one folder named after the run.
 * PNG and sounds are stored as they are (PNG and FLAC are compressed already, and a store keeps
 * a long run's zip as fast as a copy); the rest is deflated. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include "common/err.h"
#include "studio/studio.h"

a2i2a_status studio_zip_folder(int runfd, const char *prefix, const char *zip_path) {
  int err = 0;
  zip_t *za = zip_open(zip_path, ZIP_CREATE | ZIP_TRUNCATE, &err);
  if (!za) {
    zip_error_t ze;
    zip_error_init_with_code(&ze, err);
    a2i2a_status st = fail(A2I2A_ERR_IO, "%s: cannot create: %s", zip_path, zip_error_strerror(&ze));
    zip_error_fini(&ze);
    return st;
  }
  int dfd = openat(runfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
  if (!d) {
    if (dfd >= 0) close(dfd);
    zip_discard(za);
    return fail(A2I2A_ERR_IO, "%s: cannot list the run: %s", prefix, strerror(errno));
  }
  a2i2a_status st = A2I2A_OK;
  struct dirent *e;
  while (!st && (e = readdir(d))) {
    if (e->d_name[0] == '.') continue; /* temporary files of a run being written, and . and .. */
    int fd = openat(runfd, e->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) || !S_ISREG(sb.st_mode)) {
      if (fd >= 0) close(fd);
      continue;
    }
    FILE *f = fdopen(fd, "rb");
    zip_source_t *src = f ? zip_source_filep(za, f, 0, -1) : NULL;
    if (!src) {
      if (f) fclose(f);
      else close(fd);
      st = fail(A2I2A_ERR_IO, "%s/%s: cannot add to the zip: %s", prefix, e->d_name, zip_strerror(za));
      break;
    }
    char name[600];
    snprintf(name, sizeof name, "%s/%s", prefix, e->d_name);
    zip_int64_t idx = zip_file_add(za, name, src, ZIP_FL_ENC_UTF_8);
    if (idx < 0) {
      zip_source_free(src);
      st = fail(A2I2A_ERR_IO, "%s: cannot add to the zip: %s", name, zip_strerror(za));
    } else if (!strncmp(studio_content_type(name), "image/png", 9) || !strncmp(studio_content_type(name), "audio/", 6)) {
      zip_set_file_compression(za, (zip_uint64_t)idx, ZIP_CM_STORE, 0);
    }
  }
  closedir(d);
  if (st) {
    zip_discard(za);
    return st;
  }
  if (zip_close(za) != 0) {
    st = fail(A2I2A_ERR_IO, "%s: cannot write: %s", zip_path, zip_strerror(za));
    zip_discard(za);
  }
  return st;
}
