/* Parallel access to checkpoint files through HDF5's MPI-IO driver. */
#include "mpb_h5.h"
#include "mpb_h5_internal.h"

#include <stdlib.h>
#include <string.h>

struct mpb_h5_file {
    char *path;
    hid_t file;
    hid_t dxpl;
    const mpb_index *idx;
    bool writable;
    hid_t *dsets;     /* output: every dataset, open until close */
    hid_t *types;     /* output: the matching file types */
    long cached;      /* input: the one tensor open now, or -1 */
    hid_t cached_dset;
    hid_t cached_type;
};

static hid_t fapl_new(MPI_Comm comm, const mpb_io_opts *opts, bool create)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0)
        return H5I_INVALID_HID;
    herr_t st = H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL);
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
    }
    if (st < 0) {
        H5Pclose(fapl);
        return H5I_INVALID_HID;
    }
    return fapl;
}

static mpb_h5_file *file_new(const char *path, const mpb_index *idx,
                             const mpb_io_opts *opts, bool writable)
{
    mpb_h5_file *f = calloc(1, sizeof *f);
    if (f == NULL)
        return NULL;
    f->path = strdup(path);
    f->file = H5I_INVALID_HID;
    f->idx = idx;
    f->writable = writable;
    f->cached = -1;
    f->dxpl = H5Pcreate(H5P_DATASET_XFER);
    if (f->path == NULL || f->dxpl < 0 ||
        H5Pset_dxpl_mpio(f->dxpl, opts->collective ? H5FD_MPIO_COLLECTIVE
                                                   : H5FD_MPIO_INDEPENDENT) < 0) {
        if (f->dxpl >= 0)
            H5Pclose(f->dxpl);
        free(f->path);
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

static int create_datasets(mpb_h5_file *f, mpb_error *err)
{
    f->dsets = malloc(f->idx->n * sizeof *f->dsets);
    f->types = malloc(f->idx->n * sizeof *f->types);
    if (f->dsets == NULL || f->types == NULL)
        return mpb_fail(err, MPB_ENOMEM, "out of memory for %zu datasets", f->idx->n);
    for (size_t i = 0; i < f->idx->n; i++)
        f->dsets[i] = f->types[i] = H5I_INVALID_HID;
    hid_t dcpl = dcpl_new();
    if (dcpl < 0)
        return mpb_h5_fail(err, MPB_EINTERNAL, "cannot set up dataset properties");
    int rc = MPB_OK;
    for (size_t i = 0; i < f->idx->n && rc == MPB_OK; i++) {
        const mpb_tensor *t = &f->idx->tensors[i];
        hid_t space = space_new(t);
        f->types[i] = mpb_h5_type_new(t->dtype);
        if (space >= 0 && f->types[i] >= 0)
            f->dsets[i] = H5Dcreate2(f->file, t->name, f->types[i], space, H5P_DEFAULT,
                                     dcpl, H5P_DEFAULT);
        if (f->dsets[i] < 0)
            rc = mpb_h5_fail(err, MPB_EIO, "'%s': cannot create tensor '%s'", f->path,
                             t->name);
        if (space >= 0)
            H5Sclose(space);
    }
    H5Pclose(dcpl);
    return rc;
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

int mpb_h5_open(const char *path, MPI_Comm comm, const mpb_index *idx,
                const mpb_io_opts *opts, mpb_h5_file **out, mpb_error *err)
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
    *out = f;
    return MPB_OK;
}

/* Inputs open one dataset at a time: plans visit tensors in order, and
 * holding thousands of handles per input costs memory for nothing. */
static int input_dataset(mpb_h5_file *f, size_t tensor, mpb_error *err)
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
        return mpb_h5_fail(err, MPB_EIO, "'%s': cannot read the type of '%s'", f->path,
                           name);
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
    if (nrows == 0) { /* a collective call with nothing to move */
        hsize_t one = 1;
        *mspace = H5Screate_simple(1, &one, NULL);
        return (*mspace >= 0 && H5Sselect_none(*mspace) >= 0 &&
                H5Sselect_none(*fspace) >= 0) ? 0 : -1;
    }
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

static int transfer_rows(mpb_h5_file *f, size_t tensor, hid_t dset, hid_t type,
                         uint64_t row0, uint64_t nrows, void *buf, bool write,
                         mpb_error *err)
{
    const mpb_tensor *t = &f->idx->tensors[tensor];
    hid_t fspace = H5I_INVALID_HID, mspace = H5I_INVALID_HID;
    herr_t st = select_rows(t, dset, row0, nrows, &fspace, &mspace);
    if (st >= 0)
        st = write ? H5Dwrite(dset, type, mspace, fspace, f->dxpl, buf)
                   : H5Dread(dset, type, mspace, fspace, f->dxpl, buf);
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

int mpb_h5_read_rows(mpb_h5_file *f, size_t tensor, uint64_t row0, uint64_t nrows,
                     void *buf, mpb_error *err)
{
    int rc = input_dataset(f, tensor, err);
    if (rc)
        return rc;
    return transfer_rows(f, tensor, f->cached_dset, f->cached_type, row0, nrows, buf,
                         false, err);
}

int mpb_h5_write_rows(mpb_h5_file *f, size_t tensor, uint64_t row0, uint64_t nrows,
                      const void *buf, mpb_error *err)
{
    if (!f->writable)
        return mpb_fail(err, MPB_EINTERNAL, "'%s' is not open for writing", f->path);
    return transfer_rows(f, tensor, f->dsets[tensor], f->types[tensor], row0, nrows,
                         (void *)buf, true, err);
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
        H5Dclose(f->cached_dset);
    }
    for (size_t i = 0; f->dsets && i < f->idx->n; i++) {
        if (f->dsets[i] >= 0)
            failed |= H5Dclose(f->dsets[i]) < 0;
        if (f->types[i] >= 0)
            H5Tclose(f->types[i]);
    }
    if (f->file >= 0)
        failed |= H5Fclose(f->file) < 0;
    H5Pclose(f->dxpl);
    int rc = MPB_OK;
    if (failed)
        rc = mpb_h5_fail(err, MPB_EIO, "cannot close '%s' (data may not be on disk)",
                         f->path);
    free(f->dsets);
    free(f->types);
    free(f->path);
    free(f);
    return rc;
}
