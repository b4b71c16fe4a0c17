#include "mpb_index.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int mpb_index_add(mpb_index *idx, const char *name, mpb_dtype dt, int ndim,
                  const uint64_t *shape, mpb_error *err)
{
    if (ndim < 0 || ndim > MPB_MAX_DIMS)
        return mpb_fail(err, MPB_EINVAL, "tensor '%s' has %d dimensions (at most %d)", name,
                        ndim, MPB_MAX_DIMS);
    if (idx->n == idx->cap) {
        size_t cap = idx->cap ? idx->cap * 2 : 64;
        mpb_tensor *grown = realloc(idx->tensors, cap * sizeof *grown);
        if (grown == NULL)
            return mpb_fail(err, MPB_ENOMEM, "out of memory for the tensor index");
        idx->tensors = grown;
        idx->cap = cap;
    }
    mpb_tensor *t = &idx->tensors[idx->n];
    memset(t, 0, sizeof *t);
    t->name = strdup(name);
    if (t->name == NULL)
        return mpb_fail(err, MPB_ENOMEM, "out of memory for the tensor index");
    t->dtype = dt;
    t->ndim = ndim;
    for (int d = 0; d < ndim; d++)
        t->shape[d] = shape[d];
    t->data_offset = MPB_OFFSET_NONE;
    idx->n++;
    return MPB_OK;
}

int mpb_index_copy(mpb_index *dst, const mpb_index *src, mpb_error *err)
{
    int rc = MPB_OK;
    for (size_t i = 0; i < src->n && rc == MPB_OK; i++) {
        const mpb_tensor *t = &src->tensors[i];
        rc = mpb_index_add(dst, t->name, t->dtype, t->ndim, t->shape, err);
    }
    return rc;
}

void mpb_index_free(mpb_index *idx)
{
    for (size_t i = 0; i < idx->n; i++)
        free(idx->tensors[i].name);
    free(idx->tensors);
    memset(idx, 0, sizeof *idx);
}

uint64_t mpb_tensor_numel(const mpb_tensor *t)
{
    uint64_t n = 1;
    for (int d = 0; d < t->ndim; d++)
        n *= t->shape[d];
    return n;
}

uint64_t mpb_tensor_bytes(const mpb_tensor *t)
{
    return mpb_tensor_numel(t) * mpb_dtype_size(t->dtype);
}

uint64_t mpb_tensor_rows(const mpb_tensor *t)
{
    return t->ndim == 0 ? 1 : t->shape[0];
}

uint64_t mpb_tensor_row_bytes(const mpb_tensor *t)
{
    uint64_t n = mpb_dtype_size(t->dtype);
    for (int d = 1; d < t->ndim; d++)
        n *= t->shape[d];
    return n;
}

uint64_t mpb_index_total_bytes(const mpb_index *idx)
{
    uint64_t total = 0;
    for (size_t i = 0; i < idx->n; i++)
        total += mpb_tensor_bytes(&idx->tensors[i]);
    return total;
}

const char *mpb_shape_str(const mpb_tensor *t, char *buf, size_t len)
{
    size_t used = (size_t)snprintf(buf, len, "[");
    for (int d = 0; d < t->ndim && used < len; d++)
        used += (size_t)snprintf(buf + used, len - used, "%s%llu", d ? ", " : "",
                                 (unsigned long long)t->shape[d]);
    if (used < len)
        snprintf(buf + used, len - used, "]");
    return buf;
}

static int tensor_name_cmp(const void *a, const void *b)
{
    return strcmp(((const mpb_tensor *)a)->name, ((const mpb_tensor *)b)->name);
}

void mpb_index_sort(mpb_index *idx)
{
    if (idx->n > 1)
        qsort(idx->tensors, idx->n, sizeof *idx->tensors, tensor_name_cmp);
}

long mpb_index_find(const mpb_index *idx, const char *name)
{
    size_t lo = 0, hi = idx->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(idx->tensors[mid].name, name);
        if (c == 0)
            return (long)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

static int same_shape(const mpb_tensor *a, const mpb_tensor *b)
{
    if (a->ndim != b->ndim)
        return 0;
    for (int d = 0; d < a->ndim; d++)
        if (a->shape[d] != b->shape[d])
            return 0;
    return 1;
}

int mpb_index_check_same(const mpb_index *ref, const char *ref_path, const mpb_index *other,
                         const char *other_path, mpb_error *err)
{
    char sa[128], sb[128];
    for (size_t i = 0; i < ref->n; i++) {
        const mpb_tensor *a = &ref->tensors[i];
        long j = mpb_index_find(other, a->name);
        if (j < 0)
            return mpb_fail(err, MPB_EINVAL, "tensor '%s' is in '%s' but missing from '%s'",
                            a->name, ref_path, other_path);
        const mpb_tensor *b = &other->tensors[j];
        if (!same_shape(a, b))
            return mpb_fail(err, MPB_EINVAL, "tensor '%s' has shape %s in '%s' but %s in '%s'",
                            a->name, mpb_shape_str(a, sa, sizeof sa), ref_path,
                            mpb_shape_str(b, sb, sizeof sb), other_path);
        if (a->dtype != b->dtype)
            return mpb_fail(err, MPB_EINVAL, "tensor '%s' has dtype %s in '%s' but %s in '%s'",
                            a->name, mpb_dtype_name(a->dtype), ref_path,
                            mpb_dtype_name(b->dtype), other_path);
    }
    for (size_t j = 0; j < other->n; j++)
        if (mpb_index_find(ref, other->tensors[j].name) < 0)
            return mpb_fail(err, MPB_EINVAL, "tensor '%s' is in '%s' but missing from '%s'",
                            other->tensors[j].name, other_path, ref_path);
    return MPB_OK;
}

/* Packed record: u32 name length, name bytes, u32 dtype, u32 ndim, u64 dims,
 * u64 data offset. */
struct packer {
    unsigned char *buf;
    size_t len, cap;
};

static int put(struct packer *p, const void *src, size_t n)
{
    if (p->len + n > p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 4096;
        while (cap < p->len + n)
            cap *= 2;
        unsigned char *grown = realloc(p->buf, cap);
        if (grown == NULL)
            return -1;
        p->buf = grown;
        p->cap = cap;
    }
    memcpy(p->buf + p->len, src, n);
    p->len += n;
    return 0;
}

int mpb_index_pack(const mpb_index *idx, unsigned char **buf, size_t *len, mpb_error *err)
{
    struct packer p = {0};
    uint64_t count = idx->n;
    int bad = put(&p, &count, sizeof count);
    for (size_t i = 0; i < idx->n && !bad; i++) {
        const mpb_tensor *t = &idx->tensors[i];
        uint32_t head[3] = {(uint32_t)strlen(t->name), (uint32_t)t->dtype, (uint32_t)t->ndim};
        bad = put(&p, head, sizeof head) || put(&p, t->name, head[0]) ||
              put(&p, t->shape, sizeof(uint64_t) * (size_t)t->ndim) ||
              put(&p, &t->data_offset, sizeof t->data_offset);
    }
    if (bad) {
        free(p.buf);
        return mpb_fail(err, MPB_ENOMEM, "out of memory packing the tensor index");
    }
    *buf = p.buf;
    *len = p.len;
    return MPB_OK;
}

int mpb_index_unpack(const unsigned char *buf, size_t len, mpb_index *idx, mpb_error *err)
{
    size_t off = 0;
    uint64_t count;
    if (len < sizeof count)
        return mpb_fail(err, MPB_EINTERNAL, "packed tensor index is truncated");
    memcpy(&count, buf, sizeof count);
    off += sizeof count;
    char name[65536];
    for (uint64_t i = 0; i < count; i++) {
        uint32_t head[3];
        if (off + sizeof head > len)
            return mpb_fail(err, MPB_EINTERNAL, "packed tensor index is truncated");
        memcpy(head, buf + off, sizeof head);
        off += sizeof head;
        size_t dims_len = sizeof(uint64_t) * head[2];
        uint64_t data_offset;
        if (head[0] >= sizeof name || head[2] > MPB_MAX_DIMS ||
            off + head[0] + dims_len + sizeof data_offset > len)
            return mpb_fail(err, MPB_EINTERNAL, "packed tensor index is corrupt");
        memcpy(name, buf + off, head[0]);
        name[head[0]] = '\0';
        off += head[0];
        uint64_t shape[MPB_MAX_DIMS];
        memcpy(shape, buf + off, dims_len);
        off += dims_len;
        memcpy(&data_offset, buf + off, sizeof data_offset);
        off += sizeof data_offset;
        int rc = mpb_index_add(idx, name, (mpb_dtype)head[1], (int)head[2], shape, err);
        if (rc)
            return rc;
        idx->tensors[idx->n - 1].data_offset = data_offset;
    }
    return MPB_OK;
}
