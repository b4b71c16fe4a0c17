#include "mpb_sweep_run.h"

#include "mpb_comm.h"
#include "mpb_inputs.h"
#include "mpb_job.h"
#include "mpb_lock.h"
#include "mpb_output.h"
#include "mpb_plan_print.h"
#include "mpb_crc32c.h"
#include "mpb_sweep_pass.h"
#include "mpb_sweep_recheck.h"
#include "mpb_sweep_resume.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Everything a sweep holds while it runs; identical on every rank except
 * the manifest, which rank 0 keeps. */
struct sweep {
    const char *config_path, *out_dir;
    const mpb_sweep_opts *opts;
    MPI_Comm comm;
    int rank;
    mpb_config *config;
    mpb_merge_recipe r;
    mpb_sweep *s;
    size_t n_points;
    mpb_sweep_point *pts;
    mpb_plan plan;
    char study_hash[32];
    mpb_manifest m;
    mpb_sweep_todo todo;
    mpb_lock lock; /* rank 0: --out-dir, while the sweep writes there */
};

static int setup(struct sweep *w, mpb_error *err)
{
    int rc = mpb_merge_recipe_build(w->config_path, w->comm, &w->config, &w->r, err);
    if (rc)
        return rc;
    if (!mpb_config_has_sweep(w->config))
        mpb_fail(err, MPB_EINVAL,
                 "config %s has no sweep: section; see docs/SWEEP.md "
                 "(or use mpiblend merge)",
                 w->config_path);
    else if (mpb_sweep_parse(w->r.config_text, strlen(w->r.config_text), w->config_path, &w->s,
                             err) == MPB_OK)
        w->n_points = mpb_sweep_n_points(w->s);
    if (err->code == MPB_OK)
        mpb_sweep_points_build(w->s, &w->r, w->config_path, w->out_dir, &w->pts, err);
    if (err->code == MPB_OK)
        mpb_sweep_study_hash(w->s, w->study_hash, sizeof w->study_hash, err);
    rc = mpb_comm_agree(err, w->comm);
    if (rc == MPB_OK)
        rc = mpb_job_share_plan(&w->r.in_idx, w->opts->run.slab_bytes, w->r.min_elem_size,
                                w->comm, &w->plan, err);
    return rc;
}

static void note_rank0(const char *msg)
{
    fprintf(stderr, "note: %s\n", msg);
}

/* Rank 0, before anything in out_dir changes: no point may be an input,
 * and no other job may write there. */
static int claim_out_dir(struct sweep *w, mpb_error *err)
{
    const char *inputs[MPB_MAX_INPUTS];
    for (size_t i = 0; i < w->r.n_inputs; i++)
        inputs[i] = mpb_config_input_path(w->r.config, i);
    for (size_t k = 0; k < w->n_points && err->code == MPB_OK; k++)
        mpb_output_check_inputs(w->pts[k].path, inputs, w->r.n_inputs, err);
    if (err->code == MPB_OK && mkdir(w->out_dir, 0777) != 0 && errno != EEXIST)
        mpb_fail(err, MPB_EIO, "cannot create output folder '%s': %s", w->out_dir,
                 strerror(errno));
    if (err->code == MPB_OK)
        mpb_lock_take(&w->lock, w->out_dir, note_rank0, err);
    return err->code;
}

/* Which done points still hold the data they were written with: every
 * rank recomputes checksums of a share of their tensors. */
static int recheck_done(struct sweep *w, bool *intact, mpb_error *err)
{
    char(*expected)[32] = calloc(w->n_points + 1, sizeof *expected);
    const char **paths = calloc(w->n_points + 1, sizeof *paths);
    if (expected == NULL || paths == NULL)
        mpb_fail(err, MPB_ENOMEM, "out of memory");
    else if (w->rank == 0)
        mpb_sweep_resume_expect(w->pts, w->n_points, w->out_dir, w->study_hash,
                                w->opts->run.force, expected, err);
    int rc = mpb_comm_agree(err, w->comm);
    if (rc == MPB_OK)
        MPI_Bcast(expected, (int)(w->n_points * sizeof *expected), MPI_CHAR, 0, w->comm);
    for (size_t k = 0; rc == MPB_OK && k < w->n_points; k++)
        paths[k] = w->pts[k].path;
    if (rc == MPB_OK)
        rc = mpb_sweep_recheck(paths, (const char(*)[32])expected, w->n_points, intact, w->comm,
                               err);
    free(expected);
    free(paths);
    return rc;
}

/* Rank 0 decides which points to write; every rank gets the list. */
static int share_todo(struct sweep *w, mpb_error *err)
{
    if (w->rank == 0)
        claim_out_dir(w, err);
    int rc = mpb_comm_agree(err, w->comm);
    bool *intact = calloc(w->n_points + 1, sizeof *intact);
    if (rc == MPB_OK && intact == NULL)
        mpb_fail(err, MPB_ENOMEM, "out of memory");
    if (rc == MPB_OK && (rc = mpb_comm_agree(err, w->comm)) == MPB_OK)
        rc = recheck_done(w, intact, err);
    if (w->rank == 0 && rc == MPB_OK)
        mpb_sweep_resume_plan(w->s, w->pts, w->config_path, w->out_dir, w->study_hash,
                              w->opts->run.force, intact, &w->m, &w->todo, err);
    free(intact);
    if (w->rank == 0 && rc == MPB_OK && err->code == MPB_OK)
        mpb_manifest_write(w->out_dir, &w->m, err);
    rc = mpb_comm_agree(err, w->comm);
    if (rc)
        return rc;
    unsigned char *bytes = (unsigned char *)w->todo.points;
    size_t len = w->todo.n * sizeof *w->todo.points;
    if (w->rank != 0)
        bytes = NULL;
    rc = mpb_comm_bcast_bytes(&bytes, &len, 0, w->comm, err);
    if (rc == MPB_OK && w->rank != 0) {
        w->todo.points = (size_t *)bytes;
        w->todo.n = len / sizeof *w->todo.points;
    }
    return rc;
}

static void record_pass(struct sweep *w, size_t first, size_t n, int pass, double wall,
                        char (*checksums)[32], int rc)
{
    for (size_t k = 0; k < n; k++) {
        const mpb_sweep_point *p = &w->pts[w->todo.points[first + k]];
        mpb_manifest_point *row = &w->m.points[w->todo.entry[p->index]];
        snprintf(row->status, sizeof row->status, "%s", rc == MPB_OK ? "done" : "failed");
        row->pass = pass;
        row->wall_s = wall;
        if (rc == MPB_OK) {
            row->bytes = mpb_sweep_output_bytes(p->path);
            snprintf(row->checksum, sizeof row->checksum, "%s", checksums[k]);
        }
    }
}

static int run_passes(struct sweep *w, mpb_error *err)
{
    size_t per = w->opts->max_outputs ? w->opts->max_outputs : w->todo.n;
    size_t n_passes = per ? (w->todo.n + per - 1) / per : 0;
    if (w->rank == 0)
        printf("sweep: %zu points, %zu complete, %zu to write in %zu pass%s into %s\n",
               w->n_points, w->n_points - w->todo.n, w->todo.n, n_passes,
               n_passes == 1 ? "" : "es", w->out_dir);
    fflush(stdout);
    char(*checksums)[32] = calloc(per + 1, sizeof *checksums);
    mpb_sweep_point **batch = calloc(per + 1, sizeof *batch);
    if (checksums == NULL || batch == NULL)
        mpb_fail(err, MPB_ENOMEM, "out of memory");
    int rc = mpb_comm_agree(err, w->comm);
    for (size_t pass = 0; pass < n_passes && rc == MPB_OK; pass++) {
        size_t first = pass * per, n = w->todo.n - first < per ? w->todo.n - first : per;
        for (size_t k = 0; k < n; k++)
            batch[k] = &w->pts[w->todo.points[first + k]];
        mpb_progress progress;
        mpb_progress_init(&progress, "sweep", w->opts->run.quiet, w->opts->run.progress_secs);
        double t0 = mpb_now();
        uint64_t read = 0;
        rc = mpb_sweep_pass_write(&w->r, &w->plan, batch, n, &w->opts->run, &progress,
                                  checksums, &read, w->comm, err);
        double wall = mpb_comm_max_double(mpb_now() - t0, w->comm);
        if (rc == MPB_OK)
            mpb_progress_finish(&progress, w->comm, read,
                                n * mpb_index_total_bytes(&w->r.out_idx), w->out_dir);
        if (w->rank == 0) {
            mpb_error manifest_err = {0};
            record_pass(w, first, n, (int)pass + 1, wall, checksums, rc);
            mpb_manifest_write(w->out_dir, &w->m, &manifest_err);
            if (rc == MPB_OK && manifest_err.code)
                *err = manifest_err;
            printf("pass %zu/%zu: %zu output%s in %.2f s\n", pass + 1, n_passes, n,
                   n == 1 ? "" : "s", wall);
            fflush(stdout);
        }
        rc = mpb_comm_agree(err, w->comm);
    }
    if (w->rank == 0 && rc == MPB_OK)
        printf("manifest: %s/%s\n", w->out_dir, MPB_MANIFEST_CSV);
    free(checksums);
    free(batch);
    return rc;
}

static void print_dry_run(struct sweep *w)
{
    if (w->rank != 0)
        return;
    size_t per = w->opts->max_outputs ? w->opts->max_outputs : w->n_points;
    printf("dry run: sweep of %s, %zu points in %zu pass%s; nothing is written\n",
           mpb_method_name(mpb_config_method(w->config)), w->n_points,
           (w->n_points + per - 1) / per, (w->n_points + per - 1) / per == 1 ? "" : "es");
    for (size_t i = 0; i < w->n_points; i++) {
        printf("  point %zu:", i);
        for (size_t j = 0; j < mpb_sweep_n_params(w->s); j++)
            printf(" %s=%s", mpb_sweep_param_name(w->s, j), mpb_sweep_value_text(w->s, i, j));
        printf(" -> %s\n", w->pts[i].path);
    }
    for (size_t i = 0; i < w->r.n_inputs; i++)
        mpb_inputs_note_ignored(stdout, mpb_config_input_path(w->r.config, i));
    mpb_plan_print(stdout, &w->plan, &w->r.in_idx, w->r.min_elem_size,
                   mpb_merge_recipe_read_bytes(&w->r),
                   w->n_points * mpb_index_total_bytes(&w->r.out_idx), w->pts[0].path);
    mpb_plan_print_io(stdout, &w->plan, &w->r.in_idx, w->r.min_elem_size, &w->opts->run.io);
    fflush(stdout);
}

int mpb_sweep_run(const char *config_path, const char *out_dir, const mpb_sweep_opts *opts,
                  MPI_Comm comm, mpb_error *err)
{
    struct sweep w = {
        .config_path = config_path, .out_dir = out_dir, .opts = opts, .comm = comm};
    MPI_Comm_rank(comm, &w.rank);
    int rc = setup(&w, err);
    if (rc == MPB_OK && opts->run.dry_run)
        print_dry_run(&w);
    else if (rc == MPB_OK && (rc = share_todo(&w, err)) == MPB_OK)
        rc = run_passes(&w, err);
    if (w.rank == 0) {
        mpb_manifest_free(&w.m);
        mpb_lock_release(&w.lock);
    }
    mpb_sweep_todo_free(&w.todo);
    mpb_plan_free(&w.plan);
    mpb_sweep_points_free(w.pts, w.n_points);
    mpb_sweep_free(w.s);
    mpb_merge_recipe_free(&w.r);
    mpb_config_free(w.config);
    return rc;
}
