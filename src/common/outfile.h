/* Outputs are written to a temporary file in the destination folder and renamed into place,
 * so a failure never leaves a partial file and an existing file is only replaced on purpose. */
#ifndef A2I2A_OUTFILE_H
#define A2I2A_OUTFILE_H

#include <stdio.h>
#include "a2i2a.h"

typedef struct {
  char path[4096]; /* final name */
  char tmp[4112];  /* temporary name in the same folder */
  FILE *f;         /* open for writing when opened with outfile_open */
} outfile;

/* Fails with A2I2A_ERR_EXISTS if path exists and !force, A2I2A_ERR_IO if its folder is missing
 * or not writable. Does not create anything. */
a2i2a_status outfile_check(const char *path, int force);
/* outfile_check, then creates the temporary file and opens it (of->f). */
a2i2a_status outfile_open(outfile *of, const char *path, int force);
/* outfile_check, then only reserves a temporary name (for libraries that open paths
 * themselves, like libsndfile): write to of->tmp, then commit. */
a2i2a_status outfile_reserve(outfile *of, const char *path, int force);
/* Flushes, closes and renames the temporary file onto the final name. */
a2i2a_status outfile_commit(outfile *of);
/* Commits n outputs as one: each existing file is first moved aside to a backup name in its
 * folder, then the new one renamed in; if any step fails, every file is put back as it was (the
 * new ones removed, the old ones restored) and every temporary file removed. On success the
 * backups are deleted. */
a2i2a_status outfile_commit_all(outfile *ofs, int n);
/* Closes and removes the temporary file; safe to call twice or after a failed open. */
void outfile_abort(outfile *of);

/* A private temporary folder PARENT/.a2i2a-run.XXXXXX where a group of outputs is made before
 * it is moved into place. It is locked (flock) while it exists, so that a later run into the
 * same folder can tell the folders of live runs from those a killed one left behind. */
#define RUN_FOLDER_PREFIX ".a2i2a-run."
typedef struct {
  char path[4400];
  int lock; /* the open, locked folder; -1: none */
} run_folder;
a2i2a_status run_folder_create(run_folder *t, const char *parent);
/* Removes the folder with everything in it, then releases it. Safe after a failed create, and
 * on a zeroed run_folder. */
void run_folder_remove(run_folder *t);
/* Removes every PARENT/.a2i2a-run.XXXXXX folder (that exact pattern, owned by this user) no
 * live process holds: what runs that were killed left. Returns how many. */
int run_folder_sweep(const char *parent);

/* Holds the output folder path (a folder that exists) for one run: an exclusive lock (flock)
 * that a second run into the same folder cannot take, so that it fails at once instead of
 * mixing its files with the first's. Returns the lock (an open descriptor) in *lock;
 * output_dir_unlock releases it (-1: nothing). */
a2i2a_status output_dir_lock(const char *path, int *lock);
void output_dir_unlock(int lock);

/* Creates a folder for several outputs (ok if it exists and is a folder). */
a2i2a_status make_output_dir(const char *path);
/* Removes the folder name below dirfd (AT_FDCWD: name is a path) and everything in it, without
 * following links (a link is removed, not what it points to); a file or link named name is
 * removed too. For temporary folders: what cannot be removed is left, silently. */
void remove_tree_at(int dirfd, const char *name);

#endif
