/* Shape arithmetic shared by the header reader and writer. */
#include "mpb_safetensors.h"

#include <inttypes.h>
#include <stdio.h>

bool mpb_st_nbytes(mpb_dtype dt, int ndim, const uint64_t *shape, uint64_t *nbytes)
{
    uint64_t size = mpb_dtype_size(dt);
    if (size == 0 || ndim < 0 || ndim > MPB_ST_MAX_DIMS)
        return false;
    /* Multiply left to right and fail on the first overflow, as the
     * reference does: [2^40, 2^40, 0] is an overflow, not 0 bytes. */
    uint64_t numel = 1;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] != 0 && numel > UINT64_MAX / shape[d])
            return false;
        numel *= shape[d];
    }
    if (numel > UINT64_MAX / size)
        return false;
    *nbytes = numel * size;
    return true;
}

const char *mpb_st_shape_format(char *buf, size_t len, int ndim, const uint64_t *shape)
{
    if (len == 0)
        return buf;
    size_t at = (size_t)snprintf(buf, len, "[");
    for (int d = 0; d < ndim && at < len; d++)
        at += (size_t)snprintf(buf + at, len - at, d ? ", %" PRIu64 : "%" PRIu64, shape[d]);
    if (at < len)
        snprintf(buf + at, len - at, "]");
    return buf;
}
