/* A model's non-tensor files (config.json, generation_config.json, tokenizer
 * files, chat template): held in memory, read from and written to a Hugging
 * Face folder or the MPB_FILES_GROUP group of an HDF5 checkpoint
 * (docs/FORMAT.md), so that one checkpoint file is the whole model.
 *
 * Everything here is serial: one rank, no MPI.  HDF5 files are opened with
 * the default (serial) driver, never while a parallel handle is open. */
#ifndef MPB_HF_FILES_H
#define MPB_HF_FILES_H

#include "mpb_dtype.h"
#include "mpb_error.h"

#include <stddef.h>
#include <stdint.h>

typedef struct mpb_hf_file {
    char *name;          /* base name, no '/' */
    unsigned char *data; /* never NULL, even when len == 0 */
    size_t len;
} mpb_hf_file;

typedef struct mpb_hf_files {
    size_t n;
    mpb_hf_file *files; /* in the order added */
} mpb_hf_files;

/* Copies name and data; a name that repeats or contains '/' is refused. */
int mpb_hf_files_add(mpb_hf_files *set, const char *name, const void *data, size_t len,
                     mpb_error *err);
const mpb_hf_file *mpb_hf_files_find(const mpb_hf_files *set, const char *name);
void mpb_hf_files_free(mpb_hf_files *set);

/* Reads dir/names[i] for every i. */
int mpb_hf_files_read_dir(const char *dir, const char *const *names, size_t n,
                          mpb_hf_files *out, mpb_error *err);
/* Creates every file in dir (which exists), flushed to disk. */
int mpb_hf_files_write_dir(const char *dir, const mpb_hf_files *set, mpb_error *err);

/* The files stored in an HDF5 checkpoint; none when it has no such group. */
int mpb_hf_files_read_h5(const char *path, mpb_hf_files *out, mpb_error *err);
/* Stores the files in an existing, closed HDF5 checkpoint. */
int mpb_hf_files_write_h5(const char *path, const mpb_hf_files *set, mpb_error *err);

struct json_t;
/* Replaces f's bytes by root printed as transformers prints JSON files:
 * 2-space indent, keys in their order, each real with the fewest digits
 * that read back exactly, a trailing newline. */
int mpb_hf_file_replace_json(mpb_hf_file *f, const struct json_t *root, mpb_error *err);

/* Sets config.json's "torch_dtype" (and "dtype", which newer transformers
 * write instead, when present) to dt's torch name.  A config that already
 * says so is left byte for byte; no config.json is not an error. */
int mpb_hf_files_set_torch_dtype(mpb_hf_files *set, mpb_dtype dt, mpb_error *err);

/* Sets config.json's layer count (num_hidden_layers, or n_layer /
 * num_layers where a model names it so) to n_layers, as mergekit does for
 * an output whose slices stack another number of layers; a `layer_types`
 * list whose entries are all the same follows.  A config that already says
 * so is left byte for byte; no config.json is not an error. */
int mpb_hf_files_set_layers(mpb_hf_files *set, int n_layers, mpb_error *err);

/* Sets the integer at a dotted key of config.json ("vision_config.depth",
 * "num_hidden_layers") to v, as mergekit sets a module's layer count; a
 * key that is absent or not an integer is left alone, as is a config that
 * already says so (byte for byte); no config.json is not an error. */
int mpb_hf_files_set_int_key(mpb_hf_files *set, const char *key, int64_t v, mpb_error *err);

/* config.json's vocab_size (and text_config's, when it has one) set to n,
 * for embeddings built for another vocabulary; no config.json: nothing. */
int mpb_hf_files_set_vocab_size(mpb_hf_files *set, uint64_t n, mpb_error *err);

#endif
