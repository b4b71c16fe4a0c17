#include "mpb_inspect.h"

#include "mpb_comm.h"
#include "mpb_config.h"
#include "mpb_h5_attrs.h"
#include "mpb_inputs.h"
#include "mpb_safetensors.h"
#include "mpb_store.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static void find_embeddings(mpb_inspect_info *info)
{
    bool embed = false, head = false;
    int max_layer = -1;
    for (size_t i = 0; i < info->idx.n; i++) {
        const char *name = info->idx.tensors[i].name;
        embed |= ends_with(name, "embed_tokens.weight");
        head |= ends_with(name, "lm_head.weight");
        int layer = mpb_tensor_layer(name);
        max_layer = layer > max_layer ? layer : max_layer;
    }
    info->layers = max_layer + 1;
    info->embeddings = !embed ? MPB_EMBED_NONE : head ? MPB_EMBED_UNTIED : MPB_EMBED_TIED;
}

/* What config.json says, when the checkpoint carries one; a config that
 * does not parse is reported as saying nothing. */
static int read_config_json(mpb_inspect_info *info, mpb_error *err)
{
    info->config_tied = -1;
    const mpb_hf_file *f = mpb_hf_files_find(&info->files, "config.json");
    json_t *root = f ? json_loadb((const char *)f->data, f->len, 0, NULL) : NULL;
    if (root == NULL)
        return MPB_OK;
    json_t *tied = json_object_get(root, "tie_word_embeddings");
    if (json_is_boolean(tied))
        info->config_tied = json_is_true(tied);
    const char *arch =
        json_string_value(json_array_get(json_object_get(root, "architectures"), 0));
    if (arch != NULL && (info->architecture = strdup(arch)) == NULL)
        mpb_fail(err, MPB_ENOMEM, "out of memory reading '%s'", info->path);
    json_decref(root);
    return err->code;
}

static int read_h5_provenance(mpb_inspect_info *info, mpb_error *err)
{
    return mpb_h5_attrs_read(info->path, &info->prov, err);
}

/* safetensors keeps provenance in the first file's __metadata__; the same
 * key/value lists hold it. */
static int read_st_provenance(mpb_inspect_info *info, mpb_error *err)
{
    mpb_st_model m;
    int rc = mpb_st_model_open(info->path, &m, err);
    if (rc != MPB_OK)
        return rc;
    const mpb_st_file *f = m.n_files ? &m.files[0] : NULL;
    size_t n = f ? f->n_meta : 0;
    mpb_h5_attrs *prov = &info->prov;
    prov->keys = calloc(n + 1, sizeof *prov->keys);
    prov->values = calloc(n + 1, sizeof *prov->values);
    if (prov->keys == NULL || prov->values == NULL)
        rc = mpb_fail(err, MPB_ENOMEM, "out of memory reading '%s'", info->path);
    for (size_t i = 0; i < n && rc == MPB_OK; i++) {
        prov->keys[i] = strdup(f->meta_keys[i]);
        prov->values[i] = strdup(f->meta_values[i]);
        prov->n++;
        if (prov->keys[i] == NULL || prov->values[i] == NULL)
            rc = mpb_fail(err, MPB_ENOMEM, "out of memory reading '%s'", info->path);
    }
    mpb_st_model_free(&m);
    return rc;
}

int mpb_inspect_collect(const char *path, mpb_inspect_info *info, mpb_error *err)
{
    memset(info, 0, sizeof *info);
    info->path = path;
    const mpb_store_ops *ops = mpb_store_for_path(path);
    info->format = ops->name;
    int rc = ops->read_index(path, &info->idx, err);
    if (rc == MPB_OK)
        rc = ops->read_files(path, &info->files, err);
    if (rc == MPB_OK)
        rc = ops == &mpb_store_hdf5 ? read_h5_provenance(info, err)
                                    : read_st_provenance(info, err);
    if (rc == MPB_OK)
        rc = read_config_json(info, err);
    find_embeddings(info);
    return rc;
}

void mpb_inspect_free(mpb_inspect_info *info)
{
    mpb_h5_attrs_free(&info->prov);
    free(info->architecture);
    mpb_index_free(&info->idx);
    mpb_hf_files_free(&info->files);
    memset(info, 0, sizeof *info);
}

int mpb_inspect_run(const char *path, bool json, FILE *out, MPI_Comm comm, mpb_error *err)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    if (rank == 0) {
        mpb_inspect_info info;
        if (mpb_inspect_collect(path, &info, err) == MPB_OK) {
            if (json)
                mpb_inspect_print_json(out, &info, err);
            else
                mpb_inspect_print_text(out, &info);
            if (!json)
                mpb_inputs_note_ignored(out, path);
            fflush(out);
        }
        mpb_inspect_free(&info);
    }
    return mpb_comm_agree(err, comm);
}
