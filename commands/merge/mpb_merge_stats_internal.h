/* Shared between the statistics' passes (mpb_merge_stats_pass.c), their
 * exchange (mpb_merge_stats_exchange.c) and their orchestration
 * (mpb_merge_stats.c). */
#ifndef MPB_MERGE_STATS_INTERNAL_H
#define MPB_MERGE_STATS_INTERNAL_H

#include "mpb_driver.h"
#include "mpb_merge_hold.h"
#include "mpb_merge_stats.h"

enum { STATS_CHUNK = 1024 };

/* The passes over the inputs, in order.  A tensor takes part in a pass only
 * when it needs something from it. */
enum { PASS_SUMS, PASS_LOW, PASS_TIES, PASS_KEPT, PASS_COUNT };

/* Where one magnitude cut is in its selection. */
enum { CUT_DONE, CUT_HIGH, CUT_LOW, CUT_TIES };

typedef struct cut_state {
    uint64_t rank; /* R: the cut holds the R largest magnitudes */
    int stage;
    uint32_t high;  /* after the high level: the bin holding the R-th */
    uint64_t above; /* elements in higher bins */
    uint64_t left;  /* R - above: rank within the bin */
    mpb_cut cut;
    bool count_ties; /* only some of the elements equal to the cut are in */
    int q_above;     /* PASS_TIES row sum of |d| above the cut, or -1 */
    double l1;       /* sum of |d| over the elements inside the cut */
} cut_state;

typedef struct model_state {
    cut_state cut[2]; /* 0: hi, 1: lo */
    int q_l1, q_kept; /* PASS_SUMS row sums: all |d|, |d| DARE keeps; or -1 */
    int shared;       /* the magnitudes of an earlier recipe's same task vector, or -1 */
    int q_sq;         /* SCE: row sums of the kept task vector's squares, or -1 */
    double l1;        /* sum of |d| over the whole tensor (rescale l1) */
} model_state;

typedef struct tensor_state {
    size_t tensor;
    size_t n_q;         /* row sums in the current pass */
    size_t sums_at;     /* where they start in the pass's buffer */
    model_state *m;     /* task family: one per model, then SCE's select: its
                       cut[0] ranks the variance key (stats_rankers) */
    int q_zero;         /* SCE's select, PASS_SUMS: row counts of zero variances, or -1 */
    bool columns;       /* per-column coefficients: exact column sums instead of row sums */
    size_t cols_at;     /* where its column sums start in stats_run.cols (quantity, column) */
    cut_state quant[3]; /* arcee_fusion: q1, median, q3 of its importance key */
} tensor_state;

/* One count the ranks exchange: a histogram bin (row 0), a magnitude of a
 * small tensor in the item starting at `row`, or an item's tie count (key:
 * the cut's magnitude). */
typedef struct stats_rec {
    uint64_t slot, key, row, count;
} stats_rec;

/* Tensors up to this many elements find their cuts in one pass: the ranks
 * exchange every (magnitude, item) count instead of a 16-bit histogram. */
#define STATS_SMALL_TENSOR MPB_HIST_HIGH_BINS

/* The magnitudes one recipe's first pass found for a task vector (tensor,
 * input against the base), as exchanged: in a sweep every later point with
 * the same task vector takes them instead of histogramming it again, since
 * they do not depend on density or weight. */
typedef struct shared_magnitudes {
    size_t tensor, input;
    stats_rec *recs;
    size_t n;
} shared_magnitudes;

typedef struct stats_run {
    mpb_merge_recipe *r;
    mpb_store *inputs;
    int pass;
    void **bufs;                /* one round's slabs per input (the merge's) */
    mpb_merge_hold hold;        /* the batch's inputs this rank holds */
    void *slab[MPB_MAX_INPUTS]; /* the current item's slab of each input */
    uint64_t bytes_read;        /* by this rank */
    float *d;                   /* per input, STATS_CHUNK decoded values */
    double *acc;                /* per quantity, one row's running sum */
    size_t acc_cap;
    float *key;           /* STATS_CHUNK values of SCE's variance key */
    uint64_t seen_select; /* PASS_KEPT: elements equal to SCE's cut met so far */
    uint32_t *hist;       /* per ranker, 65536 local bins (one item's counts) */
    uint32_t *touched;    /* per model, bins that became nonzero; for a small
                              tensor, the item's magnitudes */
    size_t *n_touched;
    tensor_state *ts; /* the batch */
    size_t n_ts;
    size_t *ts_of; /* tensor -> position in ts, or SIZE_MAX */
    double *sums;  /* the pass's row sums, every tensor of the batch */
    size_t n_sums;
    mpb_exact_sum *cols; /* the pass's column sums, tensors with `columns` */
    size_t n_cols;
    stats_rec *recs; /* this rank's counts; after the exchange, everyone's */
    size_t n_recs, cap_recs;
    shared_magnitudes *shared; /* the batch's, over its recipes */
    size_t n_shared;
} stats_run;

/* Before a recipe's PASS_SUMS: which task vectors an earlier recipe of the
 * batch already histogrammed (model_state.shared). */
void stats_share_mark(stats_run *s);

/* After PASS_SUMS's exchange: keeps the magnitudes each model histogrammed
 * and adds those it took from an earlier recipe. */
int stats_share_magnitudes(stats_run *s, mpb_error *err);

/* Forgets the batch's shared magnitudes. */
void stats_share_clear(stats_run *s);

bool stats_is_window(const mpb_merge_task *task, size_t k);

/* The cuts' owners: the models, then SCE's select (whose key is the
 * variance across the task vectors) when the tensor has one. */
size_t stats_rankers(const mpb_merge_task *task);

/* In a pass over a SCE tensor, for the chunk of n elements at element `at`
 * of the slabs: the task vectors decoded, the variance key into s->key when
 * it selects, and the pass's row sums (zero variances; the squares, of the
 * elements the select keeps in PASS_KEPT); returns the key, or NULL
 * (mpb_merge_stats_sce.c). */
const float *stats_sce_chunk(stats_run *s, const tensor_state *ts, size_t at, size_t n,
                             mpb_dtype dt);

/* The vectors a method with coefficients from statistics sums over for
 * tensor t. */
size_t stats_vectors(const mpb_merge_recipe *r, size_t t);

/* Whether tensor t's coefficients are per column (registry: columns). */
bool stats_columns(const mpb_merge_recipe *r, size_t t);

/* Row sums a tensor needs in its busiest pass. */
size_t stats_quantities(const mpb_merge_recipe *r, size_t t);

/* After a pass's exchange, for the tensors active in it (active[pos]). */
int stats_resolve_pass(stats_run *s, const bool *active, mpb_error *err);

/* Once every pass ran: the cuts and window rescale factors into the spec. */
void stats_finish_task(stats_run *s, size_t pos);

/* The slot of a model's cut (level 1 uses cut 0 for the model's histogram). */
uint64_t stats_slot(size_t ts_pos, size_t model, int cut);

/* Sorts records by slot, then key and row descending, and sums the counts
 * of equal (slot, key, row) triples, which stand for the same count: every
 * rank's histogram bins of one tensor (row 0), or one item's magnitudes
 * (its first row).  Returns how many remain. */
size_t stats_compact(stats_rec *recs, size_t n);

int stats_add_rec(stats_run *s, uint64_t slot, uint64_t key, uint64_t row, uint64_t count,
                  mpb_error *err);

bool stats_small(const stats_run *s, size_t tensor);

/* In PASS_SUMS, the kept L1 norm of row `row` of the current item (element
 * `first` of the tensor) for each DELLA model that rescales by L1 norms,
 * into its row sum in s->acc (mpb_merge_stats_della.c). */
int stats_della_row(stats_run *s, const tensor_state *ts, uint64_t row, uint64_t first,
                    mpb_error *err);

/* The merged bins of a slot, found for rank R (mpb_bins_find). */
int stats_find_in_slot(stats_run *s, uint64_t slot, uint64_t rank, const char *name,
                       uint64_t *bin, uint64_t *above, uint64_t *in_bin, mpb_error *err);

/* An item's local counts in s->hist / s->touched from offset `at` (*n_touched
 * of them) become records of `slot`: histogram bins (row 0), or with
 * `values` every value touched[] holds, with the item's first row. */
int stats_flush_region(stats_run *s, uint64_t slot, size_t at, size_t *n_touched, bool values,
                       uint64_t row0, mpb_error *err);

/* ---- arcee_fusion (mpb_merge_stats_fusion.c) ---- */

/* Row sums of PASS_SUMS: the KL of each vector of a row, or a 1-D
 * tensor's row element of the model and of the base. */
size_t stats_fusion_quantities(const mpb_merge_recipe *r, size_t t);
/* The three quantiles' ranks; the passes a tensor of numel elements needs. */
void stats_fusion_init(tensor_state *ts, uint64_t numel);
int stats_fusion_passes(uint64_t numel);
bool stats_fusion_in_pass(const tensor_state *ts, int pass);
/* Over the chunk of n elements at slab offset `at` (element `first` of
 * the tensor): the importance key into the pass's histograms. */
void stats_fusion_chunk(stats_run *s, const tensor_state *ts, uint64_t at, uint64_t first,
                        size_t n, mpb_dtype dt);
/* After the chunks of row `row` of the current item: its row sums. */
int stats_fusion_row(stats_run *s, const tensor_state *ts, uint64_t row, mpb_error *err);
/* At an item's end: its histograms become records. */
int stats_fusion_flush(stats_run *s, size_t pos, const tensor_state *ts, const mpb_item *it,
                       mpb_error *err);
/* After a pass's exchange: the KLs, the quantiles, then the threshold. */
int stats_fusion_resolve(stats_run *s, size_t pos, mpb_error *err);

/* The driver's step for the current pass. */
int stats_round(void *ctx, const mpb_round *round, mpb_error *err);

/* Collective: sums every rank's row sums and gathers every rank's counts,
 * sorted by slot, then key descending. */
int stats_exchange(stats_run *s, MPI_Comm comm, mpb_error *err);

/* The exchanged counts of one slot: recs[*begin .. *end), by key descending
 * and then row descending. */
void stats_slot_range(const stats_run *s, uint64_t slot, size_t *begin, size_t *end);

#endif
