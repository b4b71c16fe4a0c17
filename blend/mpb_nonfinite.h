/* Non-finite values (NaN, +inf, -inf) in tensor data: finding and counting
 * them, and the merge's --nonfinite policy (docs/RELIABILITY.md).
 * Pure computation: no MPI, no HDF5. */
#ifndef MPB_NONFINITE_H
#define MPB_NONFINITE_H

#include "mpb_dtype.h"
#include "mpb_error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum mpb_nonfinite_mode {
    MPB_NONFINITE_PROPAGATE = 0, /* merge on; count non-finite outputs per tensor */
    MPB_NONFINITE_ERROR          /* stop at the first non-finite input or result */
} mpb_nonfinite_mode;

/* "propagate" or "error"; false (mode untouched) for anything else. */
bool mpb_nonfinite_parse(const char *name, mpb_nonfinite_mode *mode);
const char *mpb_nonfinite_name(mpb_nonfinite_mode mode);

/* NaN and infinite elements among n elements of dt (raw little-endian
 * bits; no alignment needed).  Types without such values (integers, bool)
 * have none; F8_E4M3 (the "fn" variant) has NaN but no infinity.
 * This and mpb_nonfinite_find use AVX2 when the blend kernel does
 * (mpb_kernel_isa() is "avx2"), so mpb_kernel_force picks for them too;
 * every path gives the same results. */
uint64_t mpb_nonfinite_count(mpb_dtype dt, const void *buf, size_t n);

/* Position of the first non-finite element, or n when there is none. */
size_t mpb_nonfinite_find(mpb_dtype dt, const void *buf, size_t n);

/* "NaN", "+inf" or "-inf" for element i of buf; "finite" otherwise. */
const char *mpb_nonfinite_kind(mpb_dtype dt, const void *buf, size_t i);

/* The error mode's check of n input elements of tensor `tensor` read from
 * `source`, whose first element is element `first` of the tensor: in
 * MPB_NONFINITE_ERROR mode a non-finite value fails with MPB_EINVAL naming
 * the tensor, the source, the element and its kind.  Propagate mode never
 * fails. */
int mpb_nonfinite_check(mpb_nonfinite_mode mode, mpb_dtype dt, const void *buf, size_t n,
                        uint64_t first, const char *tensor, const char *source, mpb_error *err);

#endif
