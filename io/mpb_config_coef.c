/* Fixed blend coefficients for the methods that are one weighted sum of
 * their inputs: computed once in double, rounded once to fp32. */
#include "mpb_config_internal.h"

#include <float.h>
#include <math.h>
#include <string.h>

static int linear(const mpb_tensor_params *p, double c[], mpb_error *err)
{
    double sum = 0;
    for (size_t i = 0; i < p->n_inputs; i++) {
        if (isnan(p->weight[i]))
            return mpb_fail(err, MPB_EINVAL, "linear: input %zu has no weight", i);
        sum += p->weight[i];
    }
    if (p->normalize && mpb_weights_cancel(p->weight, p->n_inputs, -1))
        return mpb_fail(err, MPB_EINVAL,
                        "linear: the weights sum to 0 and normalize divides by their sum");
    for (size_t i = 0; i < p->n_inputs; i++)
        c[i] = p->normalize ? p->weight[i] / sum : p->weight[i];
    return MPB_OK;
}

static int interpolate(const mpb_tensor_params *p, double c[], mpb_error *err)
{
    if (p->n_inputs != 2 || isnan(p->lambda))
        return mpb_fail(err, MPB_EINVAL, "interpolate needs two inputs and a lambda");
    int end = p->base_index == 1 ? 1 : 0;
    c[end] = 1 - p->lambda;
    c[1 - end] = p->lambda;
    return MPB_OK;
}

/* B + lambda * sum(w_i (x_i - B)) / D  =  (1 - sum c_i) B + sum c_i x_i. */
static int task_arithmetic(const mpb_tensor_params *p, double c[], mpb_error *err)
{
    int base = p->base_index;
    if (base < 0 || (size_t)base >= p->n_inputs || isnan(p->lambda))
        return mpb_fail(err, MPB_EINVAL, "task_arithmetic needs a base input and a lambda");
    double divisor = 0, others = 0;
    for (size_t i = 0; i < p->n_inputs; i++) {
        if ((int)i == base)
            continue;
        if (isnan(p->weight[i]))
            return mpb_fail(err, MPB_EINVAL, "task_arithmetic: input %zu has no weight", i);
        divisor += p->weight[i];
    }
    /* mergekit replaces a divisor below 1e-8 in magnitude by 1. */
    if (!p->normalize || fabs(divisor) < 1e-8)
        divisor = 1;
    for (size_t i = 0; i < p->n_inputs; i++) {
        if ((int)i == base)
            continue;
        c[i] = p->weight[i] / divisor * p->lambda;
        others += c[i];
    }
    c[base] = 1 - others;
    return MPB_OK;
}

/* After rounding to fp32, every coefficient and every partial sum the
 * kernel may form (coefficients added in input order) must be finite;
 * otherwise the output would be inf or NaN whatever the weights. */
static int check_finite(const float coef[], const double exact[], size_t n, mpb_error *err)
{
    float sum = 0.0f, magnitude = 0.0f;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(coef[i]))
            return mpb_fail(err, MPB_EINVAL, "the coefficient of input %zu is %g, which is "
                            "not finite in fp32 (largest magnitude %g); check the weights "
                            "and lambda", i, exact[i], (double)FLT_MAX);
        sum += coef[i];
        magnitude += fabsf(coef[i]);
        if (!isfinite(sum) || !isfinite(magnitude))
            return mpb_fail(err, MPB_EINVAL, "the coefficients of inputs 0 to %zu add up to "
                            "more than fp32 holds (%g); check the weights and lambda", i,
                            (double)FLT_MAX);
    }
    return MPB_OK;
}

int mpb_config_coefficients(const mpb_tensor_params *p, mpb_method m, float coef[],
                            mpb_error *err)
{
    double c[MPB_MAX_INPUTS] = {0};
    int rc = MPB_OK;
    if (p->n_inputs == 0 || p->n_inputs > MPB_MAX_INPUTS)
        return mpb_fail(err, MPB_EINVAL, "coefficients for %zu inputs", p->n_inputs);
    if (p->copy_from >= (int)p->n_inputs)
        return mpb_fail(err, MPB_EINVAL, "copy from input %d of %zu", p->copy_from, p->n_inputs);
    if (p->copy_from >= 0)
        c[p->copy_from] = 1;
    else if (m == MPB_METHOD_LINEAR)
        rc = linear(p, c, err);
    else if (m == MPB_METHOD_INTERPOLATE)
        rc = interpolate(p, c, err);
    else if (m == MPB_METHOD_TASK_ARITHMETIC)
        rc = task_arithmetic(p, c, err);
    else
        rc = mpb_fail(err, MPB_EINVAL,
                      "merge_method '%s' is not one fixed weighted sum of its inputs",
                      mpb_method_name(m));
    if (rc != MPB_OK)
        return rc;
    for (size_t i = 0; i < p->n_inputs; i++)
        coef[i] = (float)c[i];
    return check_finite(coef, c, p->n_inputs, err);
}
