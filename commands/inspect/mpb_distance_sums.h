/* The sums behind `mpiblend distance`, for n inputs x_0 .. x_{n-1} and every
 * pair (i < j) of them, d = x_i - x_j:
 *
 *   per input:  sum x_i^2
 *   per pair:   sum x_i x_j, sum d, sum d^2, M2 = sum (d - mean d)^2
 *
 * kept in one array of mpb_distance_stride(n) doubles.  M2 is carried with
 * Chan et al.'s pairwise update so that the standard deviation of d stays
 * accurate even when its mean is large.  Pure computation, no MPI: the same
 * rows give the same bits on any rank. */
#ifndef MPB_DISTANCE_SUMS_H
#define MPB_DISTANCE_SUMS_H

#include <stddef.h>
#include <stdint.h>

/* Most inputs one distance run compares (their pairs grow as n^2). */
#define MPB_DISTANCE_MAX_INPUTS 16
/* mpb_distance_stride(MPB_DISTANCE_MAX_INPUTS): 16 + 4 x 120 */
#define MPB_DISTANCE_SUMS_CAP 496

typedef enum mpb_module_kind {
    MPB_KIND_ATTENTION, /* self_attn (its q/k norms included) */
    MPB_KIND_MLP,       /* mlp, experts and router included */
    MPB_KIND_NORM,      /* every other *norm* */
    MPB_KIND_EMBEDDING, /* embed_tokens, lm_head */
    MPB_KIND_OTHER,
    MPB_KIND_COUNT
} mpb_module_kind;

mpb_module_kind mpb_module_kind_of(const char *tensor_name);
const char *mpb_module_kind_name(mpb_module_kind k);

size_t mpb_distance_pairs(size_t n_inputs);
size_t mpb_distance_stride(size_t n_inputs);

/* Sums of one row of m elements per input into sums (overwritten). */
void mpb_distance_row(size_t n_inputs, const double *const *x, uint64_t m, double *sums);

/* acc (over acc_m elements) += part (over part_m elements). */
void mpb_distance_merge(size_t n_inputs, double *acc, uint64_t acc_m, const double *part,
                        uint64_t part_m);

typedef struct mpb_distance_metrics {
    double rel_l2;   /* ||x_a - x_b|| / ||x_a|| */
    double cosine;   /* x_a . x_b / (||x_a|| ||x_b||) */
    double diff_std; /* population standard deviation of x_a - x_b */
} mpb_distance_metrics;

/* The metrics of pair (a < b) from sums over m elements; NaN where a norm
 * is zero or m is zero. */
mpb_distance_metrics mpb_distance_metrics_of(size_t n_inputs, const double *sums, uint64_t m,
                                             size_t a, size_t b);

#endif
