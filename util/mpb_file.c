#include "mpb_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
