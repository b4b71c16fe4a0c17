/* A sweep folder's manifest: DIR/manifest.json (read and written) and
 * DIR/manifest.csv (written, the same rows for people and spreadsheets).
 * Format in docs/SWEEP.md.  jansson only; no MPI. */
#ifndef MPB_SWEEP_MANIFEST_H
#define MPB_SWEEP_MANIFEST_H

#include "mpb_file.h"
#include "mpb_error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define MPB_MANIFEST_JSON "manifest.json"
#define MPB_MANIFEST_CSV "manifest.csv"
/* The output attribute holding the data checksum, set before close. */
#define MPB_CHECKSUM_ATTR "mpiblend_checksum"

typedef struct mpb_manifest_point {
    size_t point;  /* number in this folder, in the order points were added */
    char *path;    /* output file name inside the folder */
    char **values; /* one text per parameter: the exact decimal */
    uint64_t bytes;
    char checksum[32];    /* "crc32c:89abcdef", "" until written */
    char status[16];      /* "pending", "done", "failed" */
    int pass;             /* pass of the run that wrote it (1, 2, ...), 0 before */
    double wall_s;        /* wall time of that pass */
    char config_hash[32]; /* "fnv1a64:..." of the point's config text */
} mpb_manifest_point;

typedef struct mpb_manifest {
    char *config;     /* the sweep config's path, as given */
    char *study_hash; /* what every point shares (mpb_sweep_study_config) */
    char *template;
    size_t n_params;
    char **keys, **names;
    size_t n, cap;
    mpb_manifest_point *points;
} mpb_manifest;

/* Reads DIR/manifest.json; *found is false (and m empty) when there is none. */
int mpb_manifest_read(const char *dir, mpb_manifest *m, bool *found, mpb_error *err);

/* Writes DIR/manifest.json and DIR/manifest.csv, each atomically. */
int mpb_manifest_write(const char *dir, const mpb_manifest *m, mpb_error *err);

/* Appends a pending point with copies of the texts; returns its position. */
int mpb_manifest_add(mpb_manifest *m, const char *path, const char *const values[],
                     const char *config_hash, size_t *pos, mpb_error *err);

/* Position of the point whose output is `path`, or -1. */
long mpb_manifest_find(const mpb_manifest *m, const char *path);

void mpb_manifest_free(mpb_manifest *m);

/* The MPB_CHECKSUM_ATTR of an HDF5 output into buf; false when the file is
 * not HDF5 or has none (serial HDF5: one rank). */
bool mpb_sweep_read_checksum_attr(const char *path, char *buf, size_t len);

/* Writes text to path through a temporary file (fsync), a rename and a
 * folder fsync; the file gets mode 0666 less the umask. */
int mpb_write_file_atomic(const char *path, const char *text, size_t len, mpb_error *err);

/* One CSV field (RFC 4180: quoted when it holds a comma, quote or newline). */
void mpb_csv_field(FILE *f, const char *text, bool last);

#endif
