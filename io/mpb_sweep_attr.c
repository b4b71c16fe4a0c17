/* Reading back the checksum attribute of a finished HDF5 output, serially,
 * to verify it on resume without reading its tensors. */
#include "mpb_h5_compat.h"
#include "mpb_sweep_manifest.h"

#include <hdf5.h>
#include <stdlib.h>
#include <string.h>

bool mpb_sweep_read_checksum_attr(const char *path, char *buf, size_t len)
{
    buf[0] = '\0';
    if (mpb_h5_is_hdf5(path) <= 0)
        return false;
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0)
        return false;
    bool ok = false;
    if (H5Aexists(file, MPB_CHECKSUM_ATTR) > 0) {
        hid_t attr = H5Aopen(file, MPB_CHECKSUM_ATTR, H5P_DEFAULT);
        hid_t type = attr >= 0 ? H5Aget_type(attr) : H5I_INVALID_HID;
        size_t size = type >= 0 ? H5Tget_size(type) : 0;
        if (type >= 0 && H5Tget_class(type) == H5T_STRING && !H5Tis_variable_str(type) &&
            size > 0 && size < len)
            ok = H5Aread(attr, type, buf) >= 0;
        if (ok)
            buf[size] = '\0';
        if (type >= 0)
            H5Tclose(type);
        if (attr >= 0)
            H5Aclose(attr);
    }
    H5Fclose(file);
    return ok;
}
