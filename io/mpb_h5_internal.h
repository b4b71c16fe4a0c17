/* Shared by the mpb_h5_*.c files only. */
#ifndef MPB_H5_INTERNAL_H
#define MPB_H5_INTERNAL_H

#include "mpb_error.h"
#include "mpb_index.h"

#include <hdf5.h>

/* A new HDF5 type id for dt (caller closes), or H5I_INVALID_HID. */
hid_t mpb_h5_type_new(mpb_dtype dt);
/* The dtype an HDF5 type stores, or MPB_DT_INVALID. */
mpb_dtype mpb_h5_type_dtype(hid_t type);

/* Records a failure whose cause is on HDF5's error stack: appends the
 * innermost HDF5 description, which is the one that says why. */
int mpb_h5_fail(mpb_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
