#include "mpb_checksum.h"

#include "mpb_crc32c.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mpb_checksum_format(uint32_t crc, char buf[MPB_CHECKSUM_TEXT_MAX])
{
    snprintf(buf, MPB_CHECKSUM_TEXT_MAX, "crc32c:%08x", (unsigned)crc);
}

bool mpb_checksum_parse(const char *text, uint32_t *crc)
{
    if (strncmp(text, "crc32c:", 7) != 0 || strlen(text) != 15)
        return false;
    uint32_t v = 0;
    for (const char *p = text + 7; *p; p++) {
        int d = (*p >= '0' && *p <= '9')   ? *p - '0'
                : (*p >= 'a' && *p <= 'f') ? *p - 'a' + 10
                                           : -1;
        if (d < 0)
            return false;
        v = v << 4 | (uint32_t)d;
    }
    *crc = v;
    return true;
}

int mpb_checksum_slots_init(mpb_checksum_slots *s, size_t n, mpb_error *err)
{
    s->n = n;
    s->crc = calloc(n ? n : 1, sizeof *s->crc);
    s->len = calloc(n ? n : 1, sizeof *s->len);
    if (s->crc == NULL || s->len == NULL) {
        mpb_checksum_slots_free(s);
        return mpb_fail(err, MPB_ENOMEM, "out of memory for %zu checksums", n);
    }
    return MPB_OK;
}

void mpb_checksum_slots_add(mpb_checksum_slots *s, size_t slot, const void *buf, uint64_t len)
{
    /* mpb_crc32c takes size_t lengths; a slab never exceeds 1 GiB. */
    uint32_t piece = mpb_crc32c(0, buf, (size_t)len);
    s->crc[slot] = mpb_crc32c_combine(s->crc[slot], piece, len);
    s->len[slot] += len;
}

uint32_t mpb_checksum_slots_join(const mpb_checksum_slots *s, size_t first, size_t count)
{
    uint32_t crc = 0;
    for (size_t k = first; k < first + count; k++)
        crc = mpb_crc32c_combine(crc, s->crc[k], s->len[k]);
    return crc;
}

void mpb_checksum_slots_free(mpb_checksum_slots *s)
{
    free(s->crc);
    free(s->len);
    s->crc = NULL;
    s->len = NULL;
    s->n = 0;
}

int mpb_checksum_add_tensor(mpb_checksum_slots *s, size_t slot, const mpb_store *store,
                            const mpb_index *idx, size_t t, void *buf, uint64_t buf_bytes,
                            mpb_error *err)
{
    const mpb_tensor *tensor = &idx->tensors[t];
    uint64_t rows = mpb_tensor_rows(tensor), row_bytes = mpb_tensor_row_bytes(tensor);
    if (row_bytes == 0)
        return MPB_OK;
    uint64_t per_read = buf_bytes / row_bytes;
    if (per_read == 0)
        return mpb_fail(err, MPB_EINTERNAL, "checksum buffer smaller than a row of '%s'",
                        tensor->name);
    for (uint64_t row = 0; row < rows; row += per_read) {
        uint64_t n = rows - row < per_read ? rows - row : per_read;
        int rc = store->ops->read_rows(store->handle, t, row, n, buf, err);
        if (rc != MPB_OK)
            return rc;
        mpb_checksum_slots_add(s, slot, buf, n * row_bytes);
    }
    return MPB_OK;
}
