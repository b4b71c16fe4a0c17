#include "mpb_verify.h"

#include "mpb_audit.h"
#include "mpb_checksum.h"
#include "mpb_comm.h"
#include "mpb_h5_attrs.h"
#include "mpb_inputs.h"
#include "mpb_job.h"
#include "mpb_sweep_manifest.h" /* MPB_CHECKSUM_ATTR */
#include "mpb_verify_internal.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static char *attr_copy(const mpb_h5_attrs *a, const char *key)
{
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->keys[i], key) == 0)
            return strdup(a->values[i]);
    return NULL;
}

/* Rank 0: the output's index and, for HDF5 outputs, its provenance. */
static bool verifiable(const mpb_method_def *def)
{
    return def->verifiable;
}

static int read_output(struct mpb_verify *v, mpb_error *err)
{
    const mpb_store_ops *ops = mpb_store_for_path(v->out_path);
    int rc = ops->read_index(v->out_path, &v->out_idx, err);
    if (rc != MPB_OK || ops != &mpb_store_hdf5)
        return rc;
    mpb_h5_attrs attrs = {0};
    rc = mpb_h5_attrs_read(v->out_path, &attrs, err);
    if (rc == MPB_OK) {
        v->stored_checksum = attr_copy(&attrs, MPB_CHECKSUM_ATTR);
        v->input_checksums = attr_copy(&attrs, MPB_INPUT_CHECKSUMS_ATTR);
        v->stored_config = attr_copy(&attrs, "mpiblend_config");
        v->stored_inputs = attr_copy(&attrs, "mpiblend_inputs");
    }
    mpb_h5_attrs_free(&attrs);
    return rc;
}

static int share_output(struct mpb_verify *v, mpb_error *err)
{
    if (v->rank == 0)
        read_output(v, err);
    int rc = mpb_job_share_index(&v->out_idx, 0, v->comm, err);
    if (rc == MPB_OK)
        rc = mpb_comm_bcast_string(&v->stored_checksum, 0, v->comm, err);
    if (rc == MPB_OK)
        rc = mpb_comm_bcast_string(&v->input_checksums, 0, v->comm, err);
    if (rc == MPB_OK)
        rc = mpb_comm_bcast_string(&v->stored_config, 0, v->comm, err);
    if (rc == MPB_OK)
        rc = mpb_comm_bcast_string(&v->stored_inputs, 0, v->comm, err);
    return rc;
}

/* Each rank opens the files for itself: independent reads, no plan. */
static int open_files(struct mpb_verify *v, mpb_error *err)
{
    mpb_io_opts io = {.collective = false};
    const char *out_path = v->out_path;
    int rc = mpb_inputs_open(&out_path, 1, &v->out_idx, NULL, &io, MPI_COMM_SELF, &v->out, err);
    if (rc == MPB_OK && v->have_recipe && v->r.sources != NULL) /* slices: views */
        rc = mpb_merge_recipe_open_inputs(&v->r, &io, MPI_COMM_SELF, v->inputs, err);
    else if (rc == MPB_OK && v->have_recipe)
        rc = mpb_inputs_open(v->input_paths, v->r.n_inputs, &v->r.in_idx, v->r.own_idx, &io,
                             MPI_COMM_SELF, v->inputs, err);
    return mpb_comm_agree(err, v->comm);
}

static int load_recipe(struct mpb_verify *v, const char *config_path, mpb_error *err)
{
    int rc = mpb_merge_recipe_build(config_path, v->comm, &v->config, &v->r, err);
    if (rc != MPB_OK)
        return rc;
    v->have_recipe = true;
    for (size_t i = 0; i < v->r.n_inputs; i++)
        v->input_paths[i] = mpb_config_input_path(v->config, i);
    if (v->rank == 0)
        mpb_index_check_same(&v->r.out_idx, config_path, &v->out_idx, v->out_path, err);
    if (err->code != MPB_OK)
        mpb_error_prefix(err, "'%s' is not the output of '%s': ", v->out_path, config_path);
    return mpb_comm_agree(err, v->comm);
}

/* Input i's path as the output recorded it, or NULL. */
static const char *recorded_input(json_t *list, size_t i)
{
    return json_string_value(json_object_get(json_array_get(list, i), "path"));
}

/* The config path whose folder makes the recorded config's relative model
 * paths resolve to the recorded inputs: "DIR/mpiblend_config", where DIR is
 * what the merge joined to them.  Empty when no such folder exists. */
static void recorded_config_path(const char *text, json_t *list, char *buf, size_t len)
{
    static const char name[] = "mpiblend_config";
    mpb_config *as_written = NULL;
    mpb_error ignored = {0};
    buf[0] = '\0';
    if (mpb_config_parse(text, strlen(text), name, &as_written, &ignored) != MPB_OK)
        return;
    snprintf(buf, len, "%s", name); /* absolute paths: any folder will do */
    for (size_t i = 0; i < mpb_config_n_inputs(as_written); i++) {
        const char *w = mpb_config_input_path(as_written, i), *r = recorded_input(list, i);
        size_t nw = strlen(w), nr = r ? strlen(r) : 0;
        if (w[0] == '/')
            continue;
        if (r != NULL && nr > nw && strcmp(r + nr - nw, w) == 0 && r[nr - nw - 1] == '/')
            snprintf(buf, len, "%.*s%s", (int)(nr - nw), r, name);
        else if (r == NULL || strcmp(r, w) != 0)
            buf[0] = '\0';
        break;
    }
    mpb_config_free(as_written);
}

/* Without --config: the merge's own config and inputs as the output
 * records them, for the input checksums.  A recorded merge whose inputs
 * are gone or moved is not checked, with the reason in *why. */
static int load_recorded_recipe(struct mpb_verify *v, const char **why, mpb_error *err)
{
    *why = "the output records no config or no inputs";
    if (v->stored_config == NULL || v->stored_inputs == NULL || v->input_checksums == NULL)
        return MPB_OK;
    json_t *list = json_loads(v->stored_inputs, 0, NULL);
    char path[4096];
    recorded_config_path(v->stored_config, list, path, sizeof path);
    *why = "the recorded config does not name the recorded inputs";
    mpb_error build_err = {0};
    if (path[0] != '\0' &&
        mpb_merge_recipe_build_text(v->rank == 0 ? strdup(v->stored_config) : NULL, path,
                                    v->comm, &v->config, &v->r, &build_err) == MPB_OK) {
        bool same = json_array_size(list) == v->r.n_inputs;
        for (size_t i = 0; same && i < v->r.n_inputs; i++)
            same = recorded_input(list, i) &&
                   strcmp(recorded_input(list, i), mpb_config_input_path(v->config, i)) == 0;
        v->have_recipe = same;
        for (size_t i = 0; same && i < v->r.n_inputs; i++)
            v->input_paths[i] = mpb_config_input_path(v->config, i);
    } else if (path[0] != '\0') {
        static char reason[MPB_ERROR_MSG_MAX + 64];
        snprintf(reason, sizeof reason, "cannot read the recorded inputs (%s)", build_err.msg);
        *why = reason;
    }
    if (build_err.code == MPB_ENOMEM)
        *err = build_err;
    json_decref(list);
    return mpb_comm_agree(err, v->comm);
}

/* Collects the checks' outcomes; the first failure becomes the error. */
struct report {
    FILE *out;
    bool root;
    int ran, failed;
    mpb_error first;
};

static void line(struct report *rep, const char *what, bool ok, const char *detail)
{
    if (rep->root)
        fprintf(rep->out, "  %-16s %s%s\n", what, ok ? "ok: " : "FAILED: ", detail);
    rep->ran++;
    rep->failed += !ok;
}

static void skipped(struct report *rep, const char *what, const char *why)
{
    if (rep->root)
        fprintf(rep->out, "  %-16s not checked: %s\n", what, why);
}

static void check_output(struct mpb_verify *v, struct report *rep, mpb_error *err)
{
    uint32_t stored, computed;
    char detail[256], have[MPB_CHECKSUM_TEXT_MAX];
    if (v->stored_checksum == NULL) {
        skipped(rep, "data checksum", "none stored (an older mpiblend, or not an HDF5 file)");
        return;
    }
    if (!mpb_checksum_parse(v->stored_checksum, &stored)) {
        snprintf(detail, sizeof detail, "unreadable stored value '%.64s'", v->stored_checksum);
        line(rep, "data checksum", false, detail);
        mpb_fail(&rep->first, MPB_EINVAL, "'%s': %s", v->out_path, detail);
        return;
    }
    if (mpb_verify_output_checksum(v, &computed, err) != MPB_OK)
        return;
    mpb_checksum_format(computed, have);
    bool ok = computed == stored;
    snprintf(detail, sizeof detail, "%s computed, %s stored%s", have, v->stored_checksum,
             ok ? "" : ": the tensor data changed after it was written");
    line(rep, "data checksum", ok, detail);
    if (!ok)
        mpb_fail(&rep->first, MPB_EINVAL, "'%s': data checksum %s", v->out_path, detail);
}

/* The recorded list, or false when it does not fit the config's inputs. */
static bool parse_recorded(const char *json, size_t n, uint32_t *crc)
{
    json_t *list = json_loads(json, 0, NULL);
    bool ok = json_is_array(list) && json_array_size(list) == n;
    for (size_t i = 0; ok && i < n; i++) {
        const char *s = json_string_value(json_array_get(list, i));
        ok = s != NULL && mpb_checksum_parse(s, &crc[i]);
    }
    json_decref(list);
    return ok;
}

static void check_inputs(struct mpb_verify *v, struct report *rep, mpb_error *err)
{
    uint32_t recorded[MPB_MAX_INPUTS], now[MPB_MAX_INPUTS];
    if (v->input_checksums == NULL) {
        skipped(rep, "input checksums", "none recorded in the output");
        return;
    }
    if (!parse_recorded(v->input_checksums, v->r.n_inputs, recorded)) {
        skipped(rep, "input checksums", "the recorded list does not match the config's inputs");
        return;
    }
    if (mpb_verify_input_checksums(v, now, err) != MPB_OK)
        return;
    size_t changed = 0;
    for (size_t i = 0; i < v->r.n_inputs; i++) {
        if (now[i] == recorded[i])
            continue;
        if (changed++ == 0)
            mpb_fail(&rep->first, MPB_EINVAL,
                     "input '%s' changed since the merge (its data checksum differs from the "
                     "one recorded in '%s')",
                     v->input_paths[i], v->out_path);
        if (rep->root)
            fprintf(rep->out, "  input %zu '%s' changed since the merge\n", i,
                    v->input_paths[i]);
    }
    char detail[128];
    snprintf(detail, sizeof detail, "%zu of %zu inputs unchanged since the merge",
             v->r.n_inputs - changed, v->r.n_inputs);
    line(rep, "input checksums", changed == 0, detail);
}

static void check_samples(struct mpb_verify *v, uint64_t sample, struct report *rep,
                          mpb_error *err)
{
    uint64_t checked = 0, bad = 0;
    mpb_error mismatch = {0};
    if (mpb_verify_samples(v, sample, &checked, &bad, &mismatch) != MPB_OK && bad == 0) {
        *err = mismatch; /* a read failed: no verdict */
        return;
    }
    char detail[160];
    snprintf(detail, sizeof detail,
             "%llu elements of %zu tensors recomputed from %zu inputs, "
             "%llu differ",
             (unsigned long long)checked, v->out_idx.n, v->r.n_inputs, (unsigned long long)bad);
    line(rep, "samples", bad == 0, detail);
    if (bad > 0 && rep->root)
        fprintf(rep->out, "  first difference: %s\n", mismatch.msg);
    if (bad > 0 && rep->first.code == MPB_OK)
        rep->first = mismatch;
}

static void free_verify(struct mpb_verify *v, mpb_error *err)
{
    mpb_inputs_close(&v->out, v->out.handle ? 1 : 0, err);
    if (v->have_recipe)
        mpb_inputs_close(v->inputs, v->r.n_inputs, err);
    mpb_merge_recipe_free(&v->r); /* also what a failed build left */
    mpb_config_free(v->config);
    mpb_index_free(&v->out_idx);
    free(v->stored_checksum);
    free(v->input_checksums);
    free(v->stored_config);
    free(v->stored_inputs);
}

static int prepare(struct mpb_verify *v, const char *config_path, FILE *out,
                   const char **no_inputs, mpb_error *err)
{
    int rc = share_output(v, err);
    if (rc == MPB_OK && config_path)
        rc = load_recipe(v, config_path, err);
    else if (rc == MPB_OK)
        rc = load_recorded_recipe(v, no_inputs, err);
    char list[256];
    if (rc == MPB_OK && config_path && !mpb_verify_method_supported(v->r.method))
        rc = mpb_fail(err, MPB_EINVAL,
                      "verify supports %s for now, not '%s'; without --config it checks the "
                      "stored data checksum only",
                      mpb_method_list_if(verifiable, list, sizeof list),
                      mpb_method_name(v->r.method));
    if (rc == MPB_OK && !config_path && v->stored_checksum == NULL)
        rc = mpb_fail(err, MPB_EINVAL,
                      "'%s' stores no data checksum; give --config CONFIG.yaml to recompute "
                      "its elements from the inputs",
                      v->out_path);
    if (rc == MPB_OK)
        rc = open_files(v, err);
    if (rc == MPB_OK && v->rank == 0) {
        fprintf(out, "verify %s: %zu tensors, %d ranks\n", v->out_path, v->out_idx.n,
                v->nranks);
        if (config_path && v->stored_config && strcmp(v->stored_config, v->r.config_text))
            fprintf(out, "  note: %s differs from the config recorded in the output\n",
                    config_path);
    }
    return rc;
}

int mpb_verify_run(const char *out_path, const char *config_path, uint64_t sample, FILE *out,
                   MPI_Comm comm, mpb_error *err)
{
    struct mpb_verify v = {.out_path = out_path, .comm = comm};
    MPI_Comm_rank(comm, &v.rank);
    MPI_Comm_size(comm, &v.nranks);
    struct report rep = {.out = out, .root = v.rank == 0};
    const char *no_inputs = NULL;
    int rc = prepare(&v, config_path, out, &no_inputs, err);
    if (rc == MPB_OK)
        check_output(&v, &rep, err);
    if (err->code == MPB_OK && v.have_recipe)
        check_inputs(&v, &rep, err);
    else if (err->code == MPB_OK && v.input_checksums)
        skipped(&rep, "input checksums", no_inputs);
    if (err->code == MPB_OK && config_path && sample > 0)
        check_samples(&v, sample, &rep, err);
    if (err->code == MPB_OK && rep.first.code != MPB_OK)
        *err = rep.first;
    else if (err->code == MPB_OK && rep.ran == 0)
        mpb_fail(err, MPB_EINVAL, "'%s': nothing could be checked", out_path);
    if (rc == MPB_OK && err->code == MPB_OK && v.rank == 0)
        fprintf(out, "verify: ok\n");
    fflush(out);
    free_verify(&v, err);
    return mpb_comm_agree(err, comm);
}
