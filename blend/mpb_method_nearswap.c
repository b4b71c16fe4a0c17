/* nearswap: where the base and the other model are already close, take
 * the other model's value; elsewhere move towards it by t / |distance|
 * (mergekit's nearswap.py).  Two inputs, base required, one parameter t. */
#include "mpb_registry.h"

#include "mpb_convert.h"

#include <math.h>
#include <string.h>

enum { CHUNK = 256 };

/* coef[0] = f(t); t must be a positive number, as in mergekit. */
static int coefficients(const mpb_tensor_params *p, float coef[], mpb_error *err)
{
    if (p->n_inputs != 2 || p->base_index < 0 || isnan(p->t))
        return mpb_fail(err, MPB_EINVAL, "nearswap needs a base, one other input and a t");
    float t = (float)p->t;
    if (!(p->t > 0) || !isfinite(t) || t == 0.0f)
        return mpb_fail(err, MPB_EINVAL,
                        "nearswap: t is %g; it must be above 0 and finite "
                        "(and not 0) in fp32",
                        p->t);
    coef[0] = t;
    coef[1] = 0.0f;
    return MPB_OK;
}

/* Per element, each operation one rounded fp32 step (docs/METHODS.md):
 *   w = (1 / |b - x|) * t   (PyTorch computes t / tensor this way)
 *   w = 1 where w is NaN or infinite; w = min(w, 1)
 *   r = w * x + (1 - w) * b */
static void kernel(const float coef[], size_t base, size_t n_inputs, const void *const in[],
                   mpb_dtype in_dt, void *out, mpb_dtype out_dt, size_t n)
{
    if (n_inputs != 2 || base > 1 || !mpb_dtype_is_blendable(in_dt) ||
        !mpb_dtype_is_blendable(out_dt))
        return;
    const uint32_t nan_bits = 0x7fc00000u;
    const float t = coef[0];
    float nan, b[CHUNK], x[CHUNK];
    memcpy(&nan, &nan_bits, sizeof nan);
    size_t in_size = mpb_dtype_size(in_dt), out_size = mpb_dtype_size(out_dt);
    for (size_t done = 0; done < n; done += CHUNK) {
        size_t m = n - done < CHUNK ? n - done : CHUNK;
        /* Both inputs of this block are read before out is written. */
        mpb_method_deltas(in_dt, (const unsigned char *)in[base] + done * in_size, NULL, m, b);
        mpb_method_deltas(in_dt, (const unsigned char *)in[1 - base] + done * in_size, NULL, m,
                          x);
        for (size_t j = 0; j < m; j++) {
            float w = (1.0f / fabsf(b[j] - x[j])) * t;
            w = isfinite(w) ? (w > 1.0f ? 1.0f : w) : 1.0f;
            float r = w * x[j] + (1.0f - w) * b[j];
            b[j] = r != r ? nan : r;
        }
        mpb_convert_from_f32(out_dt, b, (unsigned char *)out + done * out_size, m);
    }
}

const mpb_method_def mpb_method_nearswap = {
    .name = "nearswap",
    .summary = "the other model's value where it is within t of the base",
    .base = MPB_BASE_NEEDED,
    .exact_inputs = 2,
    .params = {[MPB_P_T] = MPB_PARAM_REQUIRED},
    .required_why = "elements within t of the base take the other model's value",
    .verifiable = true,
    .deterministic = true,
    .blend = MPB_BLEND_ELEMENTWISE,
    .coefficients = coefficients,
    .kernel = kernel,
};
