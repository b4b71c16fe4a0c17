/* The safetensors backend of the store table: Hugging Face folders (one
 * file or shards with an index) and single *.safetensors files.  Headers
 * are parsed and checked by mpb_safetensors; rows move with pread/pwrite at
 * byte offsets, so a rank reads exactly its bytes and no MPI call is made
 * while rows move (docs/INTEROP.md). */
#include "mpb_safetensors.h"
#include "mpb_store_st_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

mpb_st_store *mpb_st_store_new(const char *path, const mpb_index *idx, size_t n_files,
                               bool writable)
{
    mpb_st_store *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->idx = idx;
    s->writable = writable;
    s->path = strdup(path);
    s->file_paths = calloc(n_files + 1, sizeof *s->file_paths);
    s->fds = malloc((n_files + 1) * sizeof *s->fds);
    s->tensor_file = calloc(idx->n + 1, sizeof *s->tensor_file);
    s->tensor_begin = calloc(idx->n + 1, sizeof *s->tensor_begin);
    if (!s->path || !s->file_paths || !s->fds || !s->tensor_file || !s->tensor_begin) {
        mpb_st_store_close(s, NULL);
        return NULL;
    }
    s->n_files = n_files;
    for (size_t i = 0; i < n_files; i++)
        s->fds[i] = -1;
    return s;
}

int mpb_st_store_open_file(mpb_st_store *s, size_t i, mpb_error *err)
{
    s->fds[i] = open(s->file_paths[i], (s->writable ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
    if (s->fds[i] < 0)
        return mpb_fail(err, MPB_EIO, "%s: cannot open for %s: %s", s->file_paths[i],
                        s->writable ? "writing" : "reading", strerror(errno));
    return MPB_OK;
}

void mpb_st_sync_folder(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

int mpb_st_store_close(mpb_st_store *s, mpb_error *err)
{
    if (s == NULL)
        return MPB_OK;
    mpb_error ignored = {0};
    if (err == NULL)
        err = &ignored;
    int rc = MPB_OK;
    for (size_t i = 0; s->fds && i < s->n_files; i++) {
        if (s->fds[i] < 0)
            continue;
        /* Each rank flushes what it wrote: ranks may sit on different nodes. */
        if (s->writable && fsync(s->fds[i]) != 0 && rc == MPB_OK)
            rc = mpb_fail(err, MPB_EIO, "%s: cannot flush to disk: %s", s->file_paths[i],
                          strerror(errno));
        if (close(s->fds[i]) != 0 && rc == MPB_OK)
            rc = mpb_fail(err, MPB_EIO, "%s: close failed: %s", s->file_paths[i],
                          strerror(errno));
    }
    if (s->sync_dir)
        mpb_st_sync_folder(s->path);
    for (size_t i = 0; s->file_paths && i < s->n_files; i++)
        free(s->file_paths[i]);
    free(s->file_paths);
    free(s->fds);
    free(s->tensor_file);
    free(s->tensor_begin);
    free(s->path);
    free(s);
    return rc;
}

/* Rows [row0, row0 + nrows) of a tensor are one byte range of its file. */
static int transfer_rows(mpb_st_store *s, size_t tensor, uint64_t row0, uint64_t nrows,
                         unsigned char *buf, bool write, mpb_error *err)
{
    if (nrows == 0)
        return MPB_OK;
    if (tensor >= s->idx->n)
        return mpb_fail(err, MPB_EINTERNAL, "%s: no tensor %zu", s->path, tensor);
    const mpb_tensor *t = &s->idx->tensors[tensor];
    if (row0 + nrows > mpb_tensor_rows(t))
        return mpb_fail(err, MPB_EINTERNAL, "%s: rows %llu..%llu are outside tensor '%s'",
                        s->path, (unsigned long long)row0, (unsigned long long)(row0 + nrows),
                        t->name);
    uint64_t row_bytes = mpb_tensor_row_bytes(t);
    uint64_t at = s->tensor_begin[tensor] + row0 * row_bytes, len = nrows * row_bytes;
    size_t file = s->tensor_file[tensor];
    int fd = s->fds[file];
    for (uint64_t done = 0; done < len;) {
        size_t piece = len - done > (1u << 30) ? (1u << 30) : (size_t)(len - done);
        ssize_t r = write ? pwrite(fd, buf + done, piece, (off_t)(at + done))
                          : pread(fd, buf + done, piece, (off_t)(at + done));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return mpb_fail(err, MPB_EIO, "%s: cannot %s rows %llu..%llu of tensor '%s': %s",
                            s->file_paths[file], write ? "write" : "read",
                            (unsigned long long)row0, (unsigned long long)(row0 + nrows),
                            t->name, r < 0 ? strerror(errno) : "the file is shorter");
        done += (uint64_t)r;
    }
    return MPB_OK;
}

static int st_read_rows(void *h, size_t tensor, uint64_t row0, uint64_t nrows, void *buf,
                        mpb_error *err)
{
    return transfer_rows(h, tensor, row0, nrows, buf, false, err);
}

static int st_write_rows(void *h, size_t tensor, uint64_t row0, uint64_t nrows, const void *buf,
                         mpb_error *err)
{
    mpb_st_store *s = h;
    if (!s->writable)
        return mpb_fail(err, MPB_EINTERNAL, "%s is not open for writing", s->path);
    return transfer_rows(s, tensor, row0, nrows, (unsigned char *)buf, true, err);
}

static int st_read_index(const char *path, mpb_index *idx, mpb_error *err)
{
    mpb_st_model m;
    int rc = mpb_st_model_open(path, &m, err);
    for (size_t i = 0; rc == MPB_OK && i < m.n_tensors; i++) {
        const mpb_st_tensor *t = mpb_st_model_tensor(&m, &m.tensors[i]);
        rc = mpb_index_add(idx, t->name, t->dtype, t->ndim, t->shape, err);
    }
    if (rc == MPB_OK && idx->n == 0)
        rc = mpb_fail(err, MPB_EINVAL, "%s holds no tensors", path);
    if (rc == MPB_OK)
        mpb_index_sort(idx);
    mpb_st_model_free(&m);
    return rc;
}

static bool same_layout(const mpb_tensor *a, const mpb_st_tensor *b)
{
    if (a->dtype != b->dtype || a->ndim != b->ndim)
        return false;
    for (int d = 0; d < a->ndim; d++)
        if (a->shape[d] != b->shape[d])
            return false;
    return true;
}

/* Where each index tensor's bytes are in the model's files. */
static int locate_tensors(mpb_st_store *s, const mpb_st_model *m, mpb_error *err)
{
    for (size_t i = 0; i < s->idx->n; i++) {
        const mpb_tensor *want = &s->idx->tensors[i];
        const mpb_st_ref *r = mpb_st_model_find(m, want->name);
        if (r == NULL)
            return mpb_fail(err, MPB_EINVAL, "%s: no tensor '%s'", s->path, want->name);
        const mpb_st_tensor *t = mpb_st_model_tensor(m, r);
        if (!same_layout(want, t))
            return mpb_fail(err, MPB_EINVAL,
                            "%s: tensor '%s' changed dtype or shape since it was indexed",
                            m->files[r->file].path, want->name);
        s->tensor_file[i] = r->file;
        s->tensor_begin[i] = t->begin;
    }
    return MPB_OK;
}

/* Every rank parses the headers itself: no MPI call, and a header read is
 * small next to the data (docs/INTEROP.md has the measurements). */
static int st_open(const char *path, MPI_Comm comm, const mpb_index *idx,
                   const mpb_io_opts *opts, void **handle, mpb_error *err)
{
    (void)comm;
    (void)opts;
    *handle = NULL;
    mpb_st_model m;
    int rc = mpb_st_model_open(path, &m, err);
    if (rc != MPB_OK)
        return rc;
    mpb_st_store *s = mpb_st_store_new(path, idx, m.n_files, false);
    if (s == NULL)
        rc = mpb_fail(err, MPB_ENOMEM, "%s: out of memory", path);
    for (size_t i = 0; rc == MPB_OK && i < m.n_files; i++) {
        s->file_paths[i] = strdup(m.files[i].path);
        rc = s->file_paths[i] ? mpb_st_store_open_file(s, i, err)
                              : mpb_fail(err, MPB_ENOMEM, "%s: out of memory", path);
    }
    if (rc == MPB_OK)
        rc = locate_tensors(s, &m, err);
    mpb_st_model_free(&m);
    if (rc != MPB_OK) {
        mpb_st_store_close(s, NULL);
        return rc;
    }
    *handle = s;
    return MPB_OK;
}

/* Provenance has no place in a Hugging Face folder that every reader
 * understands; outputs keep it only in HDF5 (docs/INTEROP.md). */
static int st_set_attr(void *h, const char *key, const char *value, mpb_error *err)
{
    (void)h;
    (void)key;
    (void)value;
    (void)err;
    return MPB_OK;
}

static int st_close(void *h, mpb_error *err)
{
    return mpb_st_store_close(h, err);
}

/* A folder's other files; a single file carries none. */
static int st_read_files(const char *path, mpb_hf_files *files, mpb_error *err)
{
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISDIR(st.st_mode))
        return MPB_OK;
    mpb_st_model m;
    int rc = mpb_st_model_open(path, &m, err);
    if (rc == MPB_OK)
        rc = mpb_hf_files_read_dir(m.dir, (const char *const *)m.extra_files, m.n_extra, files,
                                   err);
    mpb_st_model_free(&m);
    return rc;
}

const mpb_store_ops mpb_store_safetensors = {
    .name = "safetensors",
    .folder = true,
    .read_index = st_read_index,
    .open = st_open,
    .create = mpb_st_store_create,
    .read_rows = st_read_rows,
    .write_rows = st_write_rows,
    .set_attr = st_set_attr,
    .close = st_close,
    .read_files = st_read_files,
    .write_files = mpb_st_store_write_files,
};
