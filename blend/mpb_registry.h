/* The merge-method registry: one entry per method, in the manner of
 * mergekit's merge_methods/registry.py.  Each entry is defined in the
 * method's own file (blend/mpb_method_<name>.c) with designated
 * initializers and listed once in blend/mpb_registry.c; everything else
 * (config parsing and validation, the merge's recipe, statistics, sweep,
 * verify, help text) asks the entry instead of naming the method.
 * docs/ADDING-A-METHOD.md walks through adding one.
 *
 * Pure computation: no MPI, no HDF5. */
#ifndef MPB_REGISTRY_H
#define MPB_REGISTRY_H

#include "mpb_dtype.h"
#include "mpb_error.h"
#include "mpb_method.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Registry order: config spelling lookup, --help and the docs list it.
 * New methods go at the end, so that the numbers stay stable. */
typedef enum {
    MPB_METHOD_LINEAR,
    MPB_METHOD_INTERPOLATE,
    MPB_METHOD_PASSTHROUGH,
    MPB_METHOD_TASK_ARITHMETIC,
    MPB_METHOD_TIES,
    MPB_METHOD_DARE_LINEAR,
    MPB_METHOD_DARE_TIES,
    MPB_METHOD_BREADCRUMBS,
    MPB_METHOD_BREADCRUMBS_TIES,
    MPB_METHOD_SLERP,
    MPB_METHOD_MODEL_STOCK,
    MPB_METHOD_NEARSWAP,
    MPB_METHOD_MULTISLERP,
    MPB_METHOD_KARCHER,
    MPB_METHOD_DELLA,
    MPB_METHOD_DELLA_LINEAR,
    MPB_METHOD_NUSLERP,
    MPB_METHOD_RAM,
    MPB_METHOD_SCE,
    MPB_METHOD_ARCEE_FUSION,
    MPB_METHOD_COUNT
} mpb_method;

/* ---- parameters ---- */

typedef enum {
    MPB_P_WEIGHT,
    MPB_P_DENSITY,
    MPB_P_GAMMA,
    MPB_P_EPSILON,
    MPB_P_LAMBDA,
    MPB_P_T,
    MPB_P_NORMALIZE,
    MPB_P_RESCALE,
    MPB_P_SEED,
    MPB_P_INT8_MASK,
    MPB_P_NORMALIZE_WEIGHTS,
    MPB_P_EPS,
    MPB_P_MAX_ITER,
    MPB_P_TOL,
    MPB_P_NUSLERP_FLATTEN,
    MPB_P_NUSLERP_ROW_WISE,
    MPB_P_SELECT_TOPK,
    MPB_P_SCALE,
    MPB_P_FILTER_WISE,
    MPB_P_COUNT
} mpb_param_id;

/* The config spelling ("weight", ...); "?" otherwise. */
const char *mpb_param_name(mpb_param_id id);
/* MPB_P_COUNT when unknown. */
mpb_param_id mpb_param_lookup(const char *name);
/* mergekit reads these per model; the rest only from the globals. */
bool mpb_param_per_model(mpb_param_id id);
/* A number a sweep may vary (docs/SWEEP.md). */
bool mpb_param_sweepable(mpb_param_id id);

/* How a method reads one parameter. */
typedef struct mpb_param_use {
    bool used;     /* read (others are accepted and ignored, as in mergekit) */
    bool required; /* per-model parameters: every input but the base needs
                         one; global ones: the config must set it */
    bool has_default;
    double fallback; /* the default; booleans 0 or 1 */
} mpb_param_use;

#define MPB_PARAM_USED \
    {                  \
        .used = true   \
    }
#define MPB_PARAM_REQUIRED             \
    {                                  \
        .used = true, .required = true \
    }
#define MPB_PARAM_DEFAULT(v)                               \
    {                                                      \
        .used = true, .has_default = true, .fallback = (v) \
    }

/* What every method of the task-arithmetic family reads, and what the
 * sparsifying ones add (mergekit's generalized_task_arithmetic.py). */
#define MPB_TASK_PARAMS(normalize)                                                \
    [MPB_P_WEIGHT] = MPB_PARAM_REQUIRED, [MPB_P_LAMBDA] = MPB_PARAM_DEFAULT(1.0), \
    [MPB_P_NORMALIZE] = MPB_PARAM_DEFAULT(normalize)
#define MPB_SPARSE_PARAMS(normalize, rescale)                     \
    MPB_TASK_PARAMS(normalize), [MPB_P_DENSITY] = MPB_PARAM_USED, \
                                [MPB_P_RESCALE] = MPB_PARAM_DEFAULT(rescale)

/* Every parameter of one tensor, resolved from the config: per-model value
 * > global value > method default (io/mpb_config_resolve.c). */
typedef struct mpb_tensor_params {
    int copy_from;  /* >= 0: copy the tensor unchanged from this input
                         (passthrough, or outside layer_range); -1: blend.
                         When copying, the fields below are not resolved. */
    int base_index; /* the base input, or -1 */
    size_t n_inputs;
    double weight[MPB_MAX_INPUTS];    /* per input; NaN if unset */
    double density[MPB_MAX_INPUTS];   /* per input; default 1 */
    double lambda, t, epsilon, gamma; /* method defaults applied; NaN if
                                         the method has none and none is set */
    bool normalize;
    bool normalize_weights; /* multislerp */
    double eps;             /* multislerp; NaN unless the method reads it */
    double max_iter, tol;   /* karcher; NaN unless the method reads them */
    bool nuslerp_flatten;   /* nuslerp: one pair of coefficients per tensor */
    bool nuslerp_row_wise;  /* nuslerp without flatten: vectors along dim 0 */
    bool filter_wise;       /* model_stock: one t per vector along the last dim */
    double select_topk;     /* sce; NaN unless the method reads it */
    double scale;           /* passthrough: multiplies the tensor; NaN unless it
                               does (a scale of 1 or none stays a copy) */
    bool rescale;           /* sparsified task vectors are rescaled... */
    bool rescale_l1;        /* ...to keep their L1 norm (mergekit); false: by 1/density */
    uint64_t seed;          /* DARE's random masks */
} mpb_tensor_params;

/* The value of a global numeric parameter (lambda, t, epsilon, gamma, ...). */
double mpb_tensor_param(const mpb_tensor_params *p, mpb_param_id id);

/* ---- what a method is ---- */

typedef enum mpb_base_role {
    MPB_BASE_IGNORED, /* base_model is not read; when given, it must be one of the models */
    MPB_BASE_END,     /* optional: the t = 0 / lambda = 0 end, else the first model */
    MPB_BASE_NEEDED,  /* required: what task vectors are taken against */
    MPB_BASE_OPTIONAL /* when given, task vectors are taken against it;
                         else the models blend as they are (base index -1) */
} mpb_base_role;

/* How the merge computes a blended tensor. */
typedef enum mpb_blend_kind {
    MPB_BLEND_COEFFICIENTS, /* mpb_blend_linear with coefficients() */
    MPB_BLEND_STATISTICS,   /* mpb_blend_linear with coefficients from the
                               whole-tensor sums (the stats fields below) */
    MPB_BLEND_TASK,         /* mpb_blend_task, the task-arithmetic family */
    MPB_BLEND_ELEMENTWISE   /* the entry's own kernel, element by element */
} mpb_blend_kind;

/* Per tensor, from its resolved parameters: n_inputs fp32 values, computed
 * in double and rounded once.  For MPB_BLEND_COEFFICIENTS the blend's
 * coefficients (docs/ARITHMETIC.md); for MPB_BLEND_ELEMENTWISE whatever the
 * kernel reads.  Fails, naming the cause, when a value is missing or
 * unusable. */
typedef int mpb_coefficients_fn(const mpb_tensor_params *p, float coef[], mpb_error *err);

/* MPB_BLEND_ELEMENTWISE: out[j] from in[i][j] for n elements (in_dt and
 * out_dt F16, BF16 or F32; out may be one of the inputs when the dtypes
 * match).  coef is what coefficients() made; base the base input.  Every
 * element depends on its own index only, so any slab split gives the same
 * bits. */
typedef void mpb_element_kernel_fn(const float coef[], size_t base, size_t n_inputs,
                                   const void *const in[], mpb_dtype in_dt, void *out,
                                   mpb_dtype out_dt, size_t n);

/* MPB_BLEND_STATISTICS: row sums in double of the decoded vectors of one
 * chunk, added to acc[0 .. n_sums - 1] (each sum element by element in
 * index order, so rows chain).  v[] holds the vectors: with sums_of_deltas
 * the task vectors (input minus base) of the non-base inputs in input
 * order, or every input as it is when there is no base (base index -1);
 * else the base input then the others in input order. */
typedef size_t mpb_sums_count_fn(size_t n_vectors);
typedef void mpb_sums_add_fn(const float *const v[], size_t n_vectors, size_t n, double acc[]);
/* The tensor's blend coefficients (p->n_inputs of them, the base input at
 * p->base_index) from the totals over the whole tensor and the tensor's
 * resolved parameters.  Fails naming the tensor when they are undefined. */
typedef int mpb_sums_coefficients_fn(const double totals[], const mpb_tensor_params *p,
                                     const char *tensor, float coef[], mpb_error *err);

/* MPB_BLEND_STATISTICS methods that, for some parameters, slerp each vector
 * along a tensor's last dimension on its own (nuslerp_flatten: false): the
 * vectors' length for this tensor, or 0 when it blends as one vector with
 * the whole-tensor coefficients.  A vector lies within one row, so the rank
 * that holds the row computes its coefficients alone. */
typedef size_t mpb_vector_len_fn(const mpb_tensor_params *p, int ndim, const uint64_t shape[]);
/* Blends n_vectors vectors of len elements each (the inputs as in
 * mpb_blend_linear; out may be in[0] when the dtypes match): each vector's
 * sums in double in index order, its coefficients, then the linear kernel.
 * Fails only when scratch memory cannot be had (MPB_ENOMEM). */
typedef int mpb_vectors_blend_fn(const mpb_tensor_params *p, size_t len, size_t n_vectors,
                                 const void *const in[], mpb_dtype in_dt, void *out,
                                 mpb_dtype out_dt);

/* MPB_BLEND_STATISTICS methods that, for some parameters, give each column
 * (each vector along dimension 0: the elements at one position of every
 * row) its own coefficients: whether this tensor does.  Its sums then run
 * per column over every row of every rank, exactly (mpb_exact_sum.h), and
 * sums_coefficients turns each column's totals into its coefficients. */
typedef bool mpb_columns_fn(const mpb_tensor_params *p, int ndim);
/* Adds n consecutive columns' sums of one row (as mpb_gram_add_columns). */
typedef void mpb_columns_add_fn(const float *const v[], size_t n_vectors, size_t n,
                                mpb_exact_sum *acc, size_t stride);

/* Per tensor, while the recipe is built (before anything is read): fails,
 * naming the tensor and the cause, when the resolved parameters are ones
 * the method cannot honour. */
typedef int mpb_params_check_fn(const mpb_tensor_params *p, const char *tensor, mpb_error *err);

typedef struct mpb_method_def {
    const char *name;           /* the config spelling */
    const char *const *aliases; /* further spellings accepted, NULL-terminated; or NULL */
    const char *summary;        /* one line for --help */
    /* Inputs */
    mpb_base_role base;
    int exact_inputs;  /* 0: any number */
    int min_others;    /* inputs needed besides the base */
    int max_others;    /* inputs allowed besides the base; 0: any number */
    bool copies_first; /* every tensor is input 0's, unchanged (passthrough) */
    /* Parameters */
    mpb_param_use params[MPB_P_COUNT];
    const char *required_why;          /* after "needs parameters.X: " in messages */
    bool normalize_needs_sum;          /* normalize divides by the sum of every weight:
                                    weights that cancel are an error */
    mpb_params_check_fn *check_params; /* or NULL */
    /* Properties */
    bool whole_tensor_stats; /* needs statistics of the whole tensor first */
    bool elects_sign;        /* TIES sign consensus */
    mpb_keep_kind sparsify;  /* what each task vector keeps */
    bool verifiable;         /* verify's sample check recomputes its elements */
    bool deterministic;      /* no randomness (DARE draws from `seed`) */
    /* Computation */
    mpb_blend_kind blend;
    mpb_coefficients_fn *coefficients;           /* COEFFICIENTS, ELEMENTWISE; NULL else */
    mpb_element_kernel_fn *kernel;               /* ELEMENTWISE */
    bool sums_of_deltas;                         /* STATISTICS */
    mpb_sums_count_fn *sums_count;               /* STATISTICS */
    mpb_sums_add_fn *sums_add;                   /* STATISTICS */
    mpb_sums_coefficients_fn *sums_coefficients; /* STATISTICS */
    mpb_vector_len_fn *vector_len;               /* STATISTICS, per vector; or NULL */
    mpb_vectors_blend_fn *vectors_blend;         /* with vector_len */
    mpb_columns_fn *columns;                     /* STATISTICS, per column; or NULL */
    mpb_columns_add_fn *columns_add;             /* with columns */
} mpb_method_def;

/* The entry of m; NULL when m is not a method. */
const mpb_method_def *mpb_method_get(mpb_method m);
/* The config spelling ("linear", "dare_ties", ...); "invalid" otherwise. */
const char *mpb_method_name(mpb_method m);
/* Method by config spelling or alias; false when unknown. */
bool mpb_method_lookup(const char *name, mpb_method *out);
/* "linear, interpolate, ..." in registry order, for messages and --help. */
const char *mpb_method_list(void);
/* "a, b and c": the methods whose entry keep() accepts, in registry order,
 * written to buf and returned. */
const char *mpb_method_list_if(bool (*keep)(const mpb_method_def *), char *buf, size_t len);
/* mergekit methods mpiblend knows and refuses: why, for the message; NULL
 * for any other name. */
const char *mpb_method_refusal(const char *name);
/* The method's default for a numeric parameter: its own, else the
 * parameter's (density 1), else NaN. */
double mpb_method_default(mpb_method m, mpb_param_id id);
/* Whether the method reads input i's own weight (all inputs but the base of
 * a method that takes task vectors against it). */
bool mpb_method_input_weighted(mpb_method m, size_t i, int base_index);

/* The tensor's n_inputs fp32 values from the method's coefficients(): a
 * copied tensor (p->copy_from >= 0) gets 1 for its source and 0 elsewhere.
 * Fails for a method without coefficients() (statistics, task kernel). */
int mpb_method_coefficients(mpb_method m, const mpb_tensor_params *p, float coef[],
                            mpb_error *err);

/* The entries, each defined in its method's own file. */
extern const mpb_method_def mpb_method_linear, mpb_method_interpolate, mpb_method_passthrough,
    mpb_method_task_arithmetic, mpb_method_ties, mpb_method_dare_linear, mpb_method_dare_ties,
    mpb_method_breadcrumbs, mpb_method_breadcrumbs_ties, mpb_method_slerp,
    mpb_method_model_stock, mpb_method_nearswap, mpb_method_multislerp, mpb_method_karcher,
    mpb_method_della, mpb_method_della_linear, mpb_method_nuslerp, mpb_method_sce;
extern const mpb_method_def mpb_method_ram;
extern const mpb_method_def mpb_method_arcee_fusion;

/* True when the weights (all but index skip; -1 for none) sum to 0 up to
 * rounding, so that dividing by their sum is meaningless. */
bool mpb_weights_cancel(const double w[], size_t n, int skip);

/* Fails unless every coefficient and every partial sum the linear kernel
 * forms (in input order) is finite in fp32; exact[] are the double values,
 * for the message. */
int mpb_coefficients_check_finite(const float coef[], const double exact[], size_t n,
                                  mpb_error *err);

#endif
