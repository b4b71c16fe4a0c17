/* Element-wise comparison of two tensors of one dtype, for `mpiblend diff`:
 * how many stored elements differ, the largest absolute difference and the
 * largest distance in units in the last place of the stored dtype.
 * Pure computation: statistics of slabs combine in any order. */
#ifndef MPB_COMPARE_H
#define MPB_COMPARE_H

#include "mpb_dtype.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct mpb_compare_stats {
    uint64_t differ;       /* elements whose stored bits differ */
    uint64_t nan_mismatch; /* elements that are NaN on one side only */
    double max_abs;        /* largest |a - b| where both are numbers (inf when an
                              infinity meets anything else) */
    uint64_t max_ulp;      /* largest |ordinal(a) - ordinal(b)|, NaNs left out */
} mpb_compare_stats;

/* Adds n elements of dt from a and b (raw little-endian bits, no alignment
 * needed) to s.  Floating-point types are compared as numbers (+0 and -0
 * differ in bits but by 0 and 0 ulp; two NaNs by 0); integer and bool
 * elements by their integer difference, which is also their ulp distance. */
void mpb_compare_add(mpb_dtype dt, const void *a, const void *b, size_t n,
                     mpb_compare_stats *s);

/* into += from. */
void mpb_compare_merge(mpb_compare_stats *into, const mpb_compare_stats *from);

/* True when no NaN stands against a number and max_abs <= tolerance. */
bool mpb_compare_within(const mpb_compare_stats *s, double tolerance);

#endif
