/* Non-tensor files inside an HDF5 checkpoint: the root group MPB_FILES_GROUP
 * holds one 1-D uint8 dataset per file, named as the file (docs/FORMAT.md). */
#include "mpb_h5.h"
#include "mpb_h5_compat.h"
#include "mpb_h5_internal.h"
#include "mpb_hf_files.h"

#include <stdlib.h>

/* Serial access; no flock, as for the parallel files (mpb_h5_file.c). */
static hid_t open_serial(const char *path, unsigned flags)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0)
        return H5I_INVALID_HID;
    hid_t file = H5I_INVALID_HID;
    if (H5Pset_file_locking(fapl, 0, 1) >= 0)
        file = H5Fopen(path, flags, fapl);
    H5Pclose(fapl);
    return file;
}

static int write_one(hid_t group, const char *path, const mpb_hf_file *f, mpb_error *err)
{
    hsize_t dims = f->len;
    hid_t space = H5Screate_simple(1, &dims, NULL);
    hid_t dset = space < 0 ? H5I_INVALID_HID
                           : H5Dcreate2(group, f->name, H5T_STD_U8LE, space, H5P_DEFAULT,
                                        H5P_DEFAULT, H5P_DEFAULT);
    herr_t st = dset < 0 ? -1 : 0;
    if (st >= 0 && f->len > 0)
        st = H5Dwrite(dset, H5T_NATIVE_UCHAR, H5S_ALL, H5S_ALL, H5P_DEFAULT, f->data);
    if (dset >= 0 && H5Dclose(dset) < 0)
        st = -1;
    if (space >= 0)
        H5Sclose(space);
    if (st < 0)
        return mpb_h5_fail(err, MPB_EIO, "'%s': cannot store model file '%s'", path, f->name);
    return MPB_OK;
}

int mpb_hf_files_write_h5(const char *path, const mpb_hf_files *set, mpb_error *err)
{
    if (set->n == 0)
        return MPB_OK;
    hid_t file = open_serial(path, H5F_ACC_RDWR);
    if (file < 0)
        return mpb_h5_fail(err, MPB_EIO, "cannot open '%s' to store model files", path);
    hid_t group = H5Gcreate2(file, MPB_FILES_GROUP, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    int rc = group < 0 ? mpb_h5_fail(err, MPB_EIO, "'%s': cannot create group '%s'", path,
                                     MPB_FILES_GROUP)
                       : MPB_OK;
    for (size_t i = 0; i < set->n && rc == MPB_OK; i++)
        rc = write_one(group, path, &set->files[i], err);
    if (group >= 0)
        H5Gclose(group);
    if (H5Fclose(file) < 0 && rc == MPB_OK)
        rc = mpb_h5_fail(err, MPB_EIO, "cannot close '%s' (model files may not be on disk)",
                         path);
    return rc;
}

struct files_walk {
    const char *path;
    mpb_hf_files *out;
    mpb_error *err;
};

static int read_one(struct files_walk *w, hid_t dset, const char *name)
{
    hid_t type = H5Dget_type(dset);
    hid_t space = H5Dget_space(dset);
    hsize_t len = 0;
    bool bytes = type >= 0 && H5Tget_class(type) == H5T_INTEGER && H5Tget_size(type) == 1;
    bool flat = space >= 0 && H5Sget_simple_extent_ndims(space) == 1 &&
                H5Sget_simple_extent_dims(space, &len, NULL) == 1;
    int rc = MPB_OK;
    unsigned char *data = NULL;
    if (!bytes || !flat)
        rc = mpb_fail(w->err, MPB_EINVAL,
                      "'%s': model file '%s/%s' is not a 1-D dataset of bytes", w->path,
                      MPB_FILES_GROUP, name);
    else if ((data = malloc(len ? (size_t)len : 1)) == NULL)
        rc = mpb_fail(w->err, MPB_ENOMEM, "'%s': out of memory for model file '%s'", w->path,
                      name);
    else if (len > 0 &&
             H5Dread(dset, H5T_NATIVE_UCHAR, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
        rc = mpb_h5_fail(w->err, MPB_EIO, "'%s': cannot read model file '%s'", w->path, name);
    if (rc == MPB_OK)
        rc = mpb_hf_files_add(w->out, name, data, (size_t)len, w->err);
    free(data);
    if (space >= 0)
        H5Sclose(space);
    if (type >= 0)
        H5Tclose(type);
    return rc;
}

static herr_t visit_file(hid_t group, const char *name, const mpb_h5_link_info *info,
                         void *data)
{
    (void)info;
    struct files_walk *w = data;
    hid_t dset = H5Dopen2(group, name, H5P_DEFAULT);
    if (dset < 0) {
        mpb_h5_fail(w->err, MPB_EINVAL, "'%s': '%s/%s' is not a dataset", w->path,
                    MPB_FILES_GROUP, name);
        return -1;
    }
    int rc = read_one(w, dset, name);
    H5Dclose(dset);
    return rc == MPB_OK ? 0 : -1;
}

int mpb_hf_files_read_h5(const char *path, mpb_hf_files *out, mpb_error *err)
{
    hid_t file = open_serial(path, H5F_ACC_RDONLY);
    if (file < 0)
        return mpb_h5_fail(err, MPB_EINVAL, "cannot open '%s' as HDF5", path);
    int rc = MPB_OK;
    htri_t present = H5Lexists(file, MPB_FILES_GROUP, H5P_DEFAULT);
    if (present < 0)
        rc = mpb_h5_fail(err, MPB_EINVAL, "'%s': cannot look up group '%s'", path,
                         MPB_FILES_GROUP);
    struct files_walk w = {path, out, err};
    if (present > 0 &&
        mpb_h5_literate_by_name(file, MPB_FILES_GROUP, H5_INDEX_NAME, H5_ITER_INC, NULL,
                                visit_file, &w, H5P_DEFAULT) < 0)
        rc = err->code ? err->code
                       : mpb_h5_fail(err, MPB_EINVAL, "'%s': cannot list group '%s'", path,
                                     MPB_FILES_GROUP);
    if (H5Fclose(file) < 0 && rc == MPB_OK)
        rc = mpb_h5_fail(err, MPB_EIO, "cannot close '%s'", path);
    if (rc != MPB_OK)
        mpb_hf_files_free(out);
    return rc;
}
