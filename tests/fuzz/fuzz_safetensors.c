/* libFuzzer target for the safetensors reader (scripts/fuzz.sh safetensors).
 *
 * Each input is taken as a whole safetensors file and, separately, as an
 * index JSON.  Beyond "no crash, no leak, no undefined behaviour": a refusal
 * must carry an input error and a message, and a header that validates must
 * survive a rewrite by the writer and validate again with the same tensors. */
#include "mpb_safetensors.h"

#include <stdlib.h>
#include <string.h>

static const mpb_st_tensor *named(const mpb_st_file *f, const char *name)
{
    for (size_t i = 0; i < f->n_tensors; i++)
        if (strcmp(f->tensors[i].name, name) == 0)
            return &f->tensors[i];
    return NULL;
}

static void check_rewrite(const mpb_st_file *f)
{
    mpb_st_tensor *copy = malloc((f->n_tensors + 1) * sizeof *copy);
    if (copy == NULL)
        return;
    memcpy(copy, f->tensors, f->n_tensors * sizeof *copy);
    char *header;
    uint64_t len;
    mpb_error err = {0};
    if (mpb_st_header_build(copy, f->n_tensors, (const char *const *)f->meta_keys,
                            (const char *const *)f->meta_values, f->n_meta, &header, &len,
                            &err) != MPB_OK)
        __builtin_trap();
    uint64_t data_len = f->file_size - f->data_start;
    size_t size = (size_t)(8 + len + data_len);
    unsigned char *file = calloc(1, size);
    if (file != NULL) {
        for (int i = 0; i < 8; i++)
            file[i] = (unsigned char)(len >> (8 * i));
        memcpy(file + 8, header, (size_t)len);
        mpb_st_file g;
        if (mpb_st_parse_header("rewrite", file, size, size, &g, &err) != MPB_OK ||
            g.n_tensors != f->n_tensors || g.n_meta != f->n_meta)
            __builtin_trap();
        for (size_t i = 0; i < f->n_tensors; i++) {
            const mpb_st_tensor *a = &f->tensors[i], *b = named(&g, a->name);
            if (b == NULL || a->dtype != b->dtype || a->ndim != b->ndim ||
                memcmp(a->shape, b->shape, sizeof a->shape) != 0 ||
                a->end - a->begin != b->end - b->begin || b->begin != copy[i].begin)
                __builtin_trap();
        }
        mpb_st_file_free(&g);
        free(file);
    }
    free(header);
    free(copy);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    mpb_st_file f;
    mpb_error err = {0};
    if (mpb_st_parse_header("fuzz.safetensors", data, size, size, &f, &err) == MPB_OK) {
        check_rewrite(&f);
        mpb_st_file_free(&f);
    } else if ((err.code != MPB_EINVAL && err.code != MPB_ENOMEM) || err.msg[0] == '\0') {
        __builtin_trap();
    }
    mpb_st_index ix;
    mpb_error_clear(&err);
    if (mpb_st_index_parse("fuzz.json", (const char *)data, size, &ix, &err) == MPB_OK)
        mpb_st_index_free(&ix);
    else if ((err.code != MPB_EINVAL && err.code != MPB_ENOMEM) || err.msg[0] == '\0')
        __builtin_trap();
    return 0;
}
