#include "mpb_sweep_run.h"

#include "mpb_comm.h"
#include "mpb_job.h"
#include "mpb_plan_print.h"
#include "mpb_sweep_checksum.h"
#include "mpb_sweep_pass.h"
#include "mpb_sweep_resume.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
};

static int setup(struct sweep *w, mpb_error *err)
{
    int rc = mpb_merge_recipe_build(w->config_path, w->comm, &w->config, &w->r, err);
    if (rc)
        return rc;
    if (!mpb_config_has_sweep(w->config))
        mpb_fail(err, MPB_EINVAL, "config %s has no sweep: section; see docs/SWEEP.md "
                 "(or use mpiblend merge)", w->config_path);
    else if (mpb_sweep_parse(w->r.config_text, strlen(w->r.config_text), w->config_path,
                             &w->s, err) == MPB_OK)
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

/* Rank 0 decides which points to write; every rank gets the list. */
static int share_todo(struct sweep *w, mpb_error *err)
{
    if (w->rank == 0)
        mpb_sweep_resume_plan(w->s, w->pts, w->config_path, w->out_dir, w->study_hash,
                              w->opts->run.force, &w->m, &w->todo, err);
    if (w->rank == 0 && err->code == MPB_OK)
        mpb_manifest_write(w->out_dir, &w->m, err);
    int rc = mpb_comm_agree(err, w->comm);
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
    char (*checksums)[32] = calloc(per + 1, sizeof *checksums);
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
        rc = mpb_sweep_pass_write(&w->r, &w->plan, batch, n, &w->opts->run, &progress,
                                  checksums, w->comm, err);
        double wall = mpb_comm_max_double(mpb_now() - t0, w->comm);
        if (rc == MPB_OK)
            mpb_progress_finish(&progress, w->comm, mpb_merge_recipe_read_bytes(&w->r),
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
    mpb_plan_print(stdout, &w->plan, &w->r.in_idx, w->r.min_elem_size,
                   mpb_merge_recipe_read_bytes(&w->r),
                   w->n_points * mpb_index_total_bytes(&w->r.out_idx), w->pts[0].path);
    mpb_plan_print_io(stdout, &w->plan, &w->r.in_idx, w->r.min_elem_size,
                      w->opts->run.io.collective);
    fflush(stdout);
}

int mpb_sweep_run(const char *config_path, const char *out_dir, const mpb_sweep_opts *opts,
                  MPI_Comm comm, mpb_error *err)
{
    struct sweep w = {.config_path = config_path, .out_dir = out_dir, .opts = opts,
                      .comm = comm};
    MPI_Comm_rank(comm, &w.rank);
    int rc = setup(&w, err);
    if (rc == MPB_OK && opts->run.dry_run)
        print_dry_run(&w);
    else if (rc == MPB_OK && (rc = share_todo(&w, err)) == MPB_OK)
        rc = run_passes(&w, err);
    if (w.rank == 0)
        mpb_manifest_free(&w.m);
    mpb_sweep_todo_free(&w.todo);
    mpb_plan_free(&w.plan);
    mpb_sweep_points_free(w.pts, w.n_points);
    mpb_sweep_free(w.s);
    mpb_merge_recipe_free(&w.r);
    mpb_config_free(w.config);
    return rc;
}
