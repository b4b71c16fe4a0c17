/* Per-tensor factors computed in double from whole-tensor statistics and
 * rounded once to fp32, with mergekit's thresholds. */
#include "mpb_method.h"

#include <math.h>

float mpb_rescale_l1(double before, double after)
{
    const double eps = 1e-7; /* mergekit's rescaled_masked_tensor */
    if (!(before >= eps) || !(after >= eps))
        return 1.0f;
    return (float)(before / after);
}

void mpb_slerp_coefficients(double t, double ss0, double ss1, double dot01, float coef[2])
{
    const double eps = 1e-8, dot_threshold = 0.9995; /* mergekit's slerp() */
    double n0 = sqrt(ss0), n1 = sqrt(ss1);
    /* mergekit divides a vector by its norm only when the norm exceeds eps. */
    double dot = dot01 / ((n0 > eps ? n0 : 1.0) * (n1 > eps ? n1 : 1.0));
    if (fabs(dot) > dot_threshold) {
        coef[0] = (float)(1.0 - t);
        coef[1] = (float)t;
        return;
    }
    double theta = acos(dot);
    double sin_theta = sin(theta);
    double theta_t = theta * t;
    coef[0] = (float)(sin(theta - theta_t) / sin_theta);
    coef[1] = (float)(sin(theta_t) / sin_theta);
}

bool mpb_model_stock_t(size_t n, const double sq[], const double dot[], double *t)
{
    double sum = 0;
    size_t pairs = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = i + 1; j < n; j++, pairs++) {
            double norms = sqrt(sq[i]) * sqrt(sq[j]);
            double c = dot[pairs] / (norms > 1e-6 ? norms : 1e-6);
            sum += c < -1.0 ? -1.0 : c > 1.0 ? 1.0 : c;
        }
    }
    double cos = pairs ? sum / (double)pairs : 0.0;
    double denominator = 1.0 + ((double)n - 1.0) * cos;
    if (denominator == 0.0)
        return false;
    *t = (double)n * cos / denominator;
    return true;
}
