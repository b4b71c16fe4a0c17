/* Writing a Hugging Face folder in parallel: rank 0 lays out the shards
 * (names in index order, a new shard when the next tensor would pass the
 * shard size, as huggingface_hub splits), writes every header and sizes
 * every file; then each rank pwrite()s its rows at the known offsets. */
#include "mpb_comm.h"
#include "mpb_safetensors.h"
#include "mpb_store_st_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SHARD_NAME_MAX 64

struct layout {
    size_t n_shards;
    uint64_t *shard; /* per index tensor */
    uint64_t *begin; /* per index tensor: absolute offset in its shard */
};

static void assign_shards(const mpb_index *idx, uint64_t max_bytes, struct layout *l)
{
    uint64_t used = 0, s = 0;
    for (size_t i = 0; i < idx->n; i++) {
        uint64_t b = mpb_tensor_bytes(&idx->tensors[i]);
        if (i > 0 && used + b > max_bytes) {
            s++;
            used = 0;
        }
        l->shard[i] = s;
        used += b;
    }
    l->n_shards = (size_t)s + 1;
}

static int write_all(int fd, const char *path, const void *data, size_t len, mpb_error *err)
{
    for (size_t done = 0; done < len;) {
        ssize_t w = write(fd, (const char *)data + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return mpb_fail(err, MPB_EIO, "%s: write failed: %s", path, strerror(errno));
        done += (size_t)w;
    }
    return MPB_OK;
}

/* The file: its 8-byte header length, the header, then room for the data. */
static int create_shard_file(const char *path, const char *header, uint64_t header_len,
                             uint64_t size, mpb_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0)
        return mpb_fail(err, MPB_EIO, "%s: cannot create: %s", path, strerror(errno));
    unsigned char len8[8];
    for (int i = 0; i < 8; i++)
        len8[i] = (unsigned char)(header_len >> (8 * i));
    int rc = write_all(fd, path, len8, 8, err);
    if (rc == MPB_OK)
        rc = write_all(fd, path, header, (size_t)header_len, err);
    if (rc == MPB_OK && ftruncate(fd, (off_t)size) != 0)
        rc = mpb_fail(err, MPB_EIO, "%s: cannot size to %llu bytes: %s", path,
                      (unsigned long long)size, strerror(errno));
    if (close(fd) != 0 && rc == MPB_OK)
        rc = mpb_fail(err, MPB_EIO, "%s: write failed: %s", path, strerror(errno));
    return rc;
}

static int write_shard(const char *path, const mpb_index *idx, struct layout *l, size_t s,
                       mpb_error *err)
{
    size_t k = 0;
    mpb_st_tensor *ts = calloc(idx->n + 1, sizeof *ts);
    size_t *pos = calloc(idx->n + 1, sizeof *pos);
    if (ts == NULL || pos == NULL) {
        free(ts);
        free(pos);
        return mpb_fail(err, MPB_ENOMEM, "%s: out of memory", path);
    }
    uint64_t size = 0;
    for (size_t i = 0; i < idx->n; i++) {
        if (l->shard[i] != s)
            continue;
        const mpb_tensor *t = &idx->tensors[i];
        ts[k] = (mpb_st_tensor){.name = t->name, .dtype = t->dtype, .ndim = t->ndim};
        memcpy(ts[k].shape, t->shape, sizeof t->shape);
        size += mpb_tensor_bytes(t);
        pos[k++] = i;
    }
    static const char *const meta_keys[] = {"format"}, *const meta_values[] = {"pt"};
    char *header = NULL;
    uint64_t header_len = 0;
    int rc = mpb_st_header_build(ts, k, meta_keys, meta_values, 1, &header, &header_len, err);
    if (rc != MPB_OK)
        mpb_error_prefix(err, "%s: ", path);
    for (size_t j = 0; rc == MPB_OK && j < k; j++)
        l->begin[pos[j]] = ts[j].begin;
    if (rc == MPB_OK)
        rc = create_shard_file(path, header, header_len, 8 + header_len + size, err);
    free(header);
    free(ts);
    free(pos);
    return rc;
}

static char *shard_path(const char *dir, size_t s, size_t n)
{
    char name[SHARD_NAME_MAX];
    mpb_st_shard_name(name, sizeof name, (int)s + 1, (int)n);
    size_t len = strlen(dir) + strlen(name) + 2;
    char *p = malloc(len);
    if (p != NULL)
        snprintf(p, len, "%s/%s", dir, name);
    return p;
}

static int write_index(const char *dir, const mpb_index *idx, const struct layout *l,
                       mpb_error *err)
{
    const char **names = calloc(idx->n + 1, sizeof *names);
    const char **files = calloc(idx->n + 1, sizeof *files);
    char(*shard_names)[SHARD_NAME_MAX] = calloc(l->n_shards, sizeof *shard_names);
    size_t len = strlen(dir) + sizeof MPB_ST_INDEX_NAME + 1;
    char *index_path = malloc(len);
    int rc = MPB_OK;
    if (!names || !files || !shard_names || !index_path)
        rc = mpb_fail(err, MPB_ENOMEM, "%s: out of memory", dir);
    if (rc == MPB_OK) {
        snprintf(index_path, len, "%s/%s", dir, MPB_ST_INDEX_NAME);
        for (size_t s = 0; s < l->n_shards; s++)
            mpb_st_shard_name(shard_names[s], SHARD_NAME_MAX, (int)s + 1, (int)l->n_shards);
        for (size_t i = 0; i < idx->n; i++) {
            names[i] = idx->tensors[i].name;
            files[i] = shard_names[l->shard[i]];
        }
        rc = mpb_st_index_write(index_path, mpb_index_total_bytes(idx), names, files, idx->n,
                                err);
    }
    free(names);
    free(files);
    free(shard_names);
    free(index_path);
    return rc;
}

/* Rank 0: the folder, every shard with its header, and the index. */
static int lay_out_folder(const char *dir, const mpb_index *idx, uint64_t max_bytes,
                          struct layout *l, mpb_error *err)
{
    if (mkdir(dir, 0777) != 0)
        return mpb_fail(err, MPB_EIO, "%s: cannot create folder: %s", dir, strerror(errno));
    assign_shards(idx, max_bytes, l);
    int rc = MPB_OK;
    for (size_t s = 0; s < l->n_shards && rc == MPB_OK; s++) {
        char *path = shard_path(dir, s, l->n_shards);
        rc = path ? write_shard(path, idx, l, s, err)
                  : mpb_fail(err, MPB_ENOMEM, "%s: out of memory", dir);
        free(path);
    }
    if (rc == MPB_OK && l->n_shards > 1)
        rc = write_index(dir, idx, l, err);
    return rc;
}

/* All ranks agree on the outcome (rank 0 lays the folder out, any rank may
 * lack memory), then rank 0's layout reaches every rank. */
static int share_layout(struct layout *l, size_t n, MPI_Comm comm, mpb_error *err)
{
    if (mpb_comm_agree(err, comm) != MPB_OK)
        return err->code;
    uint64_t n_shards = l->n_shards;
    MPI_Bcast(&n_shards, 1, MPI_UINT64_T, 0, comm);
    l->n_shards = (size_t)n_shards;
    MPI_Bcast(l->shard, (int)n, MPI_UINT64_T, 0, comm);
    MPI_Bcast(l->begin, (int)n, MPI_UINT64_T, 0, comm);
    return MPB_OK;
}

static int open_shards(const char *dir, const mpb_index *idx, const struct layout *l, int rank,
                       mpb_st_store **out, mpb_error *err)
{
    mpb_st_store *s = mpb_st_store_new(dir, idx, l->n_shards, true);
    int rc = s ? MPB_OK : mpb_fail(err, MPB_ENOMEM, "%s: out of memory", dir);
    for (size_t i = 0; rc == MPB_OK && i < l->n_shards; i++) {
        s->file_paths[i] = shard_path(dir, i, l->n_shards);
        rc = s->file_paths[i] ? mpb_st_store_open_file(s, i, err)
                              : mpb_fail(err, MPB_ENOMEM, "%s: out of memory", dir);
    }
    for (size_t i = 0; rc == MPB_OK && i < idx->n; i++) {
        s->tensor_file[i] = (size_t)l->shard[i];
        s->tensor_begin[i] = l->begin[i];
    }
    if (rc != MPB_OK) {
        mpb_st_store_close(s, NULL);
        return rc;
    }
    s->sync_dir = rank == 0;
    *out = s;
    return MPB_OK;
}

/* Collective: every rank calls it with the same arguments. */
int mpb_st_store_create(const char *path, MPI_Comm comm, const mpb_index *idx,
                        const mpb_io_opts *opts, void **handle, mpb_error *err)
{
    *handle = NULL;
    int rank;
    MPI_Comm_rank(comm, &rank);
    if (idx->n > INT_MAX)
        return mpb_fail(err, MPB_EINVAL, "%s: %zu tensors are too many for one broadcast", path,
                        idx->n);
    struct layout l = {.n_shards = 0,
                       .shard = calloc(idx->n + 1, sizeof *l.shard),
                       .begin = calloc(idx->n + 1, sizeof *l.begin)};
    if (l.shard == NULL || l.begin == NULL)
        mpb_fail(err, MPB_ENOMEM, "%s: out of memory", path);
    else if (rank == 0)
        lay_out_folder(path, idx,
                       opts->shard_bytes ? opts->shard_bytes : MPB_STORE_SHARD_DEFAULT, &l,
                       err);
    int rc = share_layout(&l, idx->n, comm, err);
    if (rc == MPB_OK)
        rc = open_shards(path, idx, &l, rank, (mpb_st_store **)handle, err);
    free(l.shard);
    free(l.begin);
    return rc;
}

/* The dtype holding most of the floating-point bytes, which transformers
 * loads the model in; MPB_DT_INVALID when there is none. */
static mpb_dtype dominant_float(const mpb_index *idx)
{
    uint64_t bytes[MPB_DT_COUNT] = {0};
    for (size_t i = 0; i < idx->n; i++)
        if (mpb_dtype_is_blendable(idx->tensors[i].dtype))
            bytes[idx->tensors[i].dtype] += mpb_tensor_bytes(&idx->tensors[i]);
    mpb_dtype best = MPB_DT_INVALID;
    for (int d = 0; d < MPB_DT_COUNT; d++)
        if (bytes[d] > (best == MPB_DT_INVALID ? 0 : bytes[best]))
            best = (mpb_dtype)d;
    return best;
}

int mpb_st_store_write_files(const char *path, const mpb_index *idx, const mpb_hf_files *files,
                             mpb_error *err)
{
    mpb_hf_files copy = {0};
    int rc = MPB_OK;
    for (size_t i = 0; i < files->n && rc == MPB_OK; i++)
        rc = mpb_hf_files_add(&copy, files->files[i].name, files->files[i].data,
                              files->files[i].len, err);
    mpb_dtype dt = dominant_float(idx);
    if (rc == MPB_OK && dt != MPB_DT_INVALID)
        rc = mpb_hf_files_set_torch_dtype(&copy, dt, err);
    if (rc == MPB_OK)
        rc = mpb_hf_files_write_dir(path, &copy, err);
    mpb_hf_files_free(&copy);
    mpb_st_sync_folder(path); /* the new entries, before the folder is renamed */
    return rc;
}
