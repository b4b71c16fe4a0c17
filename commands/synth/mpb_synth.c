#include "mpb_synth.h"

#include "mpb_arch.h"
#include "mpb_convert.h"
#include "mpb_job.h"
#include "mpb_plan_print.h"
#include "mpb_provenance.h"
#include "mpb_random.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

struct synth_ctx {
    const mpb_index *idx;
    uint64_t seed;
    mpb_job_output *out;
    unsigned char *buf;
};

/* Values are keyed by (seed, tensor name, flat element index). */
static void fill_rows(const struct synth_ctx *s, const mpb_tensor *t, const mpb_item *it,
                      unsigned char *buf)
{
    enum { BLOCK = 2048 };
    float block[BLOCK];
    uint64_t key = mpb_random_key(s->seed, 0, t->name);
    size_t es = mpb_dtype_size(t->dtype);
    uint64_t row_elems = mpb_tensor_row_bytes(t) / es;
    uint64_t first = it->row0 * row_elems, n = it->nrows * row_elems;
    for (uint64_t done = 0; done < n; done += BLOCK) {
        size_t m = n - done < BLOCK ? (size_t)(n - done) : BLOCK;
        mpb_random_fill_normal(key, first + done, MPB_SYNTH_SIGMA, block, m);
        mpb_convert_from_f32(t->dtype, block, buf + done * es, m);
    }
}

static int synth_round(void *ctx, const mpb_round *round, mpb_error *err)
{
    struct synth_ctx *s = ctx;
    mpb_store *out = &s->out->store;
    for (size_t k = 0; k < round->n && err->code == MPB_OK; k++) {
        const mpb_item *it = round->items[k];
        unsigned char *buf = mpb_round_buf(s->buf, round, k);
        fill_rows(s, &s->idx->tensors[it->tensor], it, buf);
        mpb_drive_write(out, it, buf, err);
    }
    return mpb_store_flush(out, 1, err);
}

int mpb_synth_run(const char *arch, uint64_t seed, mpb_dtype dtype, const char *out_path,
                  const mpb_run_opts *opts, MPI_Comm comm, mpb_error *err)
{
    if (!mpb_dtype_is_blendable(dtype))
        return mpb_fail(err, MPB_EINVAL, "synth writes bf16, f16 or f32, not %s",
                        mpb_dtype_name(dtype));
    mpb_index idx = {0};
    mpb_plan plan = {0};
    int rc = mpb_arch_index(arch, dtype, &idx, err);
    if (rc == MPB_OK)
        rc = mpb_job_share_plan(&idx, opts->slab_bytes, 0, comm, &plan, err);
    if (rc == MPB_OK && opts->dry_run) {
        int rank;
        MPI_Comm_rank(comm, &rank);
        if (rank == 0) {
            printf("synth %s: %zu tensors, %" PRIu64 " bytes, %zu items over %d ranks\n", arch,
                   idx.n, mpb_index_total_bytes(&idx), plan.n_items, plan.nranks);
            mpb_plan_print_io(stdout, &plan, &idx, 0, &opts->io);
        }
    } else if (rc == MPB_OK) {
        char seed_text[32];
        snprintf(seed_text, sizeof seed_text, "%" PRIu64, seed);
        mpb_provenance pv;
        mpb_provenance_init(&pv, comm);
        mpb_provenance_set(&pv, "mpiblend_synth_arch", arch);
        mpb_provenance_set(&pv, "mpiblend_synth_seed", seed_text);
        mpb_job_output out = {.path = out_path,
                              .idx = &idx,
                              .n_attrs = pv.n,
                              .attr_keys = pv.keys,
                              .attr_values = pv.values};
        struct synth_ctx s = {&idx, seed, &out, NULL};
        s.buf = malloc(mpb_drive_buffer_bytes(&plan, &idx, 0, opts->io.collective) + 1);
        if (s.buf == NULL)
            mpb_fail(err, MPB_ENOMEM, "out of memory for a %llu-byte slab",
                     (unsigned long long)opts->slab_bytes);
        mpb_progress progress;
        mpb_progress_init(&progress, "synth", opts->quiet, opts->progress_secs);
        rc = mpb_job_write(&out, &plan, 0, opts, &progress, synth_round, &s, comm, err);
        if (rc == MPB_OK)
            mpb_progress_finish(&progress, comm, 0, mpb_index_total_bytes(&idx), out_path);
        free(s.buf);
    }
    mpb_plan_free(&plan);
    mpb_index_free(&idx);
    return rc;
}
