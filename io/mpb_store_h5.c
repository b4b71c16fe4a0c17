/* The HDF5 backend of the store table. */
#include "mpb_h5.h"
#include "mpb_store.h"

static int h5_open(const char *path, MPI_Comm comm, const mpb_index *idx,
                   const mpb_io_opts *opts, void **handle, mpb_error *err)
{
    return mpb_h5_open(path, comm, idx, opts, (mpb_h5_file **)handle, err);
}

static int h5_create(const char *path, MPI_Comm comm, const mpb_index *idx,
                     const mpb_io_opts *opts, void **handle, mpb_error *err)
{
    return mpb_h5_create(path, comm, idx, opts, (mpb_h5_file **)handle, err);
}

static int h5_read_rows(void *h, size_t tensor, uint64_t row0, uint64_t nrows, void *buf,
                        mpb_error *err)
{
    return mpb_h5_read_rows(h, tensor, row0, nrows, buf, err);
}

static int h5_write_rows(void *h, size_t tensor, uint64_t row0, uint64_t nrows, const void *buf,
                         mpb_error *err)
{
    return mpb_h5_write_rows(h, tensor, row0, nrows, buf, err);
}

static int h5_flush(void *h, mpb_error *err)
{
    return mpb_h5_flush(h, err);
}

static int h5_set_attr(void *h, const char *key, const char *value, mpb_error *err)
{
    return mpb_h5_set_attr(h, key, value, err);
}

static int h5_close(void *h, mpb_error *err)
{
    return mpb_h5_close(h, err);
}

static int h5_write_files(const char *path, const mpb_index *idx, const mpb_hf_files *files,
                          mpb_error *err)
{
    (void)idx;
    return mpb_hf_files_write_h5(path, files, err);
}

const mpb_store_ops mpb_store_hdf5 = {
    .name = "hdf5",
    .read_index = mpb_h5_read_index,
    .open = h5_open,
    .create = h5_create,
    .read_rows = h5_read_rows,
    .write_rows = h5_write_rows,
    .flush = h5_flush,
    .set_attr = h5_set_attr,
    .close = h5_close,
    .read_files = mpb_hf_files_read_h5,
    .write_files = h5_write_files,
};
