/* Reading a checkpoint's tensor index: one rank, serial HDF5 driver. */
#include "mpb_h5.h"
#include "mpb_h5_compat.h"
#include "mpb_h5_internal.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

struct index_walk {
    const char *path;
    mpb_index *idx;
    mpb_error *err;
};

/* Where the tensor's bytes lie, when they can be read there directly: one
 * contiguous, unfiltered, allocated block in the file itself, stored in the
 * byte layout mpiblend computes on (the dtype check already required
 * little-endian).  Anything else is read through HDF5. */
static uint64_t raw_data_offset(hid_t dset, const mpb_tensor *t)
{
    hid_t dcpl = H5Dget_create_plist(dset);
    if (dcpl < 0)
        return MPB_OFFSET_NONE;
    bool plain = H5Pget_layout(dcpl) == H5D_CONTIGUOUS && H5Pget_nfilters(dcpl) == 0 &&
                 H5Pget_external_count(dcpl) == 0;
    H5Pclose(dcpl);
    haddr_t addr = plain ? H5Dget_offset(dset) : HADDR_UNDEF;
    /* HDF5 1.10.8 adds the user block to HADDR_UNDEF for storage never
     * allocated (4095 behind a 4 KiB block): the size is what tells. */
    if (addr == HADDR_UNDEF || H5Dget_storage_size(dset) != mpb_tensor_bytes(t))
        return MPB_OFFSET_NONE;
    return (uint64_t)addr;
}

static int add_dataset(struct index_walk *w, hid_t dset, const char *name)
{
    int rc = MPB_OK;
    hid_t type = H5Dget_type(dset);
    hid_t space = H5Dget_space(dset);
    mpb_dtype dt = type >= 0 ? mpb_h5_type_dtype(type) : MPB_DT_INVALID;
    int ndim = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
    hsize_t dims[MPB_MAX_DIMS];
    if (dt == MPB_DT_INVALID)
        rc = mpb_fail(w->err, MPB_EINVAL,
                      "'%s': tensor '%s' has an HDF5 type mpiblend does not hold "
                      "(supported: bf16, f16, f32, f64, integers, bool, fp8)",
                      w->path, name);
    else if (ndim < 0 || ndim > MPB_MAX_DIMS)
        rc = mpb_fail(w->err, MPB_EINVAL, "'%s': tensor '%s' has %d dimensions (at most %d)",
                      w->path, name, ndim, MPB_MAX_DIMS);
    else if (H5Sget_simple_extent_dims(space, dims, NULL) < 0)
        rc = mpb_h5_fail(w->err, MPB_EINVAL, "'%s': cannot read the shape of '%s'", w->path,
                         name);
    else {
        uint64_t shape[MPB_MAX_DIMS];
        for (int d = 0; d < ndim; d++)
            shape[d] = dims[d];
        rc = mpb_index_add(w->idx, name, dt, ndim, shape, w->err);
        if (rc == MPB_OK) {
            mpb_tensor *t = &w->idx->tensors[w->idx->n - 1];
            t->data_offset = raw_data_offset(dset, t);
        }
    }
    if (space >= 0)
        H5Sclose(space);
    if (type >= 0)
        H5Tclose(type);
    return rc;
}

/* The first dataset under group (depth first, by name), as "a/b/c" in
 * path; false when there is none.  Plain name lookups, no link-info
 * structs, which differ between HDF5 versions; the depth cap stops link
 * cycles. */
static bool find_dataset(hid_t group, char *path, size_t len, int depth)
{
    H5G_info_t info;
    if (depth > 32 || H5Gget_info(group, &info) < 0)
        return false;
    size_t used = strlen(path);
    for (hsize_t i = 0; i < info.nlinks && used + 2 < len; i++) {
        path[used] = '/';
        if (H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, i, path + used + 1,
                               len - used - 1, H5P_DEFAULT) < 0)
            continue;
        bool found = false;
        H5E_BEGIN_TRY
        {
            hid_t obj = H5Oopen(group, path + used + 1, H5P_DEFAULT);
            if (obj >= 0) {
                H5I_type_t type = H5Iget_type(obj);
                found = type == H5I_DATASET ||
                        (type == H5I_GROUP && find_dataset(obj, path, len, depth + 1));
                H5Oclose(obj);
            }
        }
        H5E_END_TRY;
        if (found)
            return true;
        path[used] = '\0';
    }
    path[used] = '\0';
    return false;
}

/* Tensors live at the root (docs/FORMAT.md).  A group other than hf_files
 * that holds datasets is refused rather than skipped: an h5py user's
 * "model/layers/0/..." tree would otherwise vanish from the merge. */
static int check_group(struct index_walk *w, hid_t group, const char *name)
{
    char path[1024];
    if (strcmp(name, MPB_FILES_GROUP) == 0)
        return MPB_OK;
    snprintf(path, sizeof path, "%s", name);
    if (!find_dataset(group, path, sizeof path, 0))
        return MPB_OK;
    char dotted[1024];
    snprintf(dotted, sizeof dotted, "%s", path);
    for (char *c = dotted; *c; c++)
        if (*c == '/')
            *c = '.';
    return mpb_fail(w->err, MPB_EINVAL,
                    "'%s': group '%s' holds datasets (such as '%s'); "
                    "mpiblend reads tensors only at the root, named with dots (here "
                    "'%s'); store them there (docs/FORMAT.md)",
                    w->path, name, path, dotted);
}

/* Opens each object by the address (token) its link already holds: no
 * second lookup of the name, which costs as much as the open with thousands
 * of tensors. */
static herr_t visit_root_link(hid_t group, const char *name, const mpb_h5_link_info *info,
                              void *data)
{
    struct index_walk *w = data;
    if (info->type != H5L_TYPE_HARD) /* soft and external links are not tensors */
        return 0;
    hid_t obj = mpb_h5_open_linked(group, info);
    if (obj < 0) {
        mpb_h5_fail(w->err, MPB_EINVAL, "'%s': cannot open object '%s'", w->path, name);
        return -1;
    }
    int rc = MPB_OK;
    if (H5Iget_type(obj) == H5I_DATASET)
        rc = add_dataset(w, obj, name);
    else if (H5Iget_type(obj) == H5I_GROUP)
        rc = check_group(w, obj, name);
    H5Oclose(obj);
    return rc == MPB_OK ? 0 : -1;
}

static int check_format_attr(hid_t file, const char *path, mpb_error *err)
{
    if (H5Aexists(file, MPB_FORMAT_VERSION_ATTR) <= 0)
        return MPB_OK; /* a plain HDF5 file of tensors, e.g. written by h5py */
    int version = 0;
    hid_t attr = H5Aopen(file, MPB_FORMAT_VERSION_ATTR, H5P_DEFAULT);
    herr_t st = attr >= 0 ? H5Aread(attr, H5T_NATIVE_INT, &version) : -1;
    if (attr >= 0)
        H5Aclose(attr);
    if (st < 0)
        return mpb_h5_fail(err, MPB_EINVAL, "'%s': unreadable attribute '%s'", path,
                           MPB_FORMAT_VERSION_ATTR);
    if (version != MPB_FORMAT_VERSION)
        return mpb_fail(err, MPB_EINVAL,
                        "'%s' is mpiblend format version %d; this mpiblend reads version %d",
                        path, version, MPB_FORMAT_VERSION);
    return MPB_OK;
}

int mpb_h5_read_index(const char *path, mpb_index *idx, mpb_error *err)
{
    FILE *probe = fopen(path, "rb");
    if (probe == NULL)
        return mpb_fail(err, MPB_EINVAL, "cannot read '%s': %s", path, strerror(errno));
    fclose(probe);
    if (mpb_h5_is_hdf5(path) <= 0)
        return mpb_h5_fail(err, MPB_EINVAL, "'%s' is not an HDF5 file", path);
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0)
        return mpb_h5_fail(err, MPB_EINVAL, "cannot open '%s' as HDF5", path);
    int rc = check_format_attr(file, path, err);
    struct index_walk w = {path, idx, err};
    if (rc == MPB_OK &&
        mpb_h5_literate(file, H5_INDEX_NAME, H5_ITER_INC, NULL, visit_root_link, &w) < 0) {
        rc = err->code ? err->code
                       : mpb_h5_fail(err, MPB_EINVAL, "'%s': cannot list tensors", path);
    }
    if (H5Fclose(file) < 0 && rc == MPB_OK)
        rc = mpb_h5_fail(err, MPB_EIO, "cannot close '%s'", path);
    if (rc == MPB_OK && idx->n == 0)
        rc = mpb_fail(err, MPB_EINVAL, "'%s' holds no tensors", path);
    if (rc == MPB_OK)
        mpb_index_sort(idx);
    return rc;
}
