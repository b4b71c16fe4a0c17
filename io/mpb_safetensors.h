/* safetensors files, sharded Hugging Face folders, and the header writer.
 *
 * Validation follows the reference implementation (huggingface/safetensors,
 * Rust): what it accepts is accepted, what it rejects is rejected, with the
 * few deliberate differences listed in docs/SAFETENSORS.md.  Every error
 * message names the file, the tensor or key, and the cause. */
#ifndef MPB_SAFETENSORS_H
#define MPB_SAFETENSORS_H

#include "mpb_dtype.h"
#include "mpb_error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MPB_ST_MAX_DIMS 8
/* The reference refuses longer headers (HeaderTooLarge). */
#define MPB_ST_MAX_HEADER 100000000u
/* Big enough for "[d0, ..., d7]" with 20-digit dimensions. */
#define MPB_ST_SHAPE_STR_MAX 200
#define MPB_ST_INDEX_NAME "model.safetensors.index.json"
#define MPB_ST_SINGLE_NAME "model.safetensors"

typedef struct mpb_st_tensor {
    char *name;
    mpb_dtype dtype;
    int ndim; /* 0 for a scalar */
    uint64_t shape[MPB_ST_MAX_DIMS];
    uint64_t begin, end; /* absolute file offsets of the data, end exclusive */
} mpb_st_tensor;

typedef struct mpb_st_file {
    char *path;
    uint64_t header_len; /* N, the JSON length including its padding */
    uint64_t data_start; /* 8 + N */
    uint64_t file_size;
    size_t n_tensors;
    mpb_st_tensor *tensors; /* in header key order */
    size_t n_meta;
    char **meta_keys, **meta_values; /* "__metadata__", in header order */
} mpb_st_file;

/* Element count and byte size of a shape; false on 64-bit overflow or an
 * invalid dtype.  A 0-d shape holds one element; a zero dimension, none. */
bool mpb_st_nbytes(mpb_dtype dt, int ndim, const uint64_t *shape, uint64_t *nbytes);

/* "[3, 5, 7]" into buf (at least MPB_ST_SHAPE_STR_MAX bytes); returns buf. */
const char *mpb_st_shape_format(char *buf, size_t len, int ndim, const uint64_t *shape);

/* Validates a header held in memory.  buf holds the file's first bytes
 * (at least 8 + N of them when N is acceptable); file_size is the whole
 * file's size.  Pure: no I/O.  `path` is used only in messages. */
int mpb_st_parse_header(const char *path, const unsigned char *buf, size_t buf_len,
                        uint64_t file_size, mpb_st_file *out, mpb_error *err);

/* Reads the header of the file at path and validates it. */
int mpb_st_open(const char *path, mpb_st_file *out, mpb_error *err);

void mpb_st_file_free(mpb_st_file *f);

/* model.safetensors.index.json: which shard holds each tensor. */
typedef struct mpb_st_index {
    char *path;
    size_t n_entries;
    char **names;        /* sorted by name (bytewise) */
    size_t *entry_shard; /* per entry, a position in shard_files */
    size_t n_shards;
    char **shard_files; /* distinct shard file names, sorted */
    bool has_total_size;
    uint64_t total_size; /* metadata.total_size when present */
} mpb_st_index;

/* Parses index JSON held in memory (pure; `path` only names it in messages). */
int mpb_st_index_parse(const char *path, const char *json, size_t len, mpb_st_index *out,
                       mpb_error *err);
int mpb_st_index_load(const char *path, mpb_st_index *out, mpb_error *err);
void mpb_st_index_free(mpb_st_index *ix);

/* Entry position of a tensor name, or -1. */
long mpb_st_index_find(const mpb_st_index *ix, const char *name);

/* One model: a single file or the shards of an index. */
typedef struct mpb_st_ref {
    const char *name;    /* borrowed from the tensor */
    size_t file, tensor; /* files[file].tensors[tensor] */
} mpb_st_ref;

typedef struct mpb_st_model {
    char *dir;        /* folder holding the files */
    char *index_path; /* NULL unless the model is sharded */
    size_t n_files;
    mpb_st_file *files; /* shards in index order (sorted names), or one file */
    size_t n_tensors;
    mpb_st_ref *tensors; /* every tensor, sorted by name (bytewise) */
    size_t n_extra;
    char **extra_files; /* base names of the folder's other files, sorted */
    size_t n_ignored;
    char **ignored; /* other *.safetensors beside an index, not read, sorted */
} mpb_st_model;

/* source: a folder (model.safetensors.index.json with its shards,
 * model.safetensors, or a single *.safetensors of another name) or one
 * safetensors file of any name.  See docs/SAFETENSORS.md for the rules. */
int mpb_st_model_open(const char *source, mpb_st_model *out, mpb_error *err);
void mpb_st_model_free(mpb_st_model *m);

/* For a folder source with an index: the *.safetensors files beside it that
 * it does not read ("consolidated.safetensors, ..."), in buf; "" when none
 * or source is not such a folder.  For notes in inspect and dry runs. */
int mpb_st_ignored_files(const char *source, char *buf, size_t len, mpb_error *err);

/* Cross-checks an index against the model opened from it (files[i] is the
 * shard ix->shard_files[i]): every listed tensor is in the shard the index
 * names, every shard tensor is listed, and total_size, when present, is the
 * sum of the tensors' bytes.  mpb_st_model_open already calls it. */
int mpb_st_index_check(const mpb_st_index *ix, const mpb_st_model *m, mpb_error *err);

const mpb_st_ref *mpb_st_model_find(const mpb_st_model *m, const char *name);
const mpb_st_tensor *mpb_st_model_tensor(const mpb_st_model *m, const mpb_st_ref *r);

/* Writer.  Assigns data offsets in the reference writer's order (dtype
 * alignment descending, then name), so every tensor starts at a multiple of
 * its element size; fills each tensor's begin/end as absolute file offsets
 * (the array order is left as given).  *header receives the JSON padded
 * with spaces so that 8 + *header_len is a multiple of 8; free() it.
 * Metadata is written as "__metadata__" when n_meta > 0.  On failure
 * *header is NULL and begin/end are unspecified. */
int mpb_st_header_build(mpb_st_tensor *tensors, size_t n, const char *const *meta_keys,
                        const char *const *meta_values, size_t n_meta, char **header,
                        uint64_t *header_len, mpb_error *err);

/* Writes model.safetensors.index.json the way transformers does: 2-space
 * indent, sorted keys, ASCII only, trailing newline. */
int mpb_st_index_write(const char *path, uint64_t total_size, const char *const *names,
                       const char *const *shard_files, size_t n, mpb_error *err);

/* Shard i (counting from 1) of n: "model-00001-of-00003.safetensors", or
 * "model.safetensors" when n == 1.  len >= 40 always suffices. */
void mpb_st_shard_name(char *buf, size_t len, int i, int n);

#endif
