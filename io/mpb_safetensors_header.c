/* Parses and validates a safetensors header held in memory.
 *
 * The rules are the reference implementation's (safetensors/src/tensor.rs,
 * SafeTensors::read_metadata and Metadata::validate); docs/SAFETENSORS.md
 * lists them with the few places where mpiblend is stricter. */
#include "mpb_safetensors.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* dtypes the reference knows but mpiblend cannot hold. */
static const char *const unsupported_dtypes[] = {"F4", "F6_E2M3", "F6_E3M2", "F8_E8M0", "C64"};

static const char *json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return json_integer_value(v) < 0 ? "a negative integer" : "an integer";
    case JSON_REAL: return "a real number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

/* serde reads shape and offsets as usize: non-negative integers only. */
static bool json_u64(const json_t *v, uint64_t *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return false;
    *out = (uint64_t)json_integer_value(v);
    return true;
}

static int parse_dtype(const char *path, const char *name, const json_t *v, mpb_dtype *dt,
                       mpb_error *err)
{
    if (v == NULL)
        return mpb_fail(err, MPB_EINVAL, "%s: tensor '%s': missing \"dtype\"", path, name);
    if (!json_is_string(v))
        return mpb_fail(err, MPB_EINVAL, "%s: tensor '%s': \"dtype\" is %s, not a string", path,
                        name, json_kind(v));
    const char *s = json_string_value(v);
    /* mpb_dtype_parse also takes "bf16" and "bfloat16"; a header must use
     * the exact safetensors spelling, as serde's enum matching does. */
    mpb_dtype d = mpb_dtype_parse(s);
    if (d != MPB_DT_INVALID && strcmp(mpb_dtype_safetensors_name(d), s) == 0) {
        *dt = d;
        return MPB_OK;
    }
    for (size_t i = 0; i < sizeof unsupported_dtypes / sizeof *unsupported_dtypes; i++)
        if (strcmp(s, unsupported_dtypes[i]) == 0)
            return mpb_fail(err, MPB_EINVAL,
                            "%s: tensor '%s': dtype %s is not supported by mpiblend", path,
                            name, s);
    return mpb_fail(err, MPB_EINVAL, "%s: tensor '%s': unknown dtype '%s'", path, name, s);
}

static int parse_shape(const char *path, const char *name, const json_t *v, mpb_st_tensor *t,
                       mpb_error *err)
{
    if (v == NULL)
        return mpb_fail(err, MPB_EINVAL, "%s: tensor '%s': missing \"shape\"", path, name);
    if (!json_is_array(v))
        return mpb_fail(err, MPB_EINVAL, "%s: tensor '%s': \"shape\" is %s, not an array", path,
                        name, json_kind(v));
    size_t ndim = json_array_size(v);
    if (ndim > MPB_ST_MAX_DIMS)
        return mpb_fail(
            err, MPB_EINVAL,
            "%s: tensor '%s': shape has %zu dimensions; mpiblend supports at most %d", path,
            name, ndim, MPB_ST_MAX_DIMS);
    for (size_t d = 0; d < ndim; d++) {
        const json_t *e = json_array_get(v, d);
        if (!json_u64(e, &t->shape[d]))
            return mpb_fail(
                err, MPB_EINVAL,
                "%s: tensor '%s': shape element %zu is %s, not a non-negative integer", path,
                name, d, json_kind(e));
    }
    t->ndim = (int)ndim;
    return MPB_OK;
}

/* Stores the offsets relative to the data buffer; made absolute at the end. */
static int parse_offsets(const char *path, const char *name, const json_t *v, mpb_st_tensor *t,
                         mpb_error *err)
{
    if (v == NULL)
        return mpb_fail(err, MPB_EINVAL, "%s: tensor '%s': missing \"data_offsets\"", path,
                        name);
    if (!json_is_array(v) || json_array_size(v) != 2)
        return mpb_fail(err, MPB_EINVAL,
                        "%s: tensor '%s': \"data_offsets\" must be [begin, end], not %s%s",
                        path, name, json_kind(v), json_is_array(v) ? " of another length" : "");
    if (!json_u64(json_array_get(v, 0), &t->begin) || !json_u64(json_array_get(v, 1), &t->end))
        return mpb_fail(err, MPB_EINVAL,
                        "%s: tensor '%s': data_offsets must be non-negative integers", path,
                        name);
    return MPB_OK;
}

static int parse_tensor(const char *path, const char *name, const json_t *v, mpb_st_tensor *t,
                        mpb_error *err)
{
    if (!json_is_object(v))
        return mpb_fail(err, MPB_EINVAL, "%s: tensor '%s': entry is %s, not an object", path,
                        name, json_kind(v));
    t->name = strdup(name);
    if (t->name == NULL)
        return mpb_fail(err, MPB_ENOMEM, "%s: out of memory", path);
    /* Other keys are ignored, as serde ignores unknown fields. */
    int rc = parse_dtype(path, name, json_object_get(v, "dtype"), &t->dtype, err);
    if (rc == MPB_OK)
        rc = parse_shape(path, name, json_object_get(v, "shape"), t, err);
    if (rc == MPB_OK)
        rc = parse_offsets(path, name, json_object_get(v, "data_offsets"), t, err);
    return rc;
}

static int parse_meta(const char *path, const json_t *v, mpb_st_file *f, mpb_error *err)
{
    /* MLX writes null; the reference reads it as "no metadata". */
    if (json_is_null(v))
        return MPB_OK;
    if (!json_is_object(v))
        return mpb_fail(err, MPB_EINVAL, "%s: __metadata__ is %s, not an object of strings",
                        path, json_kind(v));
    size_t n = json_object_size(v);
    f->meta_keys = calloc(n + 1, sizeof *f->meta_keys);
    f->meta_values = calloc(n + 1, sizeof *f->meta_values);
    if (f->meta_keys == NULL || f->meta_values == NULL)
        return mpb_fail(err, MPB_ENOMEM, "%s: out of memory", path);
    const char *key;
    const json_t *val;
    json_object_foreach((json_t *)v, key, val)
    {
        if (!json_is_string(val))
            return mpb_fail(err, MPB_EINVAL, "%s: __metadata__ key '%s' is %s, not a string",
                            path, key, json_kind(val));
        size_t i = f->n_meta++;
        f->meta_keys[i] = strdup(key);
        f->meta_values[i] = strdup(json_string_value(val));
        if (f->meta_keys[i] == NULL || f->meta_values[i] == NULL)
            return mpb_fail(err, MPB_ENOMEM, "%s: out of memory", path);
    }
    return MPB_OK;
}

static int check_size(const char *path, const mpb_st_tensor *t, uint64_t data_len,
                      mpb_error *err)
{
    char shape[MPB_ST_SHAPE_STR_MAX];
    const char *dt = mpb_dtype_safetensors_name(t->dtype);
    uint64_t nbytes;
    if (t->end < t->begin)
        return mpb_fail(err, MPB_EINVAL,
                        "%s: tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64
                        "] end before they begin",
                        path, t->name, t->begin, t->end);
    if (!mpb_st_nbytes(t->dtype, t->ndim, t->shape, &nbytes))
        return mpb_fail(err, MPB_EINVAL, "%s: tensor '%s': shape %s x %s overflows 64 bits",
                        path, t->name,
                        mpb_st_shape_format(shape, sizeof shape, t->ndim, t->shape), dt);
    if (t->end - t->begin != nbytes)
        return mpb_fail(err, MPB_EINVAL,
                        "%s: tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64
                        "] do not match shape %s x %s (%" PRIu64 " bytes)",
                        path, t->name, t->begin, t->end,
                        mpb_st_shape_format(shape, sizeof shape, t->ndim, t->shape), dt,
                        nbytes);
    if (t->end > data_len)
        return mpb_fail(err, MPB_EINVAL,
                        "%s: tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64
                        "] run past the end of the data buffer (%" PRIu64 " bytes)",
                        path, t->name, t->begin, t->end, data_len);
    return MPB_OK;
}

static int by_offsets(const void *a, const void *b)
{
    const mpb_st_tensor *x = *(const mpb_st_tensor *const *)a;
    const mpb_st_tensor *y = *(const mpb_st_tensor *const *)b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    return (x->end > y->end) - (x->end < y->end);
}

/* Sorted by (begin, end), the tensors must cover [0, data_len) with no hole
 * and no overlap; empty tensors may sit anywhere on a boundary. */
static int check_tiling(const char *path, const mpb_st_file *f, uint64_t data_len,
                        mpb_error *err)
{
    const mpb_st_tensor **order = malloc((f->n_tensors + 1) * sizeof *order);
    if (order == NULL)
        return mpb_fail(err, MPB_ENOMEM, "%s: out of memory", path);
    for (size_t i = 0; i < f->n_tensors; i++)
        order[i] = &f->tensors[i];
    qsort(order, f->n_tensors, sizeof *order, by_offsets);
    int rc = MPB_OK;
    uint64_t pos = 0;
    const mpb_st_tensor *prev = NULL;
    for (size_t i = 0; i < f->n_tensors && rc == MPB_OK; i++) {
        const mpb_st_tensor *t = order[i];
        if (t->begin > pos && prev == NULL)
            rc = mpb_fail(err, MPB_EINVAL,
                          "%s: bytes [0, %" PRIu64 ") of the data buffer, before tensor '%s', "
                          "belong to no tensor",
                          path, t->begin, t->name);
        else if (t->begin > pos)
            rc = mpb_fail(err, MPB_EINVAL,
                          "%s: bytes [%" PRIu64 ", %" PRIu64 ") of the data buffer, between "
                          "tensors '%s' and '%s', belong to no tensor",
                          path, pos, t->begin, prev->name, t->name);
        else if (t->begin < pos)
            rc = mpb_fail(err, MPB_EINVAL,
                          "%s: tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64
                          "] overlap tensor '%s' [%" PRIu64 ", %" PRIu64 "]",
                          path, t->name, t->begin, t->end, prev->name, prev->begin, prev->end);
        pos = t->end;
        prev = t;
    }
    free(order);
    if (rc != MPB_OK || pos == data_len)
        return rc;
    if (prev == NULL)
        return mpb_fail(err, MPB_EINVAL,
                        "%s: the header lists no tensors but the data buffer holds %" PRIu64
                        " bytes",
                        path, data_len);
    return mpb_fail(err, MPB_EINVAL,
                    "%s: bytes [%" PRIu64 ", %" PRIu64 ") at the end of the data buffer, after "
                    "tensor '%s', belong to no tensor",
                    path, pos, data_len, prev->name);
}

static int parse_root(const char *path, const json_t *root, mpb_st_file *f, mpb_error *err)
{
    if (!json_is_object(root))
        return mpb_fail(err, MPB_EINVAL, "%s: header is %s, not an object", path,
                        json_kind(root));
    f->tensors = calloc(json_object_size(root) + 1, sizeof *f->tensors);
    if (f->tensors == NULL)
        return mpb_fail(err, MPB_ENOMEM, "%s: out of memory", path);
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)root, key, v)
    {
        int rc = strcmp(key, "__metadata__") == 0
                     ? parse_meta(path, v, f, err)
                     : parse_tensor(path, key, v, &f->tensors[f->n_tensors++], err);
        if (rc != MPB_OK)
            return rc;
    }
    uint64_t data_len = f->file_size - f->data_start;
    for (size_t i = 0; i < f->n_tensors; i++) {
        int rc = check_size(path, &f->tensors[i], data_len, err);
        if (rc != MPB_OK)
            return rc;
    }
    int rc = check_tiling(path, f, data_len, err);
    for (size_t i = 0; i < f->n_tensors; i++) {
        f->tensors[i].begin += f->data_start;
        f->tensors[i].end += f->data_start;
    }
    return rc;
}

static int json_failure(const char *path, const json_error_t *je, mpb_error *err)
{
    switch (json_error_code(je)) {
    case json_error_invalid_utf8:
        return mpb_fail(err, MPB_EINVAL, "%s: header is not valid UTF-8 (%s, at byte %d)", path,
                        je->text, je->position);
    case json_error_duplicate_key:
        return mpb_fail(err, MPB_EINVAL, "%s: header has a duplicate key (%s)", path, je->text);
    case json_error_out_of_memory:
        return mpb_fail(err, MPB_ENOMEM, "%s: out of memory parsing the header", path);
    default:
        return mpb_fail(err, MPB_EINVAL, "%s: header is not valid JSON (%s, at byte %d)", path,
                        je->text, je->position);
    }
}

int mpb_st_parse_header(const char *path, const unsigned char *buf, size_t buf_len,
                        uint64_t file_size, mpb_st_file *out, mpb_error *err)
{
    memset(out, 0, sizeof *out);
    if (file_size < 8)
        return mpb_fail(err, MPB_EINVAL,
                        "%s: file is %" PRIu64 " bytes, too short for the 8-byte header length",
                        path, file_size);
    if (buf_len < 8)
        return mpb_fail(err, MPB_EINTERNAL, "%s: only %zu bytes of the header were given", path,
                        buf_len);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = n << 8 | buf[i];
    if (n > MPB_ST_MAX_HEADER)
        return mpb_fail(err, MPB_EINVAL,
                        "%s: header length %" PRIu64
                        " exceeds the safetensors limit of %u bytes",
                        path, n, MPB_ST_MAX_HEADER);
    if (n > file_size - 8)
        return mpb_fail(err, MPB_EINVAL,
                        "%s: header length %" PRIu64 " runs past the end of the file (%" PRIu64
                        " bytes)",
                        path, n, file_size);
    if (n > buf_len - 8)
        return mpb_fail(err, MPB_EINTERNAL, "%s: only %zu bytes of the header were given", path,
                        buf_len);
    out->path = strdup(path);
    if (out->path == NULL)
        return mpb_fail(err, MPB_ENOMEM, "%s: out of memory", path);
    out->header_len = n;
    out->data_start = 8 + n;
    out->file_size = file_size;

    /* Leading and trailing JSON whitespace pass, as with serde_json: the
     * reference has never enforced the spec's "must start with {". */
    json_error_t je;
    json_t *root = json_loadb((const char *)buf + 8, (size_t)n,
                              JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    int rc = root == NULL ? json_failure(path, &je, err) : parse_root(path, root, out, err);
    json_decref(root);
    if (rc != MPB_OK)
        mpb_st_file_free(out);
    return rc;
}

void mpb_st_file_free(mpb_st_file *f)
{
    if (f == NULL)
        return;
    free(f->path);
    for (size_t i = 0; i < f->n_tensors; i++)
        free(f->tensors[i].name);
    free(f->tensors);
    for (size_t i = 0; i < f->n_meta; i++) {
        free(f->meta_keys[i]);
        free(f->meta_values[i]);
    }
    free(f->meta_keys);
    free(f->meta_values);
    memset(f, 0, sizeof *f);
}
