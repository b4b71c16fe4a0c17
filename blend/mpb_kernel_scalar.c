/* The reference implementation of the blend contract, in portable C.
 * The compiler may vectorize these loops with the baseline instruction set
 * (SSE2 on x86-64); IEEE operations give the same bits either way. */
#include "mpb_kernel.h"

#include <float.h>
#include <string.h>

#include "mpb_convert.h"

#if FLT_EVAL_METHOD != 0
#error "the blend contract needs fp32 operations evaluated in fp32 (e.g. -mfpmath=sse on i386)"
#endif

/* Elements staged per pass: two fp32 blocks of this size live on the stack. */
enum { BLOCK = 1024 };

static const unsigned char *in_at(const void *base, mpb_dtype dt, size_t j)
{
    return (const unsigned char *)base + j * mpb_dtype_size(dt);
}

static float canonical_nan(void)
{
    const uint32_t bits = 0x7fc00000u;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

void mpb_blend_linear_scalar(size_t n_in, const void *const in[], mpb_dtype in_dt,
                             const float coef[], void *out, mpb_dtype out_dt, size_t n)
{
    if (n_in == 0 || !mpb_dtype_is_blendable(in_dt) || !mpb_dtype_is_blendable(out_dt))
        return;
    const float nan = canonical_nan();
    float acc[BLOCK], x[BLOCK];
    for (size_t done = 0; done < n; done += BLOCK) {
        size_t m = n - done < BLOCK ? n - done : BLOCK;
        /* Every input of this block is read before out is written, which
         * is what makes out == in[i] safe. */
        mpb_convert_to_f32(in_dt, in_at(in[0], in_dt, done), x, m);
        for (size_t k = 0; k < m; k++)
            acc[k] = coef[0] * x[k];
        for (size_t i = 1; i < n_in; i++) {
            mpb_convert_to_f32(in_dt, in_at(in[i], in_dt, done), x, m);
            for (size_t k = 0; k < m; k++)
                acc[k] = acc[k] + coef[i] * x[k];
        }
        for (size_t k = 0; k < m; k++)
            acc[k] = acc[k] != acc[k] ? nan : acc[k];
        mpb_convert_from_f32(out_dt, acc, (unsigned char *)out + done * mpb_dtype_size(out_dt),
                             m);
    }
}

void mpb_blend_linear_columns(size_t n_in, const void *const in[], mpb_dtype in_dt,
                              const float coef[], void *out, mpb_dtype out_dt, size_t row_len,
                              size_t n_rows)
{
    if (n_in == 0 || !mpb_dtype_is_blendable(in_dt) || !mpb_dtype_is_blendable(out_dt))
        return;
    const float nan = canonical_nan();
    float acc[BLOCK], x[BLOCK];
    for (size_t row = 0; row < n_rows; row++) {
        for (size_t col = 0; col < row_len; col += BLOCK) {
            size_t m = row_len - col < BLOCK ? row_len - col : BLOCK;
            size_t done = row * row_len + col;
            const float *c = coef + col * n_in;
            mpb_convert_to_f32(in_dt, in_at(in[0], in_dt, done), x, m);
            for (size_t k = 0; k < m; k++)
                acc[k] = c[k * n_in] * x[k];
            for (size_t i = 1; i < n_in; i++) {
                mpb_convert_to_f32(in_dt, in_at(in[i], in_dt, done), x, m);
                for (size_t k = 0; k < m; k++)
                    acc[k] = acc[k] + c[k * n_in + i] * x[k];
            }
            for (size_t k = 0; k < m; k++)
                acc[k] = acc[k] != acc[k] ? nan : acc[k];
            mpb_convert_from_f32(out_dt, acc,
                                 (unsigned char *)out + done * mpb_dtype_size(out_dt), m);
        }
    }
}
