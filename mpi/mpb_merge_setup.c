#include "mpb_merge_setup.h"

#include "mpb_comm.h"
#include "mpb_store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int read_text_file(const char *path, char **text, mpb_error *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return mpb_fail(err, MPB_EINVAL, "cannot read config '%s': %s", path,
                        strerror(errno));
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += got;
        if (len + 1 == cap) {
            char *grown = realloc(buf, cap *= 2);
            if (grown == NULL)
                free(buf);
            buf = grown;
        }
    }
    int failed = ferror(f);
    fclose(f);
    if (buf == NULL)
        return mpb_fail(err, MPB_ENOMEM, "out of memory reading '%s'", path);
    if (failed) {
        free(buf);
        return mpb_fail(err, MPB_EIO, "cannot read config '%s'", path);
    }
    buf[len] = '\0';
    *text = buf;
    return MPB_OK;
}

/* Rank 0 only: every input's index must match the first one's. */
static int read_inputs_index(const mpb_config *c, mpb_index *idx, mpb_error *err)
{
    size_t n = mpb_config_n_inputs(c);
    const char *first = mpb_config_input_path(c, 0);
    int rc = mpb_store_for_path(first)->read_index(first, idx, err);
    for (size_t i = 1; i < n && rc == MPB_OK; i++) {
        const char *path = mpb_config_input_path(c, i);
        mpb_index other = {0};
        rc = mpb_store_for_path(path)->read_index(path, &other, err);
        if (rc == MPB_OK)
            rc = mpb_index_check_same(idx, first, &other, path, err);
        mpb_index_free(&other);
    }
    return rc;
}

static int share_index(mpb_index *idx, MPI_Comm comm, mpb_error *err)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    unsigned char *packed = NULL;
    size_t len = 0;
    if (rank == 0)
        mpb_index_pack(idx, &packed, &len, err);
    int rc = mpb_comm_agree(err, comm);
    if (rc == MPB_OK)
        rc = mpb_comm_bcast_bytes(&packed, &len, 0, comm, err);
    if (rc == MPB_OK && rank != 0)
        mpb_index_unpack(packed, len, idx, err);
    free(packed);
    return mpb_comm_agree(err, comm);
}

static int count_layers(const mpb_index *idx)
{
    int max = -1;
    for (size_t i = 0; i < idx->n; i++) {
        int layer = mpb_tensor_layer(idx->tensors[i].name);
        if (layer > max)
            max = layer;
    }
    return max + 1;
}

static int method_is_weighted_sum(mpb_method m)
{
    return m == MPB_METHOD_LINEAR || m == MPB_METHOD_INTERPOLATE ||
           m == MPB_METHOD_PASSTHROUGH || m == MPB_METHOD_TASK_ARITHMETIC;
}

/* Per tensor: copied or blended, and the fp32 coefficients. */
static int resolve_tensors(mpb_merge_recipe *r, mpb_error *err)
{
    const mpb_config *c = r->config;
    mpb_method m = mpb_config_method(c);
    if (!method_is_weighted_sum(m))
        return mpb_fail(err, MPB_EINVAL, "merge_method '%s' is not implemented yet",
                        mpb_method_name(m));
    size_t nt = r->in_idx.n, ni = r->n_inputs;
    r->copy_from = malloc(nt * sizeof *r->copy_from);
    r->coef = calloc(nt * ni, sizeof *r->coef);
    if (r->copy_from == NULL || r->coef == NULL)
        return mpb_fail(err, MPB_ENOMEM, "out of memory for %zu tensors", nt);
    int base = mpb_config_base_index(c);
    mpb_dtype out_dt = mpb_config_out_dtype(c);
    for (size_t t = 0; t < nt; t++) {
        const mpb_tensor *tensor = &r->in_idx.tensors[t];
        mpb_tensor_params p;
        int rc = mpb_config_resolve(c, tensor->name, r->n_layers, &p, err);
        if (rc == MPB_OK)
            rc = mpb_config_coefficients(&p, m, &r->coef[t * ni], err);
        if (rc)
            return rc;
        r->copy_from[t] = p.copy_from;
        if (!mpb_dtype_is_blendable(tensor->dtype)) {
            /* Integer, bool and fp8 tensors are carried, never blended. */
            r->copy_from[t] = p.copy_from >= 0 ? p.copy_from : (base >= 0 ? base : 0);
        } else if (out_dt != MPB_DT_INVALID) {
            r->out_idx.tensors[t].dtype = out_dt;
        }
    }
    return MPB_OK;
}

static int copy_index(const mpb_index *src, mpb_index *dst, mpb_error *err)
{
    int rc = MPB_OK;
    for (size_t i = 0; i < src->n && rc == MPB_OK; i++) {
        const mpb_tensor *t = &src->tensors[i];
        rc = mpb_index_add(dst, t->name, t->dtype, t->ndim, t->shape, err);
    }
    return rc;
}

int mpb_merge_recipe_build(const char *config_path, MPI_Comm comm, mpb_config **config,
                           mpb_merge_recipe *r, mpb_error *err)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    memset(r, 0, sizeof *r);
    *config = NULL;
    char *text = NULL;
    if (rank == 0)
        read_text_file(config_path, &text, err);
    int rc = mpb_comm_agree(err, comm);
    if (rc == MPB_OK)
        rc = mpb_comm_bcast_string(&text, 0, comm, err);
    if (rc == MPB_OK) {
        /* Every rank parses the same text: no structure to serialise. */
        mpb_config_parse(text, strlen(text), config_path, config, err);
        if (rank == 0 && err->code == MPB_OK)
            mpb_config_check_files(*config, err);
        if (rank == 0 && err->code == MPB_OK)
            read_inputs_index(*config, &r->in_idx, err);
        rc = share_index(&r->in_idx, comm, err);
    }
    r->config_text = text;
    if (rc)
        return rc;
    r->config = *config;
    r->n_inputs = mpb_config_n_inputs(*config);
    r->n_layers = count_layers(&r->in_idx);
    rc = copy_index(&r->in_idx, &r->out_idx, err);
    if (rc == MPB_OK)
        rc = resolve_tensors(r, err);
    mpb_dtype out_dt = mpb_config_out_dtype(*config);
    r->min_elem_size = out_dt != MPB_DT_INVALID ? mpb_dtype_size(out_dt) : 0;
    return mpb_comm_agree(err, comm);
}

void mpb_merge_recipe_free(mpb_merge_recipe *r)
{
    mpb_index_free(&r->in_idx);
    mpb_index_free(&r->out_idx);
    free(r->copy_from);
    free(r->coef);
    free(r->config_text);
    memset(r, 0, sizeof *r);
}

uint64_t mpb_merge_recipe_read_bytes(const mpb_merge_recipe *r)
{
    uint64_t total = 0;
    for (size_t t = 0; t < r->in_idx.n; t++) {
        uint64_t b = mpb_tensor_bytes(&r->in_idx.tensors[t]);
        total += r->copy_from[t] >= 0 ? b : b * r->n_inputs;
    }
    return total;
}
