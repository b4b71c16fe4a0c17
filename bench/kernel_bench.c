/* Times the two-input interpolation (1-t)*a + t*b, t = 0.45, per dtype, with
 * every kernel this CPU can run: "scalar" first, the one dispatch picks
 * last.  Prints the median rate over several repetitions in G elements/s,
 * and the ratio of the dispatched kernel to the scalar one.
 *
 * usage: mpb_kernel_bench [elements (default 16777216)] [repetitions (default 9)] */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mpb_convert.h"
#include "mpb_kernel.h"

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Fills buf with n values of dt drawn from a fixed pseudo-random sequence
 * over roughly [-2, 2), like typical weights. */
static void fill_weights(mpb_dtype dt, void *buf, size_t n, uint64_t seed)
{
    float block[1024];
    for (size_t done = 0; done < n; done += 1024) {
        size_t m = n - done < 1024 ? n - done : 1024;
        for (size_t k = 0; k < m; k++) {
            seed = seed * 6364136223846793005u + 1442695040888963407u;
            block[k] = (float)((int32_t)(seed >> 32)) * 0x1p-30f;
        }
        mpb_convert_from_f32(dt, block, (char *)buf + done * mpb_dtype_size(dt), m);
    }
}

/* Median rate in G elements/s of `reps` timed blends after one warm-up. */
static double median_rate(const void *const in[2], mpb_dtype dt, const float coef[2],
                          void *out, size_t n, int reps)
{
    double rates[64];
    mpb_blend_linear(2, in, dt, coef, out, dt, n);
    for (int r = 0; r < reps; r++) {
        double t0 = now_seconds();
        mpb_blend_linear(2, in, dt, coef, out, dt, n);
        rates[r] = (double)n / (now_seconds() - t0) * 1e-9;
    }
    qsort(rates, (size_t)reps, sizeof rates[0], compare_doubles);
    return rates[reps / 2];
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : (size_t)16 << 20;
    int reps = argc > 2 ? atoi(argv[2]) : 9;
    if (n == 0 || reps < 1 || reps > 64) {
        fprintf(stderr, "usage: %s [elements > 0] [repetitions 1..64]\n", argv[0]);
        return 2;
    }
    const double lambda = 0.45;
    const float coef[2] = {(float)(1.0 - lambda), (float)lambda};
    const mpb_dtype dts[] = {MPB_DT_BF16, MPB_DT_F16, MPB_DT_F32};

    mpb_kernel_force(NULL);
    const char *best = mpb_kernel_isa();
    printf("# %zu elements, median of %d, lambda %.2f, dispatch picks %s\n", n, reps, lambda,
           best);
    for (size_t d = 0; d < sizeof dts / sizeof dts[0]; d++) {
        mpb_dtype dt = dts[d];
        size_t bytes = n * mpb_dtype_size(dt);
        void *a = malloc(bytes), *b = malloc(bytes), *out = malloc(bytes);
        if (!a || !b || !out) {
            fprintf(stderr, "out of memory for %zu elements\n", n);
            return 1;
        }
        fill_weights(dt, a, n, 1);
        fill_weights(dt, b, n, 2);
        const void *in[2] = {a, b};

        double scalar = 0, fast = 0;
        const char *isa;
        for (size_t k = 0; (isa = mpb_kernel_isa_available(k)) != NULL; k++) {
            mpb_kernel_force(isa);
            double rate = median_rate(in, dt, coef, out, n, reps);
            printf("%-4s %-8s %6.2f G elements/s\n", mpb_dtype_name(dt), isa, rate);
            if (k == 0)
                scalar = rate;
            fast = rate; /* the last one listed is the one dispatch picks */
        }
        mpb_kernel_force(NULL);
        printf("%-4s ratio    %6.2fx (%s / scalar)\n", mpb_dtype_name(dt), fast / scalar, best);
        free(a);
        free(b);
        free(out);
    }
    return 0;
}
