/* Element types mpiblend can hold.  Only F16, BF16 and F32 are blended;
 * every other type is carried through unchanged (see docs/FORMAT.md). */
#ifndef MPB_DTYPE_H
#define MPB_DTYPE_H

#include <stdbool.h>
#include <stddef.h>

typedef enum mpb_dtype {
    MPB_DT_INVALID = 0,
    MPB_DT_BOOL,
    MPB_DT_U8,
    MPB_DT_I8,
    MPB_DT_U16,
    MPB_DT_I16,
    MPB_DT_U32,
    MPB_DT_I32,
    MPB_DT_U64,
    MPB_DT_I64,
    MPB_DT_F8_E4M3,
    MPB_DT_F8_E5M2,
    MPB_DT_F16,
    MPB_DT_BF16,
    MPB_DT_F32,
    MPB_DT_F64,
    MPB_DT_COUNT
} mpb_dtype;

size_t mpb_dtype_size(mpb_dtype dt);

/* mpiblend's short name: "bf16", "f16", "f32", "i64", "bool", ... */
const char *mpb_dtype_name(mpb_dtype dt);

/* The safetensors spelling: "BF16", "F16", "F32", "I64", "BOOL", ... */
const char *mpb_dtype_safetensors_name(mpb_dtype dt);

/* The torch spelling used in config.json's torch_dtype: "bfloat16", ... */
const char *mpb_dtype_torch_name(mpb_dtype dt);

/* Accepts any of the three spellings above; MPB_DT_INVALID otherwise. */
mpb_dtype mpb_dtype_parse(const char *name);

/* True for the types the blend kernels compute on (F16, BF16, F32). */
bool mpb_dtype_is_blendable(mpb_dtype dt);

#endif
