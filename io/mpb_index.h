/* The tensor index: names, dtypes and shapes of one checkpoint, format-neutral.
 * Rank 0 builds it from the inputs and broadcasts it packed as bytes. */
#ifndef MPB_INDEX_H
#define MPB_INDEX_H

#include "mpb_dtype.h"
#include "mpb_error.h"

#include <stdint.h>

#define MPB_MAX_DIMS 8

typedef struct mpb_tensor {
    char *name;
    mpb_dtype dtype;
    int ndim; /* 0 for a scalar */
    uint64_t shape[MPB_MAX_DIMS];
    /* Where the tensor's bytes start in the file this index was read from,
     * when a backend can read them there directly; else MPB_OFFSET_NONE. */
    uint64_t data_offset;
} mpb_tensor;

#define MPB_OFFSET_NONE UINT64_MAX

typedef struct mpb_index {
    size_t n;
    size_t cap;
    mpb_tensor *tensors;
} mpb_index;

int mpb_index_add(mpb_index *idx, const char *name, mpb_dtype dt, int ndim,
                  const uint64_t *shape, mpb_error *err);
void mpb_index_free(mpb_index *idx);
/* dst (empty) gets src's tensors: names, dtypes, shapes.  Not their data
 * offsets: where bytes lie belongs to the one file src was read from. */
int mpb_index_copy(mpb_index *dst, const mpb_index *src, mpb_error *err);

uint64_t mpb_tensor_numel(const mpb_tensor *t);
uint64_t mpb_tensor_bytes(const mpb_tensor *t);
/* Rows are slices along the first dimension; a scalar is one row. */
uint64_t mpb_tensor_rows(const mpb_tensor *t);
uint64_t mpb_tensor_row_bytes(const mpb_tensor *t);
uint64_t mpb_index_total_bytes(const mpb_index *idx);

/* "[151936, 1024]" into buf. */
const char *mpb_shape_str(const mpb_tensor *t, char *buf, size_t len);

/* Position of a name, or -1.  Binary search: needs mpb_index_sort first. */
long mpb_index_find(const mpb_index *idx, const char *name);
void mpb_index_sort(mpb_index *idx);

/* Every tensor of `other` must exist in `ref` with the same dtype and shape,
 * and vice versa; the error names the tensor and both files. */
int mpb_index_check_same(const mpb_index *ref, const char *ref_path, const mpb_index *other,
                         const char *other_path, mpb_error *err);

/* Flat byte form for MPI_Bcast (data offsets included); unpack validates
 * lengths. */
int mpb_index_pack(const mpb_index *idx, unsigned char **buf, size_t *len, mpb_error *err);
int mpb_index_unpack(const unsigned char *buf, size_t len, mpb_index *idx, mpb_error *err);

#endif
