/* The HDF5 calls whose form changed between API lines, in one place, so the
 * same source builds against 1.10.x and against 1.12 and later (object
 * tokens instead of addresses) without H5_USE_*_API macros, and also under
 * -DH5_NO_DEPRECATED_SYMBOLS. */
#ifndef MPB_H5_COMPAT_H
#define MPB_H5_COMPAT_H

#include <hdf5.h>

#if H5_VERSION_GE(1, 12, 0)

/* A link as H5Literate reports it: since 1.12 it holds an object token. */
typedef H5L_info2_t mpb_h5_link_info;
#define mpb_h5_literate H5Literate2
#define mpb_h5_literate_by_name H5Literate_by_name2

/* Opens the object a hard link points to without looking its name up again. */
static inline hid_t mpb_h5_open_linked(hid_t group, const mpb_h5_link_info *info)
{
    return H5Oopen_by_token(group, info->u.token);
}

/* > 0 when path is an HDF5 file (H5Fis_hdf5 is deprecated since 1.12). */
static inline htri_t mpb_h5_is_hdf5(const char *path)
{
    return H5Fis_accessible(path, H5P_DEFAULT);
}

#else /* 1.10: links hold object addresses */

typedef H5L_info_t mpb_h5_link_info;
#define mpb_h5_literate H5Literate
#define mpb_h5_literate_by_name H5Literate_by_name

static inline hid_t mpb_h5_open_linked(hid_t group, const mpb_h5_link_info *info)
{
    return H5Oopen_by_addr(group, info->u.address);
}

static inline htri_t mpb_h5_is_hdf5(const char *path)
{
    return H5Fis_hdf5(path);
}

#endif

#endif
