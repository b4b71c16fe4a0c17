/* Builds a safetensors header the way the reference writer lays it out
 * (safetensors/src/tensor.rs, prepare): tensors sorted by dtype alignment,
 * largest first, then by name; data packed from offset 0; the JSON padded
 * with spaces to a multiple of 8 bytes. */
#include "mpb_safetensors.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* Position in the reference's Dtype enum, declared in increasing alignment;
 * 0 marks a dtype the format cannot hold. */
static const int reference_rank[MPB_DT_COUNT] = {
    [MPB_DT_BOOL] = 1,    [MPB_DT_U8] = 2,   [MPB_DT_I8] = 3,   [MPB_DT_F8_E5M2] = 4,
    [MPB_DT_F8_E4M3] = 5, [MPB_DT_I16] = 6,  [MPB_DT_U16] = 7,  [MPB_DT_F16] = 8,
    [MPB_DT_BF16] = 9,    [MPB_DT_I32] = 10, [MPB_DT_U32] = 11, [MPB_DT_F32] = 12,
    [MPB_DT_F64] = 13,    [MPB_DT_I64] = 14, [MPB_DT_U64] = 15,
};

static int rank_of(mpb_dtype dt)
{
    return dt > MPB_DT_INVALID && dt < MPB_DT_COUNT ? reference_rank[dt] : 0;
}

static int by_layout(const void *a, const void *b)
{
    const mpb_st_tensor *x = *(const mpb_st_tensor *const *)a;
    const mpb_st_tensor *y = *(const mpb_st_tensor *const *)b;
    int rx = rank_of(x->dtype), ry = rank_of(y->dtype);
    if (rx != ry)
        return ry - rx;
    return strcmp(x->name, y->name);
}

static int check_tensor(const mpb_st_tensor *t, size_t i, mpb_error *err)
{
    uint64_t nbytes;
    if (t->name == NULL)
        return mpb_fail(err, MPB_EINVAL, "safetensors writer: tensor %zu has no name", i);
    if (strcmp(t->name, "__metadata__") == 0)
        return mpb_fail(
            err, MPB_EINVAL,
            "safetensors writer: '__metadata__' is reserved and cannot name a tensor");
    if (rank_of(t->dtype) == 0)
        return mpb_fail(err, MPB_EINVAL, "safetensors writer: tensor '%s' has an invalid dtype",
                        t->name);
    if (!mpb_st_nbytes(t->dtype, t->ndim, t->shape, &nbytes) || nbytes > INT64_MAX)
        return mpb_fail(err, MPB_EINVAL,
                        "safetensors writer: tensor '%s': bad rank or byte size out of range",
                        t->name);
    for (int d = 0; d < t->ndim; d++)
        if (t->shape[d] > INT64_MAX)
            return mpb_fail(err, MPB_EINVAL,
                            "safetensors writer: tensor '%s': dimension %d is out of range",
                            t->name, d);
    return MPB_OK;
}

static int add_metadata(json_t *root, const char *const *keys, const char *const *values,
                        size_t n, mpb_error *err)
{
    if (n == 0)
        return MPB_OK;
    json_t *meta = json_object();
    if (json_object_set_new(root, "__metadata__", meta) != 0)
        return mpb_fail(err, MPB_ENOMEM, "safetensors writer: out of memory");
    for (size_t i = 0; i < n; i++) {
        if (json_object_get(meta, keys[i]) != NULL)
            return mpb_fail(err, MPB_EINVAL, "safetensors writer: metadata key '%s' repeats",
                            keys[i]);
        if (json_object_set_new(meta, keys[i], json_string(values[i])) != 0)
            return mpb_fail(err, MPB_EINVAL,
                            "safetensors writer: metadata '%s' is not valid UTF-8", keys[i]);
    }
    return MPB_OK;
}

/* Sets each tensor's begin/end relative to the data buffer. */
static int add_tensor(json_t *root, mpb_st_tensor *t, uint64_t *offset, mpb_error *err)
{
    uint64_t nbytes;
    mpb_st_nbytes(t->dtype, t->ndim, t->shape, &nbytes);
    if (*offset > INT64_MAX - nbytes)
        return mpb_fail(err, MPB_EINVAL, "safetensors writer: tensor data exceeds 2^63 bytes");
    if (json_object_get(root, t->name) != NULL)
        return mpb_fail(err, MPB_EINVAL, "safetensors writer: tensor name '%s' repeats",
                        t->name);
    t->begin = *offset;
    t->end = *offset + nbytes;
    *offset = t->end;
    json_t *shape = json_array();
    for (int d = 0; d < t->ndim; d++)
        json_array_append_new(shape, json_integer((json_int_t)t->shape[d]));
    json_t *entry =
        json_pack("{s:s, s:o, s:[I, I]}", "dtype", mpb_dtype_safetensors_name(t->dtype),
                  "shape", shape, "data_offsets", (json_int_t)t->begin, (json_int_t)t->end);
    if (json_object_set_new(root, t->name, entry) != 0)
        return mpb_fail(err, MPB_EINVAL,
                        "safetensors writer: tensor name '%s' is not valid UTF-8", t->name);
    return MPB_OK;
}

static int dump_padded(const json_t *root, char **header, uint64_t *header_len, mpb_error *err)
{
    char *text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (text == NULL)
        return mpb_fail(err, MPB_ENOMEM, "safetensors writer: out of memory");
    size_t len = strlen(text), padded = (len + 7) / 8 * 8;
    if (padded > MPB_ST_MAX_HEADER) {
        free(text);
        return mpb_fail(err, MPB_EINVAL,
                        "safetensors writer: header of %zu bytes exceeds the %u-byte limit",
                        padded, MPB_ST_MAX_HEADER);
    }
    char *grown = realloc(text, padded + 1);
    if (grown == NULL) {
        free(text);
        return mpb_fail(err, MPB_ENOMEM, "safetensors writer: out of memory");
    }
    memset(grown + len, ' ', padded - len);
    grown[padded] = '\0';
    *header = grown;
    *header_len = padded;
    return MPB_OK;
}

int mpb_st_header_build(mpb_st_tensor *tensors, size_t n, const char *const *meta_keys,
                        const char *const *meta_values, size_t n_meta, char **header,
                        uint64_t *header_len, mpb_error *err)
{
    *header = NULL;
    *header_len = 0;
    for (size_t i = 0; i < n; i++) {
        int rc = check_tensor(&tensors[i], i, err);
        if (rc != MPB_OK)
            return rc;
    }
    mpb_st_tensor **order = malloc((n + 1) * sizeof *order);
    json_t *root = json_object();
    int rc = order == NULL || root == NULL
                 ? mpb_fail(err, MPB_ENOMEM, "safetensors writer: out of memory")
                 : add_metadata(root, meta_keys, meta_values, n_meta, err);
    if (rc == MPB_OK) {
        for (size_t i = 0; i < n; i++)
            order[i] = &tensors[i];
        qsort(order, n, sizeof *order, by_layout);
    }
    uint64_t offset = 0;
    for (size_t i = 0; i < n && rc == MPB_OK; i++)
        rc = add_tensor(root, order[i], &offset, err);
    if (rc == MPB_OK)
        rc = dump_padded(root, header, header_len, err);
    for (size_t i = 0; i < n && rc == MPB_OK; i++) {
        tensors[i].begin += 8 + *header_len;
        tensors[i].end += 8 + *header_len;
    }
    json_decref(root);
    free(order);
    return rc;
}
