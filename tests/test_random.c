/* DARE's keep masks in blocks (blend/mpb_random.h): every implementation
 * (scalar, AVX2 where the CPU has it) against the per-element function
 * mpb_random_bits and against the generator written here again from
 * docs/METHODS.md, over many keys, offsets, lengths and splits; then the
 * kernel's DARE result and the kept-L1 sum, which use the masks, on every
 * implementation. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mpb_convert.h"
#include "mpb_kernel.h"
#include "mpb_method.h"
#include "mpb_random.h"
#include "test_method_util.h"

/* The documented generator, independently of blend/: element i of stream
 * `key` is splitmix64's finaliser of key + 0x9e3779b97f4a7c15 (i + 1). */
static uint64_t doc_bits(uint64_t key, uint64_t index)
{
    uint64_t z = key + 0x9e3779b97f4a7c15ull * (index + 1);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint32_t doc_mask(uint64_t key, uint64_t index, uint64_t threshold)
{
    return (doc_bits(key, index) >> 40) < threshold ? UINT32_MAX : 0u;
}

/* The implementations mpb_kernel_force can pick here, "scalar" first. */
static size_t usable_isas(const char *isa[], size_t max)
{
    size_t n = 0;
    while (n < max && (isa[n] = mpb_kernel_isa_available(n)) != NULL)
        n++;
    return n;
}

enum { SENTINEL = 0x5a5a5a5au, MAX_N = 4200 };

/* mask over [first, first + n) with the dispatched implementation in force
 * and with the scalar one called directly: equal to the documented formula
 * and to mpb_random_bits, and nothing written past n. */
static void check_block(uint64_t key, uint64_t first, uint64_t threshold, size_t n)
{
    static uint32_t mask[MAX_N + 1], scalar[MAX_N + 1];
    assert_true(n <= MAX_N);
    for (size_t j = 0; j <= n; j++)
        mask[j] = scalar[j] = SENTINEL;
    mpb_random_keep_mask(key, first, threshold, mask, n);
    mpb_random_keep_mask_scalar(key, first, threshold, scalar, n);
    for (size_t j = 0; j < n; j++) {
        uint32_t want = doc_mask(key, first + j, threshold);
        if (mask[j] != want || scalar[j] != want)
            fail_msg("%s: key %#llx first %llu n %zu threshold %llu: element %zu is %#x "
                     "(scalar %#x), want %#x",
                     mpb_kernel_isa(), (unsigned long long)key, (unsigned long long)first, n,
                     (unsigned long long)threshold, j, mask[j], scalar[j], want);
        assert_int_equal(want != 0, (mpb_random_bits(key, first + j) >> 40) < threshold);
    }
    assert_int_equal(mask[n], SENTINEL);
    assert_int_equal(scalar[n], SENTINEL);
}

/* Where the CPU has AVX2, the vector path is among those tested. */
static void test_vector_path_is_tested(void **state)
{
    (void)state;
    const char *isas[4];
    size_t n = usable_isas(isas, 4);
    assert_string_equal(isas[0], "scalar");
#if defined(__x86_64__) && !defined(MPB_NO_VECTOR_KERNELS) && defined(__GNUC__) && \
    !defined(__clang__)
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c"))
        assert_string_equal(isas[n - 1], "avx2");
#endif
    print_message("mask implementations tested:");
    for (size_t k = 0; k < n; k++)
        print_message(" %s", isas[k]);
    print_message("\n");
}

static void test_doc_generator_is_the_library_one(void **state)
{
    (void)state;
    uint64_t rng = 7;
    for (int i = 0; i < 10000; i++) {
        uint64_t key = next_random(&rng), index = next_random(&rng) >> (i % 64);
        assert_int_equal(doc_bits(key, index), mpb_random_bits(key, index));
    }
}

/* Many keys, offsets (the counter wraps around 2^64 too), lengths that are
 * and are not multiples of 8, thresholds from none kept to all kept. */
static void test_masks_every_isa(void **state)
{
    (void)state;
    const char *names[] = {"model.layers.0.mlp.up_proj.weight", "lm_head.weight", ""};
    const uint64_t fixed_thresholds[] = {0,
                                         1,
                                         1u << 23,
                                         (1u << 24) - 1,
                                         1u << 24,
                                         mpb_keep_threshold(0.3),
                                         mpb_keep_threshold(0.9)};
    const uint64_t firsts[] = {0, 1, 7, 8, 1000, UINT64_MAX - 20, (uint64_t)1 << 40};
    const char *isas[4];
    for (size_t k = 0, n_isas = usable_isas(isas, 4); k < n_isas; k++) {
        const char *isa = isas[k];
        assert_true(mpb_kernel_force(isa));
        uint64_t rng = 11;
        for (uint64_t seed = 0; seed < 24; seed++) {
            uint64_t key = mpb_random_key(seed * 977, seed % 5, names[seed % 3]);
            for (size_t f = 0; f < sizeof firsts / sizeof firsts[0]; f++) {
                uint64_t first = seed % 2 ? firsts[f] : next_random(&rng);
                for (size_t n = 0; n <= 67; n++) {
                    uint64_t t = n % 3 == 0 ? fixed_thresholds[n / 3 % 7]
                                            : next_random(&rng) % ((1u << 24) + 1);
                    check_block(key, first, t, n);
                }
                for (size_t n = 255; n <= 257; n++)
                    check_block(key, first, next_random(&rng) >> 40, n);
                check_block(key, first, mpb_keep_threshold(0.5), 1000 + seed % 9);
            }
        }
    }
    mpb_kernel_force(NULL);
}

/* One block over [0, N) equals any split of it into pieces, each piece
 * made by a different implementation in turn. */
static void test_masks_on_splits(void **state)
{
    (void)state;
    enum { N = 4099 };
    static uint32_t whole[N], pieces[N];
    const char *isas[4];
    size_t n_isas = usable_isas(isas, 4);
    uint64_t rng = 5;
    for (int trial = 0; trial < 40; trial++) {
        uint64_t key = next_random(&rng), threshold = mpb_keep_threshold(0.1 + 0.02 * trial);
        mpb_kernel_force(NULL);
        mpb_random_keep_mask(key, 3, threshold, whole, N);
        size_t at = 0, k = 0;
        while (at < N) {
            size_t len = 1 + next_random(&rng) % (trial % 2 ? 40 : 700);
            if (len > N - at)
                len = N - at;
            assert_true(mpb_kernel_force(isas[k++ % n_isas]));
            mpb_random_keep_mask(key, 3 + at, threshold, pieces + at, len);
            at += len;
        }
        assert_memory_equal(pieces, whole, sizeof whole);
    }
    mpb_kernel_force(NULL);
}

/* dare_linear with one model: out = b + lambda * (w * (kept ? (x - b) * s : 0)),
 * each operation rounded in fp32 (docs/METHODS.md), bf16 in and out, the
 * slab cut into pieces that the kernel is given in turn. */
static void test_dare_kernel_every_isa(void **state)
{
    (void)state;
    enum { N = 3001 };
    static uint16_t base[N], x[N], out[N];
    uint64_t rng = 21;
    for (size_t j = 0; j < N; j++) {
        base[j] = mpb_f32_to_bf16((float)((int64_t)(next_random(&rng) % 2001) - 1000) * 1e-3f);
        x[j] = mpb_f32_to_bf16((float)((int64_t)(next_random(&rng) % 2001) - 1000) * 1e-3f);
    }
    const double densities[] = {0.1, 0.5, 0.9};
    const char *isas[4];
    for (size_t k = 0, n_isas = usable_isas(isas, 4); k < n_isas; k++) {
        const char *isa = isas[k];
        assert_true(mpb_kernel_force(isa));
        for (size_t d = 0; d < 3; d++) {
            uint64_t key = mpb_random_key(d, 1, "model.layers.3.self_attn.o_proj.weight");
            mpb_task_model m = {.input = 1,
                                .weight = 0.75f,
                                .scale = (float)(1.0 / densities[d]),
                                .keep = MPB_KEEP_RANDOM,
                                .key = key,
                                .density = densities[d]};
            mpb_task_spec s = {
                .base = 0, .n_models = 1, .models = &m, .divisor = 1.0f, .lambda = 1.25f};
            mpb_task_pos pos = {.index = 0};
            for (size_t at = 0; at < N;) {
                size_t len = 1 + next_random(&rng) % 600;
                if (len > N - at)
                    len = N - at;
                const void *in[] = {base + at, x + at};
                mpb_blend_task(&s, in, MPB_DT_BF16, out + at, MPB_DT_BF16, len, &pos);
                at += len;
            }
            assert_int_equal(pos.index, N);
            uint64_t threshold = mpb_keep_threshold(densities[d]);
            for (size_t j = 0; j < N; j++) {
                float b = mpb_bf16_to_f32(base[j]), delta = mpb_bf16_to_f32(x[j]) - b;
                float kept = doc_mask(key, j, threshold) ? delta * m.scale : 0.0f;
                float want = b + (m.weight * kept) * s.lambda;
                if (out[j] != mpb_f32_to_bf16(want))
                    fail_msg("%s, density %g: element %zu is %#x, want %#x", isa, densities[d],
                             j, out[j], mpb_f32_to_bf16(want));
            }
        }
    }
    mpb_kernel_force(NULL);
}

/* The kept-L1 sum that `rescale: l1` divides by: |d| of the kept elements
 * added in index order in double, chained over pieces of any length. */
static void test_sum_kept_every_isa(void **state)
{
    (void)state;
    enum { N = 5000 };
    static float d[N];
    uint64_t rng = 8;
    for (size_t j = 0; j < N; j++)
        d[j] = (float)((int64_t)(next_random(&rng) % 20001) - 10000) * 0x1p-7f;
    const char *isas[4];
    for (size_t k = 0, n_isas = usable_isas(isas, 4); k < n_isas; k++) {
        const char *isa = isas[k];
        assert_true(mpb_kernel_force(isa));
        for (int trial = 0; trial < 6; trial++) {
            uint64_t key = next_random(&rng), first = next_random(&rng) >> 20;
            double density = 0.15 * (trial + 1), want = 0.0, got = 0.0;
            for (size_t j = 0; j < N; j++)
                if (doc_mask(key, first + j, mpb_keep_threshold(density)))
                    want += fabs((double)d[j]);
            for (size_t at = 0; at < N;) {
                size_t len = 1 + next_random(&rng) % (trial % 2 ? 30 : 2500);
                if (len > N - at)
                    len = N - at;
                got = mpb_sum_abs_random(d + at, len, key, first + at, density, got);
                at += len;
            }
            if (got != want)
                fail_msg("%s, density %g: kept sum %.17g, want %.17g", isa, density, got, want);
        }
    }
    mpb_kernel_force(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vector_path_is_tested),
        cmocka_unit_test(test_doc_generator_is_the_library_one),
        cmocka_unit_test(test_masks_every_isa),
        cmocka_unit_test(test_masks_on_splits),
        cmocka_unit_test(test_dare_kernel_every_isa),
        cmocka_unit_test(test_sum_kept_every_isa),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
