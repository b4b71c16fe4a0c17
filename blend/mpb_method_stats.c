/* Per-slab statistics of the merge methods: deltas, running sums in double,
 * magnitude histograms, and the selection of a cut from merged histograms. */
#include "mpb_method.h"

#include "mpb_convert.h"
#include "mpb_random.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { CHUNK = 1024 };

/* bf16 widens by a shift, exactly as mpb_convert_to_f32 does it; written
 * here as a plain loop so that it vectorises. */
static void decode(mpb_dtype dt, const void *restrict x, float *restrict d, size_t n)
{
    if (dt != MPB_DT_BF16) {
        mpb_convert_to_f32(dt, x, d, n);
        return;
    }
    const unsigned char *p = x;
    for (size_t j = 0; j < n; j++) {
        uint16_t h;
        memcpy(&h, p + 2 * j, sizeof h);
        uint32_t u = (uint32_t)h << 16;
        memcpy(&d[j], &u, sizeof u);
    }
}

void mpb_method_deltas(mpb_dtype dt, const void *x, const void *base, size_t n, float *d)
{
    size_t es = mpb_dtype_size(dt);
    decode(dt, x, d, n);
    if (base == NULL)
        return;
    float b[CHUNK];
    for (size_t done = 0; done < n; done += CHUNK) {
        size_t m = n - done < CHUNK ? n - done : CHUNK;
        float *restrict dd = d + done;
        decode(dt, (const unsigned char *)base + done * es, b, m);
        for (size_t j = 0; j < m; j++)
            dd[j] = dd[j] - b[j];
    }
}

double mpb_sum_abs(const float *d, size_t n, double acc)
{
    for (size_t j = 0; j < n; j++)
        acc += fabs((double)d[j]);
    return acc;
}

double mpb_sum_products(const float *a, const float *b, size_t n, double acc)
{
    for (size_t j = 0; j < n; j++)
        acc += (double)a[j] * (double)b[j];
    return acc;
}

double mpb_sum_abs_random(const float *d, size_t n, uint64_t key, uint64_t first,
                          double density, double acc)
{
    const uint64_t threshold = mpb_keep_threshold(density);
    uint32_t keep[CHUNK];
    for (size_t done = 0; done < n; done += CHUNK) {
        size_t m = n - done < CHUNK ? n - done : CHUNK;
        mpb_random_keep_mask(key, first + done, threshold, keep, m);
        for (size_t j = 0; j < m; j++)
            if (keep[j])
                acc += fabs((double)d[done + j]);
    }
    return acc;
}

double mpb_sum_abs_kept(const float *d, const float *factor, size_t n, double acc)
{
    for (size_t j = 0; j < n; j++)
        if (factor[j] != 0.0f)
            acc += fabs((double)d[j]);
    return acc;
}

double mpb_sum_abs_above(const float *d, size_t n, uint32_t bits, double acc)
{
    for (size_t j = 0; j < n; j++)
        if (mpb_abs_bits(d[j]) > bits)
            acc += fabs((double)d[j]);
    return acc;
}

uint64_t mpb_count_equal(const float *d, size_t n, uint32_t bits)
{
    uint64_t count = 0;
    for (size_t j = 0; j < n; j++)
        count += mpb_abs_bits(d[j]) == bits;
    return count;
}

static void bump(uint32_t *hist, uint32_t bin, uint32_t *touched, size_t *n_touched)
{
    if (hist[bin]++ == 0 && touched != NULL)
        touched[(*n_touched)++] = bin;
}

void mpb_hist_high(const float *d, size_t n, uint32_t *hist, uint32_t *touched,
                   size_t *n_touched)
{
    for (size_t j = 0; j < n; j++)
        bump(hist, mpb_abs_bits(d[j]) >> MPB_HIST_LOW_BITS, touched, n_touched);
}

void mpb_hist_low(const float *d, size_t n, uint32_t high, uint32_t *hist, uint32_t *touched,
                  size_t *n_touched)
{
    const uint32_t low_mask = MPB_HIST_LOW_BINS - 1;
    for (size_t j = 0; j < n; j++) {
        uint32_t bits = mpb_abs_bits(d[j]);
        if (bits >> MPB_HIST_LOW_BITS == high)
            bump(hist, bits & low_mask, touched, n_touched);
    }
}

static int bin_descending(const void *pa, const void *pb)
{
    const mpb_bin *a = pa, *b = pb;
    return a->bin < b->bin ? 1 : a->bin > b->bin ? -1 : 0;
}

size_t mpb_bins_merge(mpb_bin *b, size_t n)
{
    if (n == 0)
        return 0;
    qsort(b, n, sizeof *b, bin_descending);
    size_t out = 0;
    for (size_t i = 1; i < n; i++) {
        if (b[i].bin == b[out].bin)
            b[out].count += b[i].count;
        else
            b[++out] = b[i];
    }
    return out + 1;
}

bool mpb_bins_find(const mpb_bin *b, size_t n, uint64_t rank, uint64_t *bin, uint64_t *above,
                   uint64_t *in_bin)
{
    uint64_t before = 0;
    for (size_t i = 0; i < n && rank > 0; i++) {
        if (before + b[i].count >= rank) {
            *bin = b[i].bin;
            *above = before;
            *in_bin = b[i].count;
            return true;
        }
        before += b[i].count;
    }
    return false;
}
