#define _GNU_SOURCE /* fallocate and FALLOC_FL_KEEP_SIZE */
#include "mpb_space.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* What HDF5 needs besides the data: the superblock and root group in the
 * first metadata block (1 MiB, mpb_h5_file.c), and per dataset an object
 * header, a link and its share of the name index; generous on purpose. */
#define META_FIXED (2ull << 20)
#define META_PER_TENSOR 4096ull

uint64_t mpb_space_h5_estimate(const mpb_index *idx, const mpb_io_opts *opts)
{
    uint64_t total = META_FIXED;
    for (size_t t = 0; t < idx->n; t++) {
        uint64_t bytes = mpb_tensor_bytes(&idx->tensors[t]);
        total += bytes + META_PER_TENSOR;
        if (opts->alignment > 1 && bytes >= opts->align_threshold)
            total += opts->alignment - 1;
    }
    return total;
}

static double mib(uint64_t b)
{
    return (double)b / (1024.0 * 1024.0);
}

static int free_space(const char *path, uint64_t *avail, char **dir)
{
    char *copy = strdup(path);
    *dir = copy ? strdup(dirname(copy)) : NULL;
    free(copy);
    struct statvfs vfs;
    if (*dir == NULL || statvfs(*dir, &vfs) != 0)
        return -1;
    *avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
    return 0;
}

static int no_space(const char *final_path, const char *dir, uint64_t bytes, uint64_t avail,
                    mpb_error *err)
{
    return mpb_fail(err, MPB_EIO,
                    "not enough disk space for '%s' in '%s': it needs about %.1f MiB, "
                    "%.1f MiB are free (No space left on device); nothing was written",
                    final_path, dir, mib(bytes), mib(avail));
}

int mpb_space_check(const char *path, const char *final_path, uint64_t bytes, mpb_error *err)
{
    uint64_t avail = 0;
    char *dir = NULL;
    int rc = MPB_OK;
    if (free_space(path, &avail, &dir) == 0 && avail < bytes)
        rc = no_space(final_path, dir, bytes, avail, err);
    free(dir);
    return rc;
}

int mpb_space_reserve(const char *path, const char *final_path, uint64_t bytes, mpb_error *err)
{
    uint64_t avail = 0;
    char *dir = NULL;
    int rc = MPB_OK;
    /* Blocks already in the file count as free for it. */
    struct stat st;
    uint64_t held = stat(path, &st) == 0 ? (uint64_t)st.st_blocks * 512 : 0;
    if (free_space(path, &avail, &dir) == 0 && avail + held < bytes) {
        rc = no_space(final_path, dir, bytes, avail, err);
        free(dir);
        return rc;
    }
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = mpb_fail(err, MPB_EIO, "cannot open '%s' to claim disk space: %s", path,
                      strerror(errno));
    } else if (fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, (off_t)bytes) != 0) {
        int e = errno;
        if (e == ENOSPC || e == EDQUOT) {
            rc = no_space(final_path, dir ? dir : ".", bytes, avail, err);
            /* Some file systems keep what they managed to allocate. */
            if (fstat(fd, &st) == 0 && ftruncate(fd, st.st_size) != 0)
                rc = mpb_fail(err, MPB_EIO, "cannot release disk space of '%s'", path);
        } else if (e != EOPNOTSUPP && e != ENOSYS && e != EINVAL) {
            rc = mpb_fail(err, MPB_EIO, "cannot claim disk space for '%s': %s", path,
                          strerror(e));
        } /* else: no preallocation here (NFS, some parallel file systems) */
    }
    if (fd >= 0)
        close(fd);
    free(dir);
    return rc;
}

void mpb_space_release(const char *path)
{
    int fd = path ? open(path, O_WRONLY | O_CLOEXEC) : -1;
    if (fd < 0)
        return;
    struct stat st;
    /* Truncating to the current size frees blocks claimed past the end. */
    if (fstat(fd, &st) == 0 && ftruncate(fd, st.st_size) != 0) {
        /* nothing to do: the blocks stay claimed until the file is removed */
    }
    close(fd);
}
