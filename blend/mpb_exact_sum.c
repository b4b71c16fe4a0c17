/* The exact sum's limb arithmetic (mpb_exact_sum.h). */
#include "mpb_exact_sum.h"

#include <math.h>
#include <string.h>

enum { LIMB_BITS = 32, OFFSET = 320 };

/* Each addition moves a limb by less than 2^34; normalising before 2^28
 * of them keeps every limb far from int64's limits. */
#define PENDING_MAX (1 << 28)

static const int64_t LIMB_MASK = 0xffffffffLL;

void mpb_exact_sum_clear(mpb_exact_sum *a)
{
    memset(a, 0, sizeof *a);
}

void mpb_exact_sum_normalise(mpb_exact_sum *a)
{
    int64_t carry = 0;
    for (int i = 0; i < MPB_EXACT_LIMBS - 1; i++) {
        int64_t v = a->w[i] + carry;
        int64_t low = v & LIMB_MASK; /* two's complement: v - low is a multiple of 2^32 */
        carry = (v - low) / ((int64_t)1 << LIMB_BITS);
        a->w[i] = low;
    }
    a->w[MPB_EXACT_LIMBS - 1] += carry;
    a->w[MPB_EXACT_PENDING] = 0;
}

void mpb_exact_sum_add(mpb_exact_sum *a, double x)
{
    if (x == 0.0)
        return;
    if (!isfinite(x)) {
        a->w[isnan(x) ? MPB_EXACT_NAN : x > 0 ? MPB_EXACT_POS_INF : MPB_EXACT_NEG_INF]++;
        return;
    }
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    int biased = (int)(bits >> 52 & 0x7ff);
    uint64_t m = bits & ((UINT64_C(1) << 52) - 1);
    if (biased != 0)
        m |= UINT64_C(1) << 52;
    /* x = m * 2^e; m's bit 0 sits at p above the limbs' floor.  Below the
     * floor only zero bits may go (rare: no product of fp32 values). */
    int p = (biased != 0 ? biased : 1) - 1075 + OFFSET;
    for (; p < 0 && (m & 1) == 0; p++)
        m >>= 1;
    int k = p / LIMB_BITS, s = p % LIMB_BITS;
    if (p < 0 || k + 2 >= MPB_EXACT_LIMBS) {
        a->w[MPB_EXACT_OUTSIDE]++;
        return;
    }
    uint64_t lo = (m & 0xffffffffu) << s, hi = (m >> 32) << s; /* below 2^64, 2^53 */
    int64_t l0 = (int64_t)(lo & 0xffffffffu),
            l1 = (int64_t)(lo >> 32) + (int64_t)(hi & 0xffffffffu), l2 = (int64_t)(hi >> 32);
    if (bits >> 63) {
        a->w[k] -= l0;
        a->w[k + 1] -= l1;
        a->w[k + 2] -= l2;
    } else {
        a->w[k] += l0;
        a->w[k + 1] += l1;
        a->w[k + 2] += l2;
    }
    if (++a->w[MPB_EXACT_PENDING] >= PENDING_MAX)
        mpb_exact_sum_normalise(a);
}

void mpb_exact_sum_merge(mpb_exact_sum *a, const mpb_exact_sum *b)
{
    for (int i = 0; i < MPB_EXACT_WORDS; i++)
        a->w[i] += b->w[i];
    mpb_exact_sum_normalise(a);
}

/* The magnitude of a normalised, nonnegative accumulator, rounded. */
static double round_magnitude(const int64_t limb[])
{
    int top = MPB_EXACT_LIMBS - 1;
    while (top >= 0 && limb[top] == 0)
        top--;
    if (top < 0)
        return 0.0;
    int high = 63;
    while (((uint64_t)limb[top] >> high & 1) == 0)
        high--;
    int h = top * LIMB_BITS + high; /* the highest set bit */
    int low = h - 63;               /* u holds bits low .. h */
    uint64_t u = 0;
    int sticky = 0;
    for (int i = 0; i <= top; i++) {
        uint64_t v = (uint64_t)limb[i];
        int shift = i * LIMB_BITS - low;
        if (shift >= 0)
            u |= v << shift;
        else if (shift > -64) {
            u |= v >> -shift;
            sticky |= (v & ((UINT64_C(1) << -shift) - 1)) != 0;
        } else {
            sticky |= v != 0;
        }
    }
    uint64_t mant = u >> 11, rest = u & 0x7ff;
    if (rest > 0x400 || (rest == 0x400 && (sticky || (mant & 1))))
        mant++; /* 2^53 at most: still exact in double */
    return ldexp((double)mant, low + 11 - OFFSET);
}

double mpb_exact_sum_value(const mpb_exact_sum *a)
{
    if (a->w[MPB_EXACT_NAN] || a->w[MPB_EXACT_OUTSIDE] ||
        (a->w[MPB_EXACT_POS_INF] && a->w[MPB_EXACT_NEG_INF]))
        return NAN;
    if (a->w[MPB_EXACT_POS_INF])
        return INFINITY;
    if (a->w[MPB_EXACT_NEG_INF])
        return -INFINITY;
    mpb_exact_sum n = *a;
    mpb_exact_sum_normalise(&n);
    if (n.w[MPB_EXACT_LIMBS - 1] >= 0)
        return round_magnitude(n.w);
    for (int i = 0; i < MPB_EXACT_LIMBS; i++)
        n.w[i] = -n.w[i];
    mpb_exact_sum_normalise(&n);
    return -round_magnitude(n.w);
}
