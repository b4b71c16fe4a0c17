#include "mpb_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

char *mpb_path_join(const char *dir, const char *name)
{
    size_t len = strlen(dir) + strlen(name) + 2;
    char *p = malloc(len);
    if (p != NULL)
        snprintf(p, len, "%s/%s", dir, name);
    return p;
}

int mpb_file_read_text(const char *path, const char *what, char **text, size_t *len,
                       mpb_error *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return mpb_fail(err, MPB_EIO, "cannot read %s '%s': %s", what, path, strerror(errno));
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    int rc = buf ? MPB_OK : mpb_fail(err, MPB_ENOMEM, "out of memory reading '%s'", path);
    while (rc == MPB_OK) {
        if (n + 1 >= cap) {
            char *bigger = realloc(buf, cap *= 2);
            if (bigger == NULL) {
                rc = mpb_fail(err, MPB_ENOMEM, "out of memory reading '%s'", path);
                break;
            }
            buf = bigger;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) {
            if (ferror(f))
                rc = mpb_fail(err, MPB_EIO, "cannot read %s '%s': %s", what, path,
                              strerror(errno));
            break;
        }
    }
    fclose(f);
    if (rc != MPB_OK) {
        free(buf);
        return rc;
    }
    buf[n] = '\0';
    *text = buf;
    if (len != NULL)
        *len = n;
    return MPB_OK;
}

const char *mpb_file_kind(mode_t mode)
{
    if (S_ISREG(mode))
        return "a regular file";
    if (S_ISDIR(mode))
        return "a folder";
    if (S_ISCHR(mode))
        return "a character device";
    if (S_ISBLK(mode))
        return "a block device";
    if (S_ISFIFO(mode))
        return "a FIFO";
    if (S_ISSOCK(mode))
        return "a socket";
    if (S_ISLNK(mode))
        return "a symbolic link";
    return "not a regular file";
}

bool mpb_same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}
