/* HDF5 types for mpiblend's dtypes, and HDF5 error reporting. */
#include "mpb_h5.h"
#include "mpb_h5_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define OPAQUE_TAG_PREFIX "mpiblend:"

void mpb_h5_quiet(void)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

/* A 16-bit float derived from binary32 (HDF5 1.10 predefines neither
 * bfloat16 nor binary16).  Fields first, then size, or HDF5 rejects the
 * intermediate state. */
static hid_t float16_type_new(size_t epos, size_t esize, size_t msize, size_t ebias)
{
    hid_t t = H5Tcopy(H5T_IEEE_F32LE);
    if (t < 0)
        return H5I_INVALID_HID;
    if (H5Tset_fields(t, 15, epos, esize, 0, msize) < 0 || H5Tset_size(t, 2) < 0 ||
        H5Tset_precision(t, 16) < 0 || H5Tset_ebias(t, ebias) < 0) {
        H5Tclose(t);
        return H5I_INVALID_HID;
    }
    return t;
}

/* Booleans as h5py writes them: an int8 enum FALSE=0, TRUE=1. */
static hid_t bool_type_new(void)
{
    hid_t t = H5Tenum_create(H5T_STD_I8LE);
    signed char no = 0, yes = 1;
    if (t < 0 || H5Tenum_insert(t, "FALSE", &no) < 0 || H5Tenum_insert(t, "TRUE", &yes) < 0) {
        if (t >= 0)
            H5Tclose(t);
        return H5I_INVALID_HID;
    }
    return t;
}

/* FP8 has no HDF5 float equivalent that readers agree on: an opaque byte
 * tagged with its safetensors name keeps it exact. */
static hid_t fp8_type_new(mpb_dtype dt)
{
    hid_t t = H5Tcreate(H5T_OPAQUE, 1);
    char tag[64];
    snprintf(tag, sizeof tag, OPAQUE_TAG_PREFIX "%s", mpb_dtype_safetensors_name(dt));
    if (t < 0 || H5Tset_tag(t, tag) < 0) {
        if (t >= 0)
            H5Tclose(t);
        return H5I_INVALID_HID;
    }
    return t;
}

hid_t mpb_h5_type_new(mpb_dtype dt)
{
    switch (dt) {
    case MPB_DT_BF16: return float16_type_new(7, 8, 7, 127);
    case MPB_DT_F16: return float16_type_new(10, 5, 10, 15);
    case MPB_DT_F32: return H5Tcopy(H5T_IEEE_F32LE);
    case MPB_DT_F64: return H5Tcopy(H5T_IEEE_F64LE);
    case MPB_DT_BOOL: return bool_type_new();
    case MPB_DT_U8: return H5Tcopy(H5T_STD_U8LE);
    case MPB_DT_I8: return H5Tcopy(H5T_STD_I8LE);
    case MPB_DT_U16: return H5Tcopy(H5T_STD_U16LE);
    case MPB_DT_I16: return H5Tcopy(H5T_STD_I16LE);
    case MPB_DT_U32: return H5Tcopy(H5T_STD_U32LE);
    case MPB_DT_I32: return H5Tcopy(H5T_STD_I32LE);
    case MPB_DT_U64: return H5Tcopy(H5T_STD_U64LE);
    case MPB_DT_I64: return H5Tcopy(H5T_STD_I64LE);
    case MPB_DT_F8_E4M3:
    case MPB_DT_F8_E5M2: return fp8_type_new(dt);
    default: return H5I_INVALID_HID;
    }
}

static mpb_dtype float_dtype(hid_t type)
{
    size_t spos, epos, esize, mpos, msize;
    if (H5Tget_order(type) != H5T_ORDER_LE ||
        H5Tget_fields(type, &spos, &epos, &esize, &mpos, &msize) < 0)
        return MPB_DT_INVALID;
    size_t size = H5Tget_size(type);
    size_t ebias = H5Tget_ebias(type);
    if (size == 2 && spos == 15 && epos == 7 && esize == 8 && mpos == 0 && msize == 7 &&
        ebias == 127)
        return MPB_DT_BF16;
    if (size == 2 && spos == 15 && epos == 10 && esize == 5 && mpos == 0 && msize == 10 &&
        ebias == 15)
        return MPB_DT_F16;
    if (size == 4 && spos == 31 && epos == 23 && esize == 8 && msize == 23 && ebias == 127)
        return MPB_DT_F32;
    if (size == 8 && spos == 63 && epos == 52 && esize == 11 && msize == 52 && ebias == 1023)
        return MPB_DT_F64;
    return MPB_DT_INVALID;
}

static mpb_dtype integer_dtype(hid_t type)
{
    if (H5Tget_order(type) != H5T_ORDER_LE && H5Tget_size(type) > 1)
        return MPB_DT_INVALID;
    int is_signed = H5Tget_sign(type) == H5T_SGN_2;
    switch (H5Tget_size(type)) {
    case 1: return is_signed ? MPB_DT_I8 : MPB_DT_U8;
    case 2: return is_signed ? MPB_DT_I16 : MPB_DT_U16;
    case 4: return is_signed ? MPB_DT_I32 : MPB_DT_U32;
    case 8: return is_signed ? MPB_DT_I64 : MPB_DT_U64;
    default: return MPB_DT_INVALID;
    }
}

static mpb_dtype opaque_dtype(hid_t type)
{
    char *tag = H5Tget_tag(type);
    mpb_dtype dt = MPB_DT_INVALID;
    if (tag && !strncmp(tag, OPAQUE_TAG_PREFIX, strlen(OPAQUE_TAG_PREFIX)))
        dt = mpb_dtype_parse(tag + strlen(OPAQUE_TAG_PREFIX));
    H5free_memory(tag);
    return dt;
}

mpb_dtype mpb_h5_type_dtype(hid_t type)
{
    switch (H5Tget_class(type)) {
    case H5T_FLOAT: return float_dtype(type);
    case H5T_INTEGER: return integer_dtype(type);
    case H5T_ENUM: return H5Tget_size(type) == 1 ? MPB_DT_BOOL : MPB_DT_INVALID;
    case H5T_OPAQUE: return opaque_dtype(type);
    default: return MPB_DT_INVALID;
    }
}

static herr_t innermost_desc(unsigned n, const H5E_error2_t *e, void *data)
{
    if (n == 0 && e->desc != NULL)
        snprintf((char *)data, 256, "%s", e->desc);
    return 0;
}

int mpb_h5_fail(mpb_error *err, int code, const char *fmt, ...)
{
    char what[MPB_ERROR_MSG_MAX - 300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    char cause[256] = "";
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, innermost_desc, cause);
    H5Eclear2(H5E_DEFAULT);
    if (cause[0])
        return mpb_fail(err, code, "%s (HDF5: %s)", what, cause);
    return mpb_fail(err, code, "%s", what);
}
