#include "mpb_dtype.h"

#include <string.h>

struct dtype_desc {
    const char *name, *st_name, *torch_name;
    size_t size;
};

static const struct dtype_desc dtype_table[MPB_DT_COUNT] = {
    [MPB_DT_BOOL] = {"bool", "BOOL", "bool", 1},
    [MPB_DT_U8] = {"u8", "U8", "uint8", 1},
    [MPB_DT_I8] = {"i8", "I8", "int8", 1},
    [MPB_DT_U16] = {"u16", "U16", "uint16", 2},
    [MPB_DT_I16] = {"i16", "I16", "int16", 2},
    [MPB_DT_U32] = {"u32", "U32", "uint32", 4},
    [MPB_DT_I32] = {"i32", "I32", "int32", 4},
    [MPB_DT_U64] = {"u64", "U64", "uint64", 8},
    [MPB_DT_I64] = {"i64", "I64", "int64", 8},
    [MPB_DT_F8_E4M3] = {"f8_e4m3", "F8_E4M3", "float8_e4m3fn", 1},
    [MPB_DT_F8_E5M2] = {"f8_e5m2", "F8_E5M2", "float8_e5m2", 1},
    [MPB_DT_F16] = {"f16", "F16", "float16", 2},
    [MPB_DT_BF16] = {"bf16", "BF16", "bfloat16", 2},
    [MPB_DT_F32] = {"f32", "F32", "float32", 4},
    [MPB_DT_F64] = {"f64", "F64", "float64", 8},
};

static bool valid(mpb_dtype dt)
{
    return dt > MPB_DT_INVALID && dt < MPB_DT_COUNT;
}

size_t mpb_dtype_size(mpb_dtype dt)
{
    return valid(dt) ? dtype_table[dt].size : 0;
}

const char *mpb_dtype_name(mpb_dtype dt)
{
    return valid(dt) ? dtype_table[dt].name : "invalid";
}

const char *mpb_dtype_safetensors_name(mpb_dtype dt)
{
    return valid(dt) ? dtype_table[dt].st_name : "INVALID";
}

const char *mpb_dtype_torch_name(mpb_dtype dt)
{
    return valid(dt) ? dtype_table[dt].torch_name : "invalid";
}

mpb_dtype mpb_dtype_parse(const char *name)
{
    if (name == NULL)
        return MPB_DT_INVALID;
    for (int dt = MPB_DT_INVALID + 1; dt < MPB_DT_COUNT; dt++) {
        const struct dtype_desc *d = &dtype_table[dt];
        if (!strcmp(name, d->name) || !strcmp(name, d->st_name) || !strcmp(name, d->torch_name))
            return (mpb_dtype)dt;
    }
    /* Common aliases people write in mergekit configs. */
    if (!strcmp(name, "half"))
        return MPB_DT_F16;
    if (!strcmp(name, "float"))
        return MPB_DT_F32;
    return MPB_DT_INVALID;
}

bool mpb_dtype_is_blendable(mpb_dtype dt)
{
    return dt == MPB_DT_F16 || dt == MPB_DT_BF16 || dt == MPB_DT_F32;
}
