/* ram: Reinforced Agent Merging (mergekit's ram.py, arXiv 2601.13572).
 * Per element, a task vector counts as present when |x - base| > epsilon;
 * where only one model's is present it is added whole, where several are
 * each is divided by their count, so shared changes are averaged and
 * unique ones kept.  Base required, any number of other models, one
 * global parameter.  docs/METHODS.md#ram has the fp32 steps. */
#include "mpb_registry.h"

#include "mpb_convert.h"

#include <math.h>
#include <string.h>

enum { CHUNK = 128 };

/* coef[0] = epsilon in fp32: mergekit compares the fp32 magnitudes with
 * the Python float, which PyTorch rounds to the tensor's dtype first. */
static int coefficients(const mpb_tensor_params *p, float coef[], mpb_error *err)
{
    if (p->n_inputs < 2 || p->base_index < 0 || isnan(p->epsilon))
        return mpb_fail(err, MPB_EINVAL, "ram needs a base, another input and an epsilon");
    float eps = (float)p->epsilon;
    if (!(p->epsilon >= 0) || !isfinite(eps))
        return mpb_fail(err, MPB_EINVAL, "ram: epsilon is %g; it must be 0 or more",
                        p->epsilon);
    for (size_t i = 0; i < p->n_inputs; i++)
        coef[i] = eps;
    return MPB_OK;
}

/* Per element, with t_i = x_i - b (fp32) for the other inputs in order:
 *   c = #{i : |t_i| > eps}
 *   term_i = t_i        if |t_i| > eps and c = 1
 *            t_i / c    if |t_i| > eps and c > 1
 *            t_i * 0    otherwise (a zero with t_i's sign)
 *   r = b + (((term_0 + term_1) + term_2) + ...)
 * and NaN when any t_i is not finite: mergekit's masks multiply it by 0. */
static void kernel(const float coef[], size_t base, size_t n_inputs, const void *const in[],
                   mpb_dtype in_dt, void *out, mpb_dtype out_dt, size_t n)
{
    if (n_inputs < 2 || base >= n_inputs || n_inputs > MPB_MAX_INPUTS ||
        !mpb_dtype_is_blendable(in_dt) || !mpb_dtype_is_blendable(out_dt))
        return;
    const uint32_t nan_bits = 0x7fc00000u;
    const float eps = coef[0];
    float nan, b[CHUNK], t[MPB_MAX_INPUTS - 1][CHUNK];
    memcpy(&nan, &nan_bits, sizeof nan);
    size_t in_size = mpb_dtype_size(in_dt), out_size = mpb_dtype_size(out_dt);
    size_t k = n_inputs - 1; /* task vectors */
    for (size_t done = 0; done < n; done += CHUNK) {
        size_t m = n - done < CHUNK ? n - done : CHUNK;
        const unsigned char *bp = (const unsigned char *)in[base] + done * in_size;
        /* Every input of this block is read before out is written. */
        for (size_t i = 0, v = 0; i < n_inputs; i++)
            if (i != base)
                mpb_method_deltas(in_dt, (const unsigned char *)in[i] + done * in_size, bp, m,
                                  t[v++]);
        mpb_method_deltas(in_dt, bp, NULL, m, b);
        for (size_t j = 0; j < m; j++) {
            unsigned count = 0;
            bool finite = true;
            for (size_t v = 0; v < k; v++) {
                finite &= isfinite(t[v][j]) != 0;
                count += fabsf(t[v][j]) > eps;
            }
            float sum = 0.0f;
            for (size_t v = 0; v < k; v++) {
                float d = t[v][j], term = !(fabsf(d) > eps) ? d * 0.0f
                                          : count == 1      ? d
                                                            : d / (float)count;
                sum = v == 0 ? term : sum + term;
            }
            float r = b[j] + sum;
            b[j] = !finite || r != r ? nan : r;
        }
        mpb_convert_from_f32(out_dt, b, (unsigned char *)out + done * out_size, m);
    }
}

const mpb_method_def mpb_method_ram = {
    .name = "ram",
    .summary =
        "task vectors added where one model changes an element, averaged where several do",
    .base = MPB_BASE_NEEDED,
    .min_others = 1,
    .params = {[MPB_P_EPSILON] = MPB_PARAM_DEFAULT(1e-5)},
    .verifiable = true,
    .deterministic = true,
    .blend = MPB_BLEND_ELEMENTWISE,
    .coefficients = coefficients,
    .kernel = kernel,
};
