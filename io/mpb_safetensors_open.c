/* Reads a safetensors header from disk and hands it to the validator. */
#include "mpb_safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int read_at(int fd, const char *path, unsigned char *buf, size_t len, mpb_error *err)
{
    size_t done = 0;
    while (done < len) {
        ssize_t r = pread(fd, buf + done, len - done, (off_t)done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return mpb_fail(err, MPB_EIO, "%s: read failed: %s", path, strerror(errno));
        if (r == 0)
            return mpb_fail(err, MPB_EIO, "%s: file shrank while its header was read", path);
        done += (size_t)r;
    }
    return MPB_OK;
}

static int parse_from_fd(int fd, const char *path, uint64_t size, mpb_st_file *out,
                         mpb_error *err)
{
    unsigned char len8[8];
    size_t got = size < 8 ? (size_t)size : 8;
    int rc = read_at(fd, path, len8, got, err);
    if (rc != MPB_OK)
        return rc;
    uint64_t n = 0;
    for (int i = (int)got - 1; i >= 0; i--)
        n = n << 8 | len8[i];
    /* A length the validator will refuse is not worth reading. */
    if (got < 8 || n > MPB_ST_MAX_HEADER || n > size - 8)
        return mpb_st_parse_header(path, len8, got, size, out, err);
    unsigned char *buf = malloc((size_t)n + 8);
    if (buf == NULL)
        return mpb_fail(err, MPB_ENOMEM, "%s: out of memory for a %llu-byte header", path,
                        (unsigned long long)n);
    rc = read_at(fd, path, buf, (size_t)n + 8, err);
    if (rc == MPB_OK)
        rc = mpb_st_parse_header(path, buf, (size_t)n + 8, size, out, err);
    free(buf);
    return rc;
}

int mpb_st_open(const char *path, mpb_st_file *out, mpb_error *err)
{
    memset(out, 0, sizeof *out);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return mpb_fail(err, MPB_EIO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    int rc;
    if (fstat(fd, &st) != 0)
        rc = mpb_fail(err, MPB_EIO, "%s: cannot stat: %s", path, strerror(errno));
    else if (!S_ISREG(st.st_mode))
        rc = mpb_fail(err, MPB_EINVAL, "%s: not a regular file", path);
    else
        rc = parse_from_fd(fd, path, (uint64_t)st.st_size, out, err);
    close(fd);
    return rc;
}
