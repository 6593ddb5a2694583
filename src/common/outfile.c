#include "common/outfile.h"
#include "common/err.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static void dir_of(const char *path, char *dir, size_t n) {
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s", path);
  snprintf(dir, n, "%s", dirname(tmp));
}

a2i2a_status outfile_check(const char *path, int force) {
  if (!path || !*path) return fail(A2I2A_ERR_PARAM, "no output file given");
  if (strlen(path) >= 4096) return fail(A2I2A_ERR_PARAM, "%.60s...: output path too long", path);
  struct stat st;
  if (stat(path, &st) == 0) {
    if (S_ISDIR(st.st_mode)) return fail(A2I2A_ERR_IO, "%s: is a folder, expected a file name", path);
    if (!force) return fail(A2I2A_ERR_EXISTS, "%s: already exists (use --force to overwrite)", path);
  }
  char dir[4096];
  dir_of(path, dir, sizeof dir);
  if (stat(dir, &st) != 0) return fail(A2I2A_ERR_IO, "%s: output folder %s does not exist", path, dir);
  if (!S_ISDIR(st.st_mode)) return fail(A2I2A_ERR_IO, "%s: %s is not a folder", path, dir);
  if (access(dir, W_OK) != 0) return fail(A2I2A_ERR_IO, "%s: output folder %s is not writable", path, dir);
  return A2I2A_OK;
}

static a2i2a_status make_tmp(outfile *of, const char *path, int force, int keep_open) {
  memset(of, 0, sizeof *of);
  a2i2a_status st = outfile_check(path, force);
  if (st) return st;
  snprintf(of->path, sizeof of->path, "%s", path);
  char dir[4096], base[4096], tmpb[4096];
  dir_of(path, dir, sizeof dir);
  snprintf(tmpb, sizeof tmpb, "%s", path);
  snprintf(base, sizeof base, "%s", basename(tmpb));
  /* keep the extension last: libraries such as libsndfile pick the format from it */
  const char *ext = strrchr(base, '.');
  int stem = ext ? (int)(ext - base) : (int)strlen(base);
  snprintf(of->tmp, sizeof of->tmp, "%s/.%.*s.XXXXXX%s", dir, stem, base, ext ? ext : "");
  int fd = mkstemps(of->tmp, ext ? (int)strlen(ext) : 0);
  if (fd < 0) {
    of->tmp[0] = 0;
    return fail(A2I2A_ERR_IO, "%s: cannot create a temporary file in %s: %s", path, dir, strerror(errno));
  }
  if (keep_open) {
    of->f = fdopen(fd, "wb");
    if (!of->f) {
      close(fd);
      unlink(of->tmp);
      of->tmp[0] = 0;
      return fail(A2I2A_ERR_IO, "%s: %s", path, strerror(errno));
    }
  } else {
    close(fd);
  }
  return A2I2A_OK;
}

a2i2a_status outfile_open(outfile *of, const char *path, int force) { return make_tmp(of, path, force, 1); }
a2i2a_status outfile_reserve(outfile *of, const char *path, int force) { return make_tmp(of, path, force, 0); }

/* The temporary file complete: flushed, closed, with the permissions of any file the user makes
 * (mkstemp makes 0600 files). Ready to be renamed. */
static a2i2a_status finish_tmp(outfile *of) {
  if (of->f) {
    int bad = fflush(of->f) != 0 || ferror(of->f);
    bad |= fclose(of->f) != 0;
    of->f = NULL;
    if (bad) return fail(A2I2A_ERR_IO, "%s: write failed: %s", of->path, strerror(errno));
  }
  mode_t um = umask(0);
  umask(um);
  chmod(of->tmp, 0666 & ~um);
  return A2I2A_OK;
}

a2i2a_status outfile_commit(outfile *of) {
  a2i2a_status st = finish_tmp(of);
  if (st) {
    outfile_abort(of);
    return st;
  }
  if (rename(of->tmp, of->path) != 0) {
    int e = errno;
    outfile_abort(of);
    return fail(A2I2A_ERR_IO, "%s: cannot rename into place: %s", of->path, strerror(e));
  }
  of->tmp[0] = 0;
  return A2I2A_OK;
}

a2i2a_status outfile_commit_all(outfile *ofs, int n) {
  char(*bak)[4136] = calloc((size_t)n, sizeof *bak);
  int *placed = calloc((size_t)n, sizeof *placed);
  a2i2a_status st = A2I2A_OK;
  int i = 0;
  if (!bak || !placed) st = fail(A2I2A_ERR_NOMEM, "out of memory");
  for (; i < n && !st; i++) {
    outfile *of = &ofs[i];
    if ((st = finish_tmp(of))) break;
    struct stat sb;
    if (lstat(of->path, &sb) == 0) { /* the old file goes aside, under a name of our own */
      char dir[4096];
      dir_of(of->path, dir, sizeof dir);
      snprintf(bak[i], sizeof bak[i], "%s/.a2i2a-backup.XXXXXX", dir);
      int fd = mkstemp(bak[i]);
      if (fd < 0 || (close(fd), rename(of->path, bak[i]) != 0)) {
        st = fail(A2I2A_ERR_IO, "%s: cannot move the old file aside: %s", of->path, strerror(errno));
        if (fd >= 0) unlink(bak[i]);
        bak[i][0] = 0;
        break;
      }
    }
    if (rename(of->tmp, of->path) != 0) {
      st = fail(A2I2A_ERR_IO, "%s: cannot rename into place: %s", of->path, strerror(errno));
      break;
    }
    placed[i] = 1;
    of->tmp[0] = 0;
  }
  if (st && bak && placed) { /* back to how it was, newest first */
    for (int j = i < n ? i : n - 1; j >= 0; j--) {
      if (placed[j] && !bak[j][0]) unlink(ofs[j].path);
      if (bak[j][0]) rename(bak[j], ofs[j].path); /* replaces the new file, if placed */
      bak[j][0] = 0;
    }
  }
  for (int j = 0; j < n; j++) {
    if (bak && bak[j][0]) unlink(bak[j]);
    outfile_abort(&ofs[j]);
  }
  free(bak);
  free(placed);
  return st;
}

void outfile_abort(outfile *of) {
  if (of->f) {
    fclose(of->f);
    of->f = NULL;
  }
  if (of->tmp[0]) unlink(of->tmp);
  of->tmp[0] = 0;
}

a2i2a_status make_output_dir(const char *path) {
  struct stat st;
  if (stat(path, &st) == 0) {
    if (!S_ISDIR(st.st_mode)) return fail(A2I2A_ERR_IO, "%s: exists and is not a folder", path);
    return A2I2A_OK;
  }
  /* another process may make it meanwhile (two runs into one new folder) */
  int err = mkdir(path, 0777) != 0 ? errno : 0;
  if (err && !(err == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode)))
    return fail(A2I2A_ERR_IO, "%s: cannot create folder: %s", path, strerror(err));
  return A2I2A_OK;
}

void remove_tree_at(int dirfd, const char *name) {
  int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    unlinkat(dirfd, name, 0);
    return;
  }
  DIR *d = fdopendir(fd);
  if (!d) {
    close(fd);
    return;
  }
  struct dirent *e;
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    struct stat sb;
    if (fstatat(fd, e->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(sb.st_mode)) remove_tree_at(fd, e->d_name);
    else unlinkat(fd, e->d_name, 0);
  }
  closedir(d);
  unlinkat(dirfd, name, AT_REMOVEDIR);
}

/* ---------------------------------------------------------------- private folders */

/* The folder at path, opened and locked without waiting: the descriptor, or -1 when it is not
 * a folder of this user or another process holds it. */
static int lock_dir(const char *path) {
  struct stat sb;
  if (lstat(path, &sb) != 0 || !S_ISDIR(sb.st_mode) || sb.st_uid != getuid()) return -1;
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return -1;
  struct stat fs;
  if (flock(fd, LOCK_EX | LOCK_NB) != 0 || fstat(fd, &fs) != 0 || fs.st_ino != sb.st_ino || fs.st_dev != sb.st_dev) {
    close(fd);
    return -1;
  }
  return fd;
}

a2i2a_status output_dir_lock(const char *path, int *lock) {
  *lock = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (*lock < 0) return fail(A2I2A_ERR_IO, "%s: cannot open the output folder: %s", path, strerror(errno));
  if (flock(*lock, LOCK_EX | LOCK_NB) == 0) return A2I2A_OK;
  int busy = errno == EWOULDBLOCK;
  a2i2a_status st = busy ? fail(A2I2A_ERR_IO, "%s: another run is writing into this folder; wait for it to end", path)
                         : fail(A2I2A_ERR_IO, "%s: cannot lock the output folder: %s", path, strerror(errno));
  close(*lock);
  *lock = -1;
  return st;
}

void output_dir_unlock(int lock) {
  if (lock >= 0) close(lock);
}

a2i2a_status run_folder_create(run_folder *t, const char *parent) {
  t->lock = -1;
  for (int tries = 0; tries < 100; tries++) {
    if (snprintf(t->path, sizeof t->path, "%s/" RUN_FOLDER_PREFIX "XXXXXX", parent) >= (int)sizeof t->path)
      return fail(A2I2A_ERR_PARAM, "%.60s...: output folder path too long", parent);
    if (!mkdtemp(t->path)) return fail(A2I2A_ERR_IO, "%s: cannot create a temporary folder: %s", parent, strerror(errno));
    /* a sweep in another process may have taken it between mkdtemp and the lock: then it is
     * being removed, and another name will do */
    struct stat sb;
    if ((t->lock = lock_dir(t->path)) >= 0 && stat(t->path, &sb) == 0) return A2I2A_OK;
    if (t->lock >= 0) close(t->lock);
    t->lock = -1;
  }
  return fail(A2I2A_ERR_IO, "%s: cannot create a temporary folder of its own", parent);
}

void run_folder_remove(run_folder *t) {
  if (t->lock < 0 || !t->path[0]) return;
  remove_tree_at(AT_FDCWD, t->path);
  close(t->lock); /* the lock goes last: a sweep never sees a half-removed folder as stale */
  t->lock = -1;
}

/* RUN_FOLDER_PREFIX and exactly mkdtemp's six letters or digits. */
static int is_run_folder_name(const char *name) {
  size_t n = strlen(RUN_FOLDER_PREFIX);
  if (strncmp(name, RUN_FOLDER_PREFIX, n) || strlen(name) != n + 6) return 0;
  for (const char *c = name + n; *c; c++)
    if (!isalnum((unsigned char)*c)) return 0;
  return 1;
}

int run_folder_sweep(const char *parent) {
  DIR *d = opendir(parent);
  if (!d) return 0;
  int removed = 0;
  struct dirent *e;
  char path[4400];
  while ((e = readdir(d))) {
    if (!is_run_folder_name(e->d_name)) continue;
    snprintf(path, sizeof path, "%s/%s", parent, e->d_name);
    int fd = lock_dir(path); /* held by a live run: left alone */
    if (fd < 0) continue;
    remove_tree_at(AT_FDCWD, path);
    close(fd);
    removed++;
  }
  closedir(d);
  return removed;
}
