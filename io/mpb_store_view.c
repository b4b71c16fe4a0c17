/* A read-only store that reads each tensor of an index from one of several
 * open checkpoints, under another name: one input of a `slices:` merge
 * (input k reads slice s's k-th source, whose layers are renumbered; a
 * tensor whose slice lists fewer sources reads as zeros, from no file). */
#include "mpb_store_view.h"

#include "mpb_comm.h"

#include <stdlib.h>
#include <string.h>

typedef struct view {
    size_t n_models;
    mpb_store *subs;        /* per model; handle NULL when this view reads none */
    mpb_tensor_source *map; /* per tensor */
    uint64_t *row_bytes;    /* per tensor, for the ones without a source */
    size_t n_tensors;
} view;

static int view_read_rows(void *handle, size_t tensor, uint64_t row0, uint64_t nrows, void *buf,
                          mpb_error *err)
{
    view *v = handle;
    if (tensor >= v->n_tensors)
        return mpb_fail(err, MPB_EINTERNAL, "tensor %zu is outside the view", tensor);
    const mpb_tensor_source *src = &v->map[tensor];
    if (src->model == MPB_NO_SOURCE) { /* the blend does not use it */
        memset(buf, 0, nrows * v->row_bytes[tensor]);
        return MPB_OK;
    }
    mpb_store *sub = &v->subs[src->model];
    return sub->ops->read_rows(sub->handle, src->tensor, row0, nrows, buf, err);
}

/* Collective: every rank flushes the same stores in the same order. */
static int view_flush(void *handle, mpb_error *err)
{
    view *v = handle;
    for (size_t m = 0; m < v->n_models; m++)
        if (v->subs[m].handle != NULL && v->subs[m].ops->flush != NULL)
            v->subs[m].ops->flush(v->subs[m].handle, err);
    return err->code;
}

static int view_close(void *handle, mpb_error *err)
{
    view *v = handle;
    for (size_t m = 0; v->subs && m < v->n_models; m++) {
        if (v->subs[m].handle == NULL)
            continue;
        mpb_error close_err = {0};
        v->subs[m].ops->close(v->subs[m].handle, &close_err);
        if (err->code == MPB_OK && close_err.code != MPB_OK)
            *err = close_err;
    }
    free(v->subs);
    free(v->map);
    free(v->row_bytes);
    free(v);
    return err->code;
}

static const mpb_store_ops view_ops = {
    .name = "view",
    .read_rows = view_read_rows,
    .flush = view_flush,
    .close = view_close,
};

int mpb_store_view_open(const char *const *paths, const mpb_index *models, size_t n_models,
                        const mpb_tensor_source *map, size_t stride, const mpb_index *tensors,
                        const mpb_io_opts *io, MPI_Comm comm, mpb_store *out, mpb_error *err)
{
    size_t n_tensors = tensors->n;
    out->ops = &view_ops;
    out->handle = NULL;
    view *v = calloc(1, sizeof *v);
    bool *used = calloc(n_models ? n_models : 1, sizeof *used);
    if (v != NULL) {
        v->subs = calloc(n_models ? n_models : 1, sizeof *v->subs);
        v->map = malloc((n_tensors ? n_tensors : 1) * sizeof *v->map);
        v->row_bytes = malloc((n_tensors ? n_tensors : 1) * sizeof *v->row_bytes);
    }
    if (v == NULL || used == NULL || v->subs == NULL || v->map == NULL ||
        v->row_bytes == NULL) {
        free(used);
        if (v != NULL) {
            free(v->subs);
            free(v->map);
            free(v->row_bytes);
            free(v);
        }
        return mpb_fail(err, MPB_ENOMEM, "out of memory for an input view");
    }
    v->n_models = n_models;
    v->n_tensors = n_tensors;
    for (size_t t = 0; t < n_tensors; t++) {
        v->map[t] = map[t * stride];
        v->row_bytes[t] = mpb_tensor_row_bytes(&tensors->tensors[t]);
        if (v->map[t].model != MPB_NO_SOURCE)
            used[v->map[t].model] = true;
    }
    /* Same maps on every rank: the same opens in the same order. */
    int rc = MPB_OK;
    for (size_t m = 0; m < n_models && rc == MPB_OK; m++) {
        if (!used[m])
            continue;
        v->subs[m].ops = mpb_store_for_path(paths[m]);
        v->subs[m].ops->open(paths[m], comm, &models[m], io, &v->subs[m].handle, err);
        rc = mpb_comm_agree(err, comm);
    }
    free(used);
    if (rc != MPB_OK) {
        view_close(v, err); /* collective, like the opens */
        return rc;
    }
    out->handle = v;
    return MPB_OK;
}
