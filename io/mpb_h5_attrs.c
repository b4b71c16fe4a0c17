#include "mpb_h5_attrs.h"
#include "mpb_h5_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct attr_walk {
    const char *path;
    mpb_h5_attrs *out;
    mpb_error *err;
};

static int append(mpb_h5_attrs *a, const char *key, char *value, mpb_error *err)
{
    char **keys = realloc(a->keys, (a->n + 1) * sizeof *keys);
    if (keys != NULL)
        a->keys = keys;
    char **values = keys ? realloc(a->values, (a->n + 1) * sizeof *values) : NULL;
    if (values != NULL)
        a->values = values;
    char *k = values ? strdup(key) : NULL;
    if (k == NULL) {
        free(value);
        return mpb_fail(err, MPB_ENOMEM, "out of memory reading attribute '%s'", key);
    }
    a->keys[a->n] = k;
    a->values[a->n++] = value;
    return MPB_OK;
}

/* A malloc'd copy of a string attribute, or NULL. */
static char *read_string(hid_t attr, hid_t type)
{
    if (H5Tis_variable_str(type) > 0) {
        hid_t mem = H5Tcopy(H5T_C_S1);
        char *vl = NULL, *copy = NULL;
        if (mem >= 0 && H5Tset_size(mem, H5T_VARIABLE) >= 0 &&
            H5Tset_cset(mem, H5Tget_cset(type)) >= 0 && H5Aread(attr, mem, &vl) >= 0) {
            copy = strdup(vl ? vl : "");
            H5free_memory(vl);
        }
        if (mem >= 0)
            H5Tclose(mem);
        return copy;
    }
    size_t size = H5Tget_size(type);
    char *buf = size ? calloc(size + 1, 1) : NULL;
    if (buf != NULL && H5Aread(attr, type, buf) < 0) {
        free(buf);
        buf = NULL;
    }
    return buf;
}

static char *read_integer(hid_t attr)
{
    long long v;
    if (H5Aread(attr, H5T_NATIVE_LLONG, &v) < 0)
        return NULL;
    char text[32];
    snprintf(text, sizeof text, "%lld", v);
    return strdup(text);
}

static herr_t visit_attr(hid_t loc, const char *name, const H5A_info_t *info, void *data)
{
    (void)info;
    struct attr_walk *w = data;
    hid_t attr = H5Aopen(loc, name, H5P_DEFAULT);
    hid_t type = attr >= 0 ? H5Aget_type(attr) : H5I_INVALID_HID;
    hid_t space = attr >= 0 ? H5Aget_space(attr) : H5I_INVALID_HID;
    if (type < 0 || space < 0) {
        mpb_h5_fail(w->err, MPB_EINVAL, "'%s': cannot read attribute '%s'", w->path, name);
    } else if (H5Sget_simple_extent_npoints(space) == 1) {
        H5T_class_t kind = H5Tget_class(type);
        char *value = kind == H5T_STRING    ? read_string(attr, type)
                      : kind == H5T_INTEGER ? read_integer(attr)
                                            : NULL;
        if (kind == H5T_STRING || kind == H5T_INTEGER) {
            if (value == NULL)
                mpb_h5_fail(w->err, MPB_EINVAL, "'%s': cannot read attribute '%s'", w->path,
                            name);
            else
                append(w->out, name, value, w->err);
        }
    }
    if (space >= 0)
        H5Sclose(space);
    if (type >= 0)
        H5Tclose(type);
    if (attr >= 0)
        H5Aclose(attr);
    return w->err->code == MPB_OK ? 0 : -1;
}

int mpb_h5_attrs_read(const char *path, mpb_h5_attrs *out, mpb_error *err)
{
    memset(out, 0, sizeof *out);
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0)
        return mpb_h5_fail(err, MPB_EINVAL, "cannot open '%s' as HDF5", path);
    struct attr_walk w = {path, out, err};
    hsize_t at = 0;
    if (H5Aiterate2(file, H5_INDEX_NAME, H5_ITER_INC, &at, visit_attr, &w) < 0 &&
        err->code == MPB_OK)
        mpb_h5_fail(err, MPB_EINVAL, "'%s': cannot list the root attributes", path);
    H5Fclose(file);
    if (err->code != MPB_OK)
        mpb_h5_attrs_free(out);
    return err->code;
}

void mpb_h5_attrs_free(mpb_h5_attrs *a)
{
    for (size_t i = 0; i < a->n; i++) {
        free(a->keys[i]);
        free(a->values[i]);
    }
    free(a->keys);
    free(a->values);
    memset(a, 0, sizeof *a);
}
