/* File and path helpers shared by every module that names or reads files. */
#ifndef MPB_FILE_H
#define MPB_FILE_H

#include "mpb_error.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* "dir/name", malloc'd (caller frees); NULL when out of memory. */
char *mpb_path_join(const char *dir, const char *name);

/* Reads a whole file into a NUL-terminated malloc'd buffer (*len excludes
 * the NUL).  `what` names the file's role in messages: "cannot read config
 * file 'x.yaml': No such file or directory". */
int mpb_file_read_text(const char *path, const char *what, char **text, size_t *len,
                       mpb_error *err);

/* "a character device", "a FIFO", ... for messages about a file's type. */
const char *mpb_file_kind(mode_t mode);

/* Whether a and b name the same file once links are resolved: the same
 * (st_dev, st_ino), so hard links and other spellings match too.  False
 * when either does not exist. */
bool mpb_same_file(const char *a, const char *b);

#endif
