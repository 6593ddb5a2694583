/* Outputs written beside their final names and renamed in: one file (outfile_open/commit) and a
 * group (outfile_commit_all), including a group that fails half-way, which must leave every file
 * as it was: replaced ones restored, new ones gone, no temporary or backup file left; and a
 * temporary folder removed (remove_tree_at) without following links out of it. */
#include "check.h"
#include "common/outfile.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/a2i2a_test_outfile_XXXXXX";

static void put(const char *name, const char *text) {
  char p[4200];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  FILE *f = fopen(p, "w");
  fputs(text, f);
  fclose(f);
}

/* The file's text ("" if absent, "<dir>" for a folder). */
static const char *get(const char *name) {
  static char buf[8][64];
  static int k;
  char *b = buf[k++ & 7], p[4200];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  struct stat sb;
  b[0] = 0;
  if (stat(p, &sb) != 0) return b;
  if (S_ISDIR(sb.st_mode)) return "<dir>";
  FILE *f = fopen(p, "r");
  size_t n = fread(b, 1, 63, f);
  b[n] = 0;
  fclose(f);
  return b;
}

static int hidden_files(void) {
  DIR *d = opendir(dir);
  struct dirent *e;
  int n = 0;
  while ((e = readdir(d)))
    if (e->d_name[0] == '.' && strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
  closedir(d);
  return n;
}

static a2i2a_status open_with(outfile *of, const char *name, const char *text) {
  char p[4200];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  a2i2a_status st = outfile_open(of, p, 1);
  if (!st) fputs(text, of->f);
  return st;
}

int main(void) {
  CHECK(mkdtemp(dir) != NULL, "mkdtemp");

  /* one file: nothing at the final name until the commit */
  outfile one;
  CHECK(open_with(&one, "a.txt", "new a") == A2I2A_OK, "open a.txt");
  CHECK(!strcmp(get("a.txt"), ""), "a.txt exists before its commit");
  CHECK(outfile_commit(&one) == A2I2A_OK && !strcmp(get("a.txt"), "new a"), "a.txt committed");

  /* a group: an existing file replaced, a new one made, backups removed */
  put("b.txt", "old b");
  outfile g[2];
  CHECK(open_with(&g[0], "b.txt", "new b") == A2I2A_OK && open_with(&g[1], "c.txt", "new c") == A2I2A_OK,
        "open b.txt, c.txt");
  CHECK(outfile_commit_all(g, 2) == A2I2A_OK, "commit b, c: %s", a2i2a_last_error());
  CHECK(!strcmp(get("b.txt"), "new b") && !strcmp(get("c.txt"), "new c"), "b, c hold the new texts");
  CHECK(hidden_files() == 0, "temporary or backup files left after a commit");

  /* a group failing at its third file (a folder where a file should go, created after the
   * temporary files were made): the first two are put back as they were */
  put("d.txt", "old d");
  outfile h[3];
  CHECK(open_with(&h[0], "d.txt", "new d") == A2I2A_OK && open_with(&h[1], "e.txt", "new e") == A2I2A_OK &&
            open_with(&h[2], "f.txt", "new f") == A2I2A_OK,
        "open d, e, f");
  char sub[4200];
  snprintf(sub, sizeof sub, "%s/f.txt", dir);
  mkdir(sub, 0755);
  snprintf(sub, sizeof sub, "%s/f.txt/keep", dir); /* a non-empty folder: no rename replaces it */
  FILE *k = fopen(sub, "w");
  fclose(k);
  a2i2a_status st = outfile_commit_all(h, 3);
  CHECK(st == A2I2A_ERR_IO && strstr(a2i2a_last_error(), "f.txt"), "the failure names f.txt (%d: %s)", st,
        a2i2a_last_error());
  CHECK(!strcmp(get("d.txt"), "old d"), "d.txt not restored: '%s'", get("d.txt"));
  CHECK(!strcmp(get("e.txt"), ""), "e.txt (new) left behind: '%s'", get("e.txt"));
  CHECK(!strcmp(get("f.txt"), "<dir>"), "f.txt folder changed");
  CHECK(hidden_files() == 0, "temporary or backup files left after a failed commit");

  unlink(sub);
  snprintf(sub, sizeof sub, "%s/f.txt", dir);
  rmdir(sub);

  /* a temporary folder removed with what is in it, two levels deep, without following a link
   * out of it (what the link points to stays); a missing one is no error */
  char tree[4200], p[4300];
  snprintf(tree, sizeof tree, "%s/tmp", dir);
  mkdir(tree, 0755);
  snprintf(p, sizeof p, "%s/sub", tree), mkdir(p, 0755);
  snprintf(p, sizeof p, "%s/sub/deeper", tree), mkdir(p, 0755);
  put("tmp/x.txt", "x"), put("tmp/sub/y.txt", "y"), put("tmp/sub/deeper/z.txt", "z");
  snprintf(p, sizeof p, "%s/link-to-dir", tree), symlink(dir, p);
  snprintf(p, sizeof p, "%s/sub/link-to-file", tree), symlink("../../a.txt", p);
  remove_tree_at(AT_FDCWD, tree);
  CHECK(!strcmp(get("tmp"), ""), "the folder is gone");
  CHECK(!strcmp(get("a.txt"), "new a") && !strcmp(get("b.txt"), "new b"), "what its links point to is kept");
  remove_tree_at(AT_FDCWD, tree);
  int fd = open(dir, O_RDONLY | O_DIRECTORY);
  mkdir(tree, 0755);
  put("tmp/x.txt", "x");
  remove_tree_at(fd, "tmp");
  CHECK(!strcmp(get("tmp"), ""), "the folder is gone, named below a folder's fd");
  close(fd);

  const char *names[] = {"a.txt", "b.txt", "c.txt", "d.txt"};
  for (int i = 0; i < 4; i++) {
    snprintf(sub, sizeof sub, "%s/%s", dir, names[i]);
    unlink(sub);
  }
  CHECK(rmdir(dir) == 0, "the test folder holds something unexpected");
  return check_done();
}
