/* Times the two-input interpolation (1-t)*a + t*b, t = 0.45, per dtype, with
 * every kernel this CPU can run: "scalar" first, the one dispatch picks
 * last.  Prints the median rate over several repetitions in G elements/s,
 * and the ratio of the dispatched kernel to the scalar one.  Then, on a
 * 4 MiB buffer, CRC-32C (GB/s) and the non-finite count (G elements/s), each
 * against a copy of its former single-stream code kept here as the baseline.
 * Last, DARE: keep masks in 256-element blocks (G elements/s) with each
 * implementation, against today's per-element mpb_random_bits call, and the
 * whole dare_ties kernel (two models, bf16) with each implementation.
 *
 * usage: mpb_kernel_bench [elements (default 16777216)] [repetitions (default 9)] */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mpb_convert.h"
#include "mpb_kernel.h"
#include "mpb_method.h"
#include "mpb_nonfinite.h"
#include "mpb_crc32c.h"
#include "mpb_random.h"

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

static double seconds_on(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
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

/* Median over `reps` timed calls of run(ctx), after one warm-up, of
 * units / seconds * 1e-9 (G elements/s or GB/s), the seconds read from
 * `clock`: wall time, or this thread's CPU time, which stays a per-core
 * figure when other programs share the core. */
static double median_rate_on(clockid_t clock, void (*run)(void *ctx), void *ctx, double units,
                             int reps)
{
    double rates[64];
    run(ctx);
    for (int r = 0; r < reps; r++) {
        double t0 = seconds_on(clock);
        run(ctx);
        rates[r] = units / (seconds_on(clock) - t0) * 1e-9;
    }
    qsort(rates, (size_t)reps, sizeof rates[0], compare_doubles);
    return rates[reps / 2];
}

static double median_rate(void (*run)(void *ctx), void *ctx, double units, int reps)
{
    return median_rate_on(CLOCK_MONOTONIC, run, ctx, units, reps);
}

/* Wall-time and CPU-time rates of one variant, printed as "W G elements/s
 * (C per CPU second)"; returns the CPU-time rate. */
static double print_rates(const char *label, void (*run)(void *ctx), void *ctx, double units,
                          int reps)
{
    double wall = median_rate(run, ctx, units, reps);
    double cpu = median_rate_on(CLOCK_THREAD_CPUTIME_ID, run, ctx, units, reps);
    printf("%-16s %6.2f G elements/s (%.2f per CPU second)", label, wall, cpu);
    return cpu;
}

struct blend_job {
    const void *const *in;
    mpb_dtype dt;
    const float *coef;
    void *out;
    size_t n;
};

static void run_blend(void *ctx)
{
    struct blend_job *j = ctx;
    mpb_blend_linear(2, j->in, j->dt, j->coef, j->out, j->dt, j->n);
}

/* The 4 MiB buffer checked PASSES times per timed call, so that a call
 * lasts long enough for the clock. */
enum { SMALL_BYTES = 4 << 20, PASSES = 16 };

/* The former hardware CRC: one dependent chain of crc32 instructions. */
#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t
crc32c_single_stream(uint32_t crc, const void *buf, size_t n)
{
    const unsigned char *p = buf;
    uint64_t c64 = ~crc;
    for (; n >= 8; n -= 8, p += 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c64 = _mm_crc32_u64(c64, v);
    }
    uint32_t c = (uint32_t)c64;
    while (n--)
        c = _mm_crc32_u8(c, *p++);
    return ~c;
}
#endif

/* The former non-finite count: one typed loop per element size. */
static uint64_t nonfinite_count_old(mpb_dtype dt, const void *buf, size_t n)
{
    const unsigned char *p = buf;
    uint64_t count = 0;
#define COUNT_LOOP(T, MASK)                     \
    for (size_t i = 0; i < n; i++) {            \
        T v;                                    \
        memcpy(&v, p + i * sizeof v, sizeof v); \
        count += (v & (T)(MASK)) == (T)(MASK);  \
    }
    switch (dt) {
    case MPB_DT_F16: COUNT_LOOP(uint16_t, 0x7c00); break;
    case MPB_DT_BF16: COUNT_LOOP(uint16_t, 0x7f80); break;
    case MPB_DT_F32: COUNT_LOOP(uint32_t, 0x7f800000u); break;
    default: break;
    }
#undef COUNT_LOOP
    return count;
}

struct scan_job {
    const void *buf;
    mpb_dtype dt;
    size_t n; /* bytes for the CRC, elements for the count */
    bool old;
    uint64_t result;
};

static void run_crc(void *ctx)
{
    struct scan_job *j = ctx;
    for (int k = 0; k < PASSES; k++) {
#if defined(__x86_64__)
        if (j->old) {
            j->result = crc32c_single_stream(0, j->buf, j->n);
            continue;
        }
#endif
        j->result = mpb_crc32c(0, j->buf, j->n);
    }
}

static void run_count(void *ctx)
{
    struct scan_job *j = ctx;
    for (int k = 0; k < PASSES; k++)
        j->result = j->old ? nonfinite_count_old(j->dt, j->buf, j->n)
                           : mpb_nonfinite_count(j->dt, j->buf, j->n);
}

/* CRC-32C: the old single stream (where SSE4.2 is), then each
 * implementation mpb_crc32c_force knows, the automatic one last.  Returns
 * false when one disagrees with another. */
static bool bench_crc(const void *buf, int reps)
{
    struct scan_job j = {.buf = buf, .n = SMALL_BYTES};
    double units = (double)SMALL_BYTES * PASSES, old = 0, rate = 0;
    uint64_t want = mpb_crc32c(0, buf, SMALL_BYTES);
    bool same = true;
    printf("# CRC-32C of %d MiB, median of %d, GB/s\n", SMALL_BYTES >> 20, reps);
#if defined(__x86_64__)
    if (__builtin_cpu_supports("sse4.2")) {
        j.old = true;
        old = median_rate(run_crc, &j, units, reps);
        same &= j.result == want;
        printf("crc32c   single   %6.2f GB/s (the former sse4.2 code)\n", old);
        j.old = false;
    }
#endif
    /* "table", then the automatic choice where that is another. */
    for (int k = 0; k < 2; k++) {
        mpb_crc32c_force(k == 0 ? "table" : NULL);
        if (k == 1 && strcmp(mpb_crc32c_isa(), "table") == 0)
            break;
        rate = median_rate(run_crc, &j, units, reps);
        same &= j.result == want;
        printf("crc32c   %-8s %6.2f GB/s\n", mpb_crc32c_isa(), rate);
    }
    if (old > 0)
        printf("crc32c   ratio    %6.2fx (%s / single)\n", rate / old, mpb_crc32c_isa());
    return same;
}

/* Non-finite count per dtype: the old loop, then each implementation
 * mpb_kernel_force can pick.  Returns false on any disagreement. */
static bool bench_count(mpb_dtype dt, void *buf, int reps)
{
    size_t n = SMALL_BYTES / mpb_dtype_size(dt);
    fill_weights(dt, buf, n, 3);
    for (size_t i = 0; i < n; i += 997) /* a few NaNs, so the count is not 0 */
        memset((char *)buf + i * mpb_dtype_size(dt), 0xff, mpb_dtype_size(dt));
    struct scan_job j = {.buf = buf, .dt = dt, .n = n, .old = true};
    double units = (double)n * PASSES;
    double old = median_rate(run_count, &j, units, reps), rate = 0;
    uint64_t want = j.result;
    bool same = true;
    const char *name = mpb_dtype_name(dt), *isa;
    printf("%-4s nonfinite old    %6.2f G elements/s (the former loop)\n", name, old);
    j.old = false;
    for (size_t k = 0; (isa = mpb_kernel_isa_available(k)) != NULL; k++) {
        mpb_kernel_force(isa);
        rate = median_rate(run_count, &j, units, reps);
        same &= j.result == want;
        printf("%-4s nonfinite %-6s %6.2f G elements/s\n", name, isa, rate);
    }
    mpb_kernel_force(NULL);
    printf("%-4s nonfinite ratio  %6.2fx (%s / old)\n", name, rate / old, mpb_kernel_isa());
    return same;
}

/* DARE's masks as the kernel makes them: blocks of 256 into a buffer that
 * stays in L1, over n elements. */
enum { MASK_BLOCK = 256 };

struct mask_job {
    uint64_t key, threshold;
    size_t n;
    bool per_element; /* the former loop: one mpb_random_bits call per element */
    uint64_t kept;    /* a sample of the result, compared across implementations */
};

static void run_masks(void *ctx)
{
    struct mask_job *j = ctx;
    uint32_t mask[MASK_BLOCK];
    uint64_t kept = 0;
    for (size_t done = 0; done < j->n; done += MASK_BLOCK) {
        size_t m = j->n - done < MASK_BLOCK ? j->n - done : MASK_BLOCK;
        if (j->per_element) {
            for (size_t k = 0; k < m; k++)
                mask[k] =
                    0u - (uint32_t)((mpb_random_bits(j->key, done + k) >> 40) < j->threshold);
        } else {
            mpb_random_keep_mask(j->key, done, j->threshold, mask, m);
        }
        kept += (mask[0] & 1) + (mask[m - 1] & 1); /* light, so that it times the masks */
    }
    j->kept = kept;
}

struct task_job {
    const mpb_task_spec *spec;
    const void *const *in;
    void *out;
    size_t n;
};

static void run_task(void *ctx)
{
    struct task_job *j = ctx;
    mpb_task_pos pos = {.index = 0};
    mpb_blend_task(j->spec, j->in, MPB_DT_BF16, j->out, MPB_DT_BF16, j->n, &pos);
}

/* Masks at density 0.3, then dare_ties on base + two models.  Returns false
 * when implementations disagree. */
static bool bench_dare(size_t n, int reps)
{
    struct mask_job mj = {.key = mpb_random_key(7, 1, "model.layers.0.mlp.up_proj.weight"),
                          .threshold = mpb_keep_threshold(0.3),
                          .n = n,
                          .per_element = true};
    printf("# DARE keep masks, density 0.3, %zu elements in blocks of %d, median of %d\n", n,
           MASK_BLOCK, reps);
    double old = print_rates("mask per-element", run_masks, &mj, (double)n, reps), rate = 0;
    printf(", one mpb_random_bits call each: the former loop\n");
    uint64_t want = mj.kept;
    bool same = true;
    mj.per_element = false;
    const char *isa;
    char label[32];
    for (size_t k = 0; (isa = mpb_kernel_isa_available(k)) != NULL; k++) {
        mpb_kernel_force(isa);
        snprintf(label, sizeof label, "mask %s", isa);
        rate = print_rates(label, run_masks, &mj, (double)n, reps);
        printf("\n");
        same &= mj.kept == want;
    }
    mpb_kernel_force(NULL);
    printf("mask ratio       %6.2fx (%s / per-element, CPU time)\n", rate / old,
           mpb_kernel_isa());

    size_t bytes = n * 2;
    void *buf[4];
    for (int i = 0; i < 4; i++)
        if ((buf[i] = malloc(bytes)) == NULL) {
            fprintf(stderr, "out of memory for %zu elements\n", n);
            exit(1);
        }
    for (int i = 0; i < 3; i++)
        fill_weights(MPB_DT_BF16, buf[i], n, 10 + (uint64_t)i);
    mpb_task_model models[2] = {{.input = 1,
                                 .weight = 0.6f,
                                 .scale = 1.0f,
                                 .keep = MPB_KEEP_RANDOM,
                                 .density = 0.3,
                                 .key = mpb_random_key(7, 1, "w")},
                                {.input = 2,
                                 .weight = 0.4f,
                                 .scale = 1.0f,
                                 .keep = MPB_KEEP_RANDOM,
                                 .density = 0.3,
                                 .key = mpb_random_key(7, 2, "w")}};
    mpb_task_spec spec = {.base = 0,
                          .n_models = 2,
                          .models = models,
                          .consensus = true,
                          .divisor = 1.0f,
                          .lambda = 1.0f};
    const void *in[3] = {buf[0], buf[1], buf[2]};
    struct task_job tj = {&spec, in, buf[3], n};
    printf("# dare_ties kernel (mpb_blend_task), base + 2 models, bf16, median of %d\n", reps);
    uint16_t first[64];
    for (size_t k = 0; (isa = mpb_kernel_isa_available(k)) != NULL; k++) {
        mpb_kernel_force(isa);
        snprintf(label, sizeof label, "dare_ties %s", isa);
        print_rates(label, run_task, &tj, (double)n, reps);
        printf("\n");
        if (k == 0)
            memcpy(first, buf[3], sizeof first);
        same &= memcmp(first, buf[3], sizeof first) == 0;
    }
    mpb_kernel_force(NULL);
    for (int i = 0; i < 4; i++)
        free(buf[i]);
    return same;
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

        struct blend_job job = {in, dt, coef, out, n};
        double scalar = 0, fast = 0;
        const char *isa;
        for (size_t k = 0; (isa = mpb_kernel_isa_available(k)) != NULL; k++) {
            mpb_kernel_force(isa);
            double rate = median_rate(run_blend, &job, (double)n, reps);
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

    void *small = malloc(SMALL_BYTES);
    if (!small) {
        fprintf(stderr, "out of memory for %d bytes\n", SMALL_BYTES);
        return 1;
    }
    fill_weights(MPB_DT_BF16, small, SMALL_BYTES / 2, 4);
    bool same = bench_crc(small, reps);
    printf("# non-finite count of %d MiB, median of %d, G elements/s\n", SMALL_BYTES >> 20,
           reps);
    for (size_t d = 0; d < sizeof dts / sizeof dts[0]; d++)
        same &= bench_count(dts[d], small, reps);
    free(small);
    same &= bench_dare(n, reps);
    if (!same) {
        fprintf(stderr, "implementations disagree\n");
        return 1;
    }
    return 0;
}
