/* The in-memory file set, and its folder side. */
#include "mpb_hf_files.h"
#include "mpb_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int mpb_hf_files_add(mpb_hf_files *set, const char *name, const void *data, size_t len,
                     mpb_error *err)
{
    if (name[0] == '\0' || strchr(name, '/') != NULL || !strcmp(name, ".") ||
        !strcmp(name, ".."))
        return mpb_fail(err, MPB_EINVAL, "'%s' cannot name a model file", name);
    if (mpb_hf_files_find(set, name) != NULL)
        return mpb_fail(err, MPB_EINVAL, "model file '%s' is listed twice", name);
    mpb_hf_file *grown = realloc(set->files, (set->n + 1) * sizeof *grown);
    if (grown == NULL)
        return mpb_fail(err, MPB_ENOMEM, "out of memory for model file '%s'", name);
    set->files = grown;
    mpb_hf_file *f = &set->files[set->n];
    f->name = strdup(name);
    f->data = malloc(len ? len : 1);
    if (f->name == NULL || f->data == NULL) {
        free(f->name);
        free(f->data);
        return mpb_fail(err, MPB_ENOMEM, "out of memory for model file '%s' (%zu bytes)", name,
                        len);
    }
    if (len)
        memcpy(f->data, data, len);
    f->len = len;
    set->n++;
    return MPB_OK;
}

const mpb_hf_file *mpb_hf_files_find(const mpb_hf_files *set, const char *name)
{
    for (size_t i = 0; i < set->n; i++)
        if (!strcmp(set->files[i].name, name))
            return &set->files[i];
    return NULL;
}

void mpb_hf_files_free(mpb_hf_files *set)
{
    for (size_t i = 0; i < set->n; i++) {
        free(set->files[i].name);
        free(set->files[i].data);
    }
    free(set->files);
    set->files = NULL;
    set->n = 0;
}

static int read_whole(const char *path, unsigned char **data, size_t *len, mpb_error *err)
{
    *data = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        int saved = errno;
        if (fd >= 0)
            close(fd);
        return mpb_fail(err, MPB_EIO, "%s: cannot read: %s", path, strerror(saved));
    }
    size_t size = (size_t)st.st_size, done = 0;
    *data = malloc(size ? size : 1);
    int rc = *data ? MPB_OK : mpb_fail(err, MPB_ENOMEM, "%s: out of memory", path);
    while (rc == MPB_OK && done < size) {
        ssize_t r = read(fd, *data + done, size - done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            rc = mpb_fail(err, MPB_EIO, "%s: read failed: %s", path,
                          r < 0 ? strerror(errno) : "file shrank");
        else
            done += (size_t)r;
    }
    close(fd);
    *len = done;
    return rc;
}

int mpb_hf_files_read_dir(const char *dir, const char *const *names, size_t n,
                          mpb_hf_files *out, mpb_error *err)
{
    int rc = MPB_OK;
    for (size_t i = 0; i < n && rc == MPB_OK; i++) {
        char *path = mpb_path_join(dir, names[i]);
        unsigned char *data = NULL;
        size_t len = 0;
        rc = path ? read_whole(path, &data, &len, err)
                  : mpb_fail(err, MPB_ENOMEM, "%s: out of memory", dir);
        if (rc == MPB_OK)
            rc = mpb_hf_files_add(out, names[i], data, len, err);
        free(data);
        free(path);
    }
    return rc;
}

static int write_whole(const char *path, const unsigned char *data, size_t len, mpb_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0)
        return mpb_fail(err, MPB_EIO, "%s: cannot create: %s", path, strerror(errno));
    size_t done = 0;
    int rc = MPB_OK;
    while (rc == MPB_OK && done < len) {
        ssize_t w = write(fd, data + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            rc = mpb_fail(err, MPB_EIO, "%s: write failed: %s", path, strerror(errno));
        else
            done += (size_t)w;
    }
    if (rc == MPB_OK && fsync(fd) != 0)
        rc = mpb_fail(err, MPB_EIO, "%s: cannot flush to disk: %s", path, strerror(errno));
    if (close(fd) != 0 && rc == MPB_OK)
        rc = mpb_fail(err, MPB_EIO, "%s: write failed: %s", path, strerror(errno));
    return rc;
}

int mpb_hf_files_write_dir(const char *dir, const mpb_hf_files *set, mpb_error *err)
{
    int rc = MPB_OK;
    for (size_t i = 0; i < set->n && rc == MPB_OK; i++) {
        char *path = mpb_path_join(dir, set->files[i].name);
        rc = path ? write_whole(path, set->files[i].data, set->files[i].len, err)
                  : mpb_fail(err, MPB_ENOMEM, "%s: out of memory", dir);
        free(path);
    }
    return rc;
}
