/* Parallel access to checkpoint files through HDF5's MPI-IO driver.
 *
 * HDF5 owns the metadata: every rank opens or creates the file and its
 * datasets collectively.  The bytes of a contiguous tensor (every tensor
 * mpiblend writes, and most it reads) lie in one block at a known offset,
 * so transfers move them on HDF5's own MPI-IO handle: no dataset is opened
 * per transfer and no dataset stays open, which with thousands of tensors
 * is where the time and the memory went.  Independent transfers move each
 * block at once with MPI_File_read_at/write_at; collective ones queue the
 * blocks and mpb_h5_flush moves a whole round of them, many tensors, joined
 * into one contiguous block per rank, in one MPI_File_read_at_all/
 * write_at_all.  Tensors stored any other way go through H5Dread/H5Dwrite,
 * independently, on one cached dataset at a time. */
#include "mpb_h5.h"
#include "mpb_h5_internal.h"
#include "mpb_io_hints.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A transfer waiting for the next collective flush. */
typedef struct pending {
    uint64_t at; /* file offset */
    uint64_t len;
    unsigned char *buf;
} pending;

struct mpb_h5_file {
    char *path;
    hid_t file;
    const mpb_index *idx;
    bool writable;
    bool collective;
    bool aggregate;        /* a round's main block in the MPI-IO library's collective call */
    MPI_File *fh;          /* HDF5's MPI-IO handle, for raw transfers */
    uint64_t *out_offsets; /* output: where each tensor's bytes start */
    long cached;           /* the one dataset open now, or -1 */
    hid_t cached_dset;
    hid_t cached_type;
    pending *queue; /* collective: transfers for the next flush */
    size_t n_queue, cap_queue;
};

/* Largest single MPI-IO call: counts are ints, and ROMIO and OMPIO both
 * mishandle transfers near 2 GiB. */
#define RAW_TRANSFER_MAX (1u << 30)

/* Under --io collective, pieces of at least this many bytes move
 * independently: they are stripe-sized runs already, so aggregation gains
 * nothing, and ROMIO 3.2.1 crawled through a 0.7 GiB block inside a round's
 * strided view (rel_big_tensor did not finish).  ROMIO's own `automatic`
 * collective buffering makes the same choice for non-interleaved access.
 * The default slab (4 MiB) keeps every piece under it. */
#define COLLECTIVE_PIECE_MAX (64u << 20)

/* A sweep holds one output per point open at once, each with thousands of
 * new object headers that parallel HDF5 can only write back at collective
 * sync points; a small cache makes it do so early.  qwen3-moe-mini's
 * 9-point sweep: 229 -> 146 MiB per rank, no slower (docs/PERFORMANCE.md). */
static herr_t limit_metadata_cache(hid_t fapl)
{
    H5AC_cache_config_t mdc = {.version = H5AC__CURR_CACHE_CONFIG_VERSION};
    if (H5Pget_mdc_config(fapl, &mdc) < 0)
        return -1;
    mdc.set_initial_size = 1;
    mdc.initial_size = 1 << 20;
    mdc.min_size = 1 << 20;
    mdc.max_size = 4 << 20;
    return H5Pset_mdc_config(fapl, &mdc);
}

static hid_t fapl_new(MPI_Comm comm, const mpb_io_opts *opts, bool create)
{
    MPI_Info hints;
    if (mpb_io_hints_info(opts, &hints) != MPI_SUCCESS)
        return H5I_INVALID_HID;
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    /* HDF5 keeps its own copy of the hints. */
    herr_t st = fapl < 0 ? -1 : H5Pset_fapl_mpio(fapl, comm, hints);
    if (hints != MPI_INFO_NULL)
        MPI_Info_free(&hints);
    if (fapl < 0)
        return H5I_INVALID_HID;
    /* Parallel file systems often lack flock; MPI-IO coordinates access. */
    if (st >= 0)
        st = H5Pset_file_locking(fapl, 0, 1);
    if (st >= 0 && create) {
        if (opts->alignment > 1)
            st = H5Pset_alignment(fapl, opts->align_threshold, opts->alignment);
        /* Metadata of thousands of datasets lands in few large blocks, and
         * rank 0 alone writes it, collectively gathered. */
        if (st >= 0)
            st = H5Pset_meta_block_size(fapl, 1 << 20);
        if (st >= 0)
            st = H5Pset_coll_metadata_write(fapl, 1);
#if H5_VERSION_GE(1, 10, 9)
        /* Metadata reads of a new file (every rank creates every dataset
         * in the same order) by one rank and broadcast.  Not for inputs:
         * ranks open the datasets of other layouts independently.  Broken
         * and silently off in 1.10.5-1.10.8 (docs/TUNING.md). */
        if (st >= 0)
            st = H5Pset_all_coll_metadata_ops(fapl, 1);
#endif
        if (st >= 0)
            st = limit_metadata_cache(fapl);
    }
    if (st < 0) {
        H5Pclose(fapl);
        return H5I_INVALID_HID;
    }
    return fapl;
}

static mpb_h5_file *file_new(const char *path, const mpb_index *idx, const mpb_io_opts *opts,
                             bool writable)
{
    mpb_h5_file *f = calloc(1, sizeof *f);
    if (f == NULL)
        return NULL;
    f->path = strdup(path);
    f->file = H5I_INVALID_HID;
    f->idx = idx;
    f->writable = writable;
    f->collective = opts->collective;
    f->aggregate = opts->aggregation != MPB_AGGREGATE_OFF;
    f->cached = -1;
    if (f->path == NULL) {
        free(f);
        return NULL;
    }
    return f;
}

static hid_t dcpl_new(void)
{
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    /* Write-once tensors: contiguous, allocated at creation (parallel HDF5
     * requires it), and never pre-filled with zeros we would overwrite. */
    if (dcpl < 0 || H5Pset_layout(dcpl, H5D_CONTIGUOUS) < 0 ||
        H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY) < 0 ||
        H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER) < 0) {
        if (dcpl >= 0)
            H5Pclose(dcpl);
        return H5I_INVALID_HID;
    }
    return dcpl;
}

static hid_t space_new(const mpb_tensor *t)
{
    if (t->ndim == 0)
        return H5Screate(H5S_SCALAR);
    hsize_t dims[MPB_MAX_DIMS];
    for (int d = 0; d < t->ndim; d++)
        dims[d] = t->shape[d];
    return H5Screate_simple(t->ndim, dims, NULL);
}

/* Creates every dataset and notes where its bytes start; none stays open. */
static int create_datasets(mpb_h5_file *f, mpb_error *err)
{
    f->out_offsets = malloc((f->idx->n + 1) * sizeof *f->out_offsets);
    if (f->out_offsets == NULL)
        return mpb_fail(err, MPB_ENOMEM, "out of memory for %zu datasets", f->idx->n);
    hid_t dcpl = dcpl_new();
    if (dcpl < 0)
        return mpb_h5_fail(err, MPB_EINTERNAL, "cannot set up dataset properties");
    int rc = MPB_OK;
    for (size_t i = 0; i < f->idx->n && rc == MPB_OK; i++) {
        const mpb_tensor *t = &f->idx->tensors[i];
        hid_t space = space_new(t);
        hid_t type = mpb_h5_type_new(t->dtype);
        hid_t dset = H5I_INVALID_HID;
        if (space >= 0 && type >= 0)
            dset = H5Dcreate2(f->file, t->name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
        /* Allocated at creation: the offset is final and the same on every rank. */
        haddr_t addr = dset >= 0 ? H5Dget_offset(dset) : HADDR_UNDEF;
        f->out_offsets[i] = (addr == HADDR_UNDEF) ? MPB_OFFSET_NONE : (uint64_t)addr;
        if (dset < 0 || H5Dclose(dset) < 0)
            rc = mpb_h5_fail(err, MPB_EIO, "'%s': cannot create tensor '%s'", f->path, t->name);
        if (type >= 0)
            H5Tclose(type);
        if (space >= 0)
            H5Sclose(space);
    }
    H5Pclose(dcpl);
    return rc;
}

/* HDF5's own MPI-IO handle; without it every transfer goes through HDF5. */
static void attach_mpi_file(mpb_h5_file *f)
{
    void *handle = NULL;
    if (H5Fget_vfd_handle(f->file, H5P_DEFAULT, &handle) >= 0)
        f->fh = handle;
    else
        H5Eclear2(H5E_DEFAULT);
}

int mpb_h5_create(const char *path, MPI_Comm comm, const mpb_index *idx,
                  const mpb_io_opts *opts, mpb_h5_file **out, mpb_error *err)
{
    *out = NULL;
    mpb_h5_file *f = file_new(path, idx, opts, true);
    if (f == NULL)
        return mpb_fail(err, MPB_ENOMEM, "out of memory opening '%s'", path);
    hid_t fapl = fapl_new(comm, opts, true);
    if (fapl >= 0) {
        f->file = H5Fcreate(path, H5F_ACC_EXCL, H5P_DEFAULT, fapl);
        H5Pclose(fapl);
    }
    int rc = MPB_OK;
    if (f->file < 0)
        rc = mpb_h5_fail(err, MPB_EIO, "cannot create '%s'", path);
    if (rc == MPB_OK)
        rc = create_datasets(f, err);
    if (rc == MPB_OK)
        attach_mpi_file(f);
    if (rc == MPB_OK)
        rc = mpb_h5_set_attr(f, MPB_FORMAT_ATTR, MPB_FORMAT_NAME, err);
    if (rc == MPB_OK) {
        int version = MPB_FORMAT_VERSION;
        hid_t space = H5Screate(H5S_SCALAR);
        hid_t attr = H5Acreate2(f->file, MPB_FORMAT_VERSION_ATTR, H5T_STD_I32LE, space,
                                H5P_DEFAULT, H5P_DEFAULT);
        if (attr < 0 || H5Awrite(attr, H5T_NATIVE_INT, &version) < 0)
            rc = mpb_h5_fail(err, MPB_EIO, "'%s': cannot write the format version", path);
        if (attr >= 0)
            H5Aclose(attr);
        H5Sclose(space);
    }
    if (rc != MPB_OK) {
        mpb_h5_close(f, NULL);
        return rc;
    }
    *out = f;
    return MPB_OK;
}

int mpb_h5_open(const char *path, MPI_Comm comm, const mpb_index *idx, const mpb_io_opts *opts,
                mpb_h5_file **out, mpb_error *err)
{
    *out = NULL;
    mpb_h5_file *f = file_new(path, idx, opts, false);
    if (f == NULL)
        return mpb_fail(err, MPB_ENOMEM, "out of memory opening '%s'", path);
    hid_t fapl = fapl_new(comm, opts, false);
    if (fapl >= 0) {
        f->file = H5Fopen(path, H5F_ACC_RDONLY, fapl);
        H5Pclose(fapl);
    }
    if (f->file < 0) {
        int rc = mpb_h5_fail(err, MPB_EIO, "cannot open '%s' for parallel reading", path);
        mpb_h5_close(f, NULL);
        return rc;
    }
    attach_mpi_file(f);
    *out = f;
    return MPB_OK;
}

/* One dataset open at a time: plans visit tensors in order, and holding
 * thousands of handles costs memory and time for nothing. */
static int cache_dataset(mpb_h5_file *f, size_t tensor, mpb_error *err)
{
    if (f->cached == (long)tensor)
        return MPB_OK;
    if (f->cached >= 0) {
        H5Tclose(f->cached_type);
        H5Dclose(f->cached_dset);
        f->cached = -1;
    }
    const char *name = f->idx->tensors[tensor].name;
    f->cached_dset = H5Dopen2(f->file, name, H5P_DEFAULT);
    if (f->cached_dset < 0)
        return mpb_h5_fail(err, MPB_EIO, "'%s': cannot open tensor '%s'", f->path, name);
    f->cached_type = H5Dget_type(f->cached_dset);
    if (f->cached_type < 0) {
        H5Dclose(f->cached_dset);
        return mpb_h5_fail(err, MPB_EIO, "'%s': cannot read the type of '%s'", f->path, name);
    }
    f->cached = (long)tensor;
    return MPB_OK;
}

/* File and memory selections for rows [row0, row0 + nrows) of a tensor. */
static int select_rows(const mpb_tensor *t, hid_t dset, uint64_t row0, uint64_t nrows,
                       hid_t *fspace, hid_t *mspace)
{
    *fspace = H5Dget_space(dset);
    if (*fspace < 0)
        return -1;
    if (t->ndim == 0) {
        *mspace = H5Screate(H5S_SCALAR);
        return *mspace >= 0 ? 0 : -1;
    }
    hsize_t start[MPB_MAX_DIMS] = {0}, count[MPB_MAX_DIMS];
    start[0] = row0;
    count[0] = nrows;
    for (int d = 1; d < t->ndim; d++)
        count[d] = t->shape[d];
    hsize_t numel = nrows * (mpb_tensor_row_bytes(t) / mpb_dtype_size(t->dtype));
    *mspace = H5Screate_simple(1, &numel, NULL);
    if (*mspace < 0)
        return -1;
    return H5Sselect_hyperslab(*fspace, H5S_SELECT_SET, start, NULL, count, NULL);
}

/* Rows of the cached dataset through HDF5, independently even with
 * --io collective: which of these a rank meets depends on its own items,
 * so no partner could join a collective H5Dread (HDF5 1.10.8 also answers
 * a read of storage never written without joining one, and ROMIO crashes
 * on collective I/O to chunked datasets). */
static int transfer_rows(mpb_h5_file *f, size_t tensor, uint64_t row0, uint64_t nrows,
                         void *buf, bool write, mpb_error *err)
{
    const mpb_tensor *t = &f->idx->tensors[tensor];
    hid_t dset = f->cached_dset, type = f->cached_type;
    hid_t fspace = H5I_INVALID_HID, mspace = H5I_INVALID_HID;
    herr_t st = select_rows(t, dset, row0, nrows, &fspace, &mspace);
    if (st >= 0)
        st = write ? H5Dwrite(dset, type, mspace, fspace, H5P_DEFAULT, buf)
                   : H5Dread(dset, type, mspace, fspace, H5P_DEFAULT, buf);
    if (mspace >= 0)
        H5Sclose(mspace);
    if (fspace >= 0)
        H5Sclose(fspace);
    if (st < 0)
        return mpb_h5_fail(err, MPB_EIO, "'%s': cannot %s rows %llu..%llu of tensor '%s'",
                           f->path, write ? "write" : "read", (unsigned long long)row0,
                           (unsigned long long)(row0 + nrows), t->name);
    return MPB_OK;
}

/* Where the tensor's bytes start when a transfer may move them directly,
 * or MPB_OFFSET_NONE.  Every rank decides alike (the offsets are in the
 * shared index). */
static uint64_t raw_offset(const mpb_h5_file *f, size_t tensor)
{
    if (f->fh == NULL)
        return MPB_OFFSET_NONE;
    return f->writable ? f->out_offsets[tensor] : f->idx->tensors[tensor].data_offset;
}

static int mpi_io_fail(mpb_h5_file *f, int mrc, const char *what, mpb_error *err)
{
    char why[MPI_MAX_ERROR_STRING] = "the file ends early";
    int len;
    if (mrc != MPI_SUCCESS)
        MPI_Error_string(mrc, why, &len);
    return mpb_fail(err, MPB_EIO, "'%s': cannot %s (MPI-IO: %s)", f->path, what, why);
}

/* Independent: the rows at once, in calls of at most RAW_TRANSFER_MAX. */
static int raw_transfer(mpb_h5_file *f, size_t tensor, uint64_t at, uint64_t row0,
                        uint64_t nrows, void *buf, bool write, mpb_error *err)
{
    const mpb_tensor *t = &f->idx->tensors[tensor];
    uint64_t row_bytes = mpb_tensor_row_bytes(t);
    at += row0 * row_bytes;
    unsigned char *p = buf;
    for (uint64_t left = nrows * row_bytes; left > 0;) {
        int chunk = (int)(left < RAW_TRANSFER_MAX ? left : RAW_TRANSFER_MAX);
        MPI_Status st;
        int moved = 0;
        MPI_Offset off = (MPI_Offset)at;
        int mrc = write ? MPI_File_write_at(*f->fh, off, p, chunk, MPI_BYTE, &st)
                        : MPI_File_read_at(*f->fh, off, p, chunk, MPI_BYTE, &st);
        if (mrc == MPI_SUCCESS)
            MPI_Get_count(&st, MPI_BYTE, &moved);
        if (mrc != MPI_SUCCESS || moved != chunk) {
            char what[256];
            snprintf(what, sizeof what, "%s rows %llu..%llu of tensor '%s'",
                     write ? "write" : "read", (unsigned long long)row0,
                     (unsigned long long)(row0 + nrows), t->name);
            return mpi_io_fail(f, mrc, what, err);
        }
        at += (uint64_t)chunk;
        p += chunk;
        left -= (uint64_t)chunk;
    }
    return MPB_OK;
}

/* Collective: the rows wait for mpb_h5_flush. */
static int queue_transfer(mpb_h5_file *f, size_t tensor, uint64_t at, uint64_t row0,
                          uint64_t nrows, void *buf, mpb_error *err)
{
    uint64_t row_bytes = mpb_tensor_row_bytes(&f->idx->tensors[tensor]);
    if (f->n_queue == f->cap_queue) {
        size_t cap = f->cap_queue ? 2 * f->cap_queue : 256;
        pending *grown = realloc(f->queue, cap * sizeof *grown);
        if (grown == NULL)
            return mpb_fail(err, MPB_ENOMEM, "out of memory queueing %zu transfers", cap);
        f->queue = grown;
        f->cap_queue = cap;
    }
    f->queue[f->n_queue++] = (pending){at + row0 * row_bytes, nrows * row_bytes, buf};
    return MPB_OK;
}

static int move_rows(mpb_h5_file *f, size_t tensor, uint64_t row0, uint64_t nrows, void *buf,
                     bool write, mpb_error *err)
{
    if (err->code != MPB_OK)
        return err->code; /* the flush still joins, with nothing */
    uint64_t bytes = nrows * mpb_tensor_row_bytes(&f->idx->tensors[tensor]);
    if (bytes == 0)
        return MPB_OK;
    uint64_t at = raw_offset(f, tensor);
    if (at != MPB_OFFSET_NONE && f->collective && bytes < COLLECTIVE_PIECE_MAX)
        return queue_transfer(f, tensor, at, row0, nrows, buf, err);
    if (at != MPB_OFFSET_NONE)
        return raw_transfer(f, tensor, at, row0, nrows, buf, write, err);
    int rc = cache_dataset(f, tensor, err);
    if (rc)
        return rc;
    return transfer_rows(f, tensor, row0, nrows, buf, write, err);
}

int mpb_h5_read_rows(mpb_h5_file *f, size_t tensor, uint64_t row0, uint64_t nrows, void *buf,
                     mpb_error *err)
{
    return move_rows(f, tensor, row0, nrows, buf, false, err);
}

int mpb_h5_write_rows(mpb_h5_file *f, size_t tensor, uint64_t row0, uint64_t nrows,
                      const void *buf, mpb_error *err)
{
    if (!f->writable)
        return mpb_fail(err, MPB_EINTERNAL, "'%s' is not open for writing", f->path);
    return move_rows(f, tensor, row0, nrows, (void *)buf, true, err);
}

static int earlier(const void *pa, const void *pb)
{
    const pending *a = pa, *b = pb;
    return a->at < b->at ? -1 : a->at > b->at;
}

/* Sorted by file offset, neighbours in both the file and memory joined: a
 * rank's run of consecutive tensors becomes one block. */
static size_t sort_and_join(pending *q, size_t n)
{
    qsort(q, n, sizeof *q, earlier);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        pending *last = m ? &q[m - 1] : NULL;
        if (last && last->at + last->len == q[i].at && last->buf + last->len == q[i].buf &&
            last->len + q[i].len <= RAW_TRANSFER_MAX)
            last->len += q[i].len;
        else
            q[m++] = q[i];
    }
    return m;
}

/* Independent: one queued block at its offset (each is under 1 GiB). */
static int move_block(mpb_h5_file *f, const pending *b, mpb_error *err)
{
    MPI_Status st;
    int moved = 0;
    MPI_Offset off = (MPI_Offset)b->at;
    int mrc = f->writable ? MPI_File_write_at(*f->fh, off, b->buf, (int)b->len, MPI_BYTE, &st)
                          : MPI_File_read_at(*f->fh, off, b->buf, (int)b->len, MPI_BYTE, &st);
    if (mrc == MPI_SUCCESS)
        MPI_Get_count(&st, MPI_BYTE, &moved);
    if (mrc != MPI_SUCCESS || (uint64_t)moved != b->len) {
        char what[96];
        snprintf(what, sizeof what, "%s %llu bytes at offset %llu",
                 f->writable ? "write" : "read", (unsigned long long)b->len,
                 (unsigned long long)b->at);
        return mpi_io_fail(f, mrc, what, err);
    }
    return MPB_OK;
}

/* A round's collective transfer.  The plan gives each rank one run of
 * consecutive tensors per round, which in a file that stores tensors in
 * index order (every file mpiblend writes) is one contiguous block after
 * joining: that block, the largest, moves in one MPI_File_read_at_all/
 * write_at_all, every rank joining with its own (or with nothing), and the
 * pieces that lie elsewhere in the file (tensors HDF5 placed apart, such as
 * small ones, or a file laid out in another order) move independently
 * first.  No file view is set: each MPI_File_set_view is itself collective
 * (in OMPIO an allreduce and a barrier), and with a view of many blocks,
 * interleaved between ranks, collective rounds were 1.5-7 x slower than
 * independent transfers here and ROMIO's were slower still
 * (docs/PERFORMANCE.md).  Since each rank's block is contiguous and apart
 * from the others', the MPI-IO library decides whether aggregation pays:
 * ROMIO's automatic collective buffering moves such blocks independently,
 * OMPIO does with 2 ranks, and hints (cb_nodes, striping) act on the rest.
 * Without aggregation (--aggregate, mpb_io_aggregation_settle) the main
 * block moves in an individual call too, and the round is only a step. */
int mpb_h5_flush(mpb_h5_file *f, mpb_error *err)
{
    if (!f->collective || f->fh == NULL)
        return err->code;
    size_t n = err->code == MPB_OK ? sort_and_join(f->queue, f->n_queue) : 0;
    f->n_queue = 0;
    size_t main = 0;
    for (size_t i = 1; i < n; i++)
        if (f->queue[i].len > f->queue[main].len)
            main = i;
    for (size_t i = 0; i < n && err->code == MPB_OK; i++)
        if (i != main || !f->aggregate)
            move_block(f, &f->queue[i], err);
    if (!f->aggregate)
        return err->code;
    /* After a failure, or with nothing queued, join with nothing. */
    static unsigned char nothing;
    pending none = {0, 0, &nothing};
    const pending *b = (n > 0 && err->code == MPB_OK) ? &f->queue[main] : &none;
    MPI_Status st;
    int moved = 0;
    MPI_Offset off = (MPI_Offset)b->at;
    int mrc = f->writable
                  ? MPI_File_write_at_all(*f->fh, off, b->buf, (int)b->len, MPI_BYTE, &st)
                  : MPI_File_read_at_all(*f->fh, off, b->buf, (int)b->len, MPI_BYTE, &st);
    /* ROMIO leaves the status of an empty transfer unset. */
    if (mrc == MPI_SUCCESS && b->len > 0)
        MPI_Get_count(&st, MPI_BYTE, &moved);
    if (err->code == MPB_OK && (mrc != MPI_SUCCESS || (uint64_t)moved != b->len)) {
        char what[96];
        snprintf(what, sizeof what, "%s %llu bytes at offset %llu collectively",
                 f->writable ? "write" : "read", (unsigned long long)b->len,
                 (unsigned long long)b->at);
        return mpi_io_fail(f, mrc, what, err);
    }
    return err->code;
}

int mpb_h5_set_attr(mpb_h5_file *f, const char *key, const char *value, mpb_error *err)
{
    hid_t type = H5Tcopy(H5T_C_S1);
    hid_t space = H5Screate(H5S_SCALAR);
    herr_t st = (type >= 0 && space >= 0) ? H5Tset_size(type, strlen(value) + 1) : -1;
    if (st >= 0)
        st = H5Tset_cset(type, H5T_CSET_UTF8);
    if (st >= 0 && H5Aexists(f->file, key) > 0)
        st = H5Adelete(f->file, key);
    hid_t attr = H5I_INVALID_HID;
    if (st >= 0)
        attr = H5Acreate2(f->file, key, type, space, H5P_DEFAULT, H5P_DEFAULT);
    if (attr < 0 || H5Awrite(attr, type, value) < 0)
        st = -1;
    if (attr >= 0)
        H5Aclose(attr);
    if (space >= 0)
        H5Sclose(space);
    if (type >= 0)
        H5Tclose(type);
    if (st < 0)
        return mpb_h5_fail(err, MPB_EIO, "'%s': cannot write attribute '%s'", f->path, key);
    return MPB_OK;
}

int mpb_h5_close(mpb_h5_file *f, mpb_error *err)
{
    if (f == NULL)
        return MPB_OK;
    int failed = 0;
    if (f->cached >= 0) {
        H5Tclose(f->cached_type);
        failed |= H5Dclose(f->cached_dset) < 0;
    }
    if (f->file >= 0)
        failed |= H5Fclose(f->file) < 0;
    free(f->queue);
    int rc = MPB_OK;
    if (failed)
        rc = mpb_h5_fail(err, MPB_EIO, "cannot close '%s' (data may not be on disk)", f->path);
    free(f->out_offsets);
    free(f->path);
    free(f);
    return rc;
}
