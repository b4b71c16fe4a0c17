/* The provenance attributes an output carries (docs/FORMAT.md): what made
 * it, from what, when and on how many ranks.  One builder for every command
 * that writes a checkpoint, so the records agree in form.
 *
 * Every record has mpiblend_version, mpiblend_ranks and mpiblend_created;
 * commands add their own keys (mpiblend_method, mpiblend_config, ...), and
 * mpiblend_inputs is a JSON list of {"path", "bytes"} built with jansson. */
#ifndef MPB_PROVENANCE_H
#define MPB_PROVENANCE_H

#include "mpb_error.h"

#include <mpi.h>
#include <stddef.h>

#define MPB_PROVENANCE_MAX 12

typedef struct mpb_provenance {
    size_t n;
    const char *keys[MPB_PROVENANCE_MAX];
    const char *values[MPB_PROVENANCE_MAX]; /* borrowed, except the ones below */
    char ranks[16];
    char created[32]; /* UTC, 2026-01-31T23:59:59Z */
    char *inputs;     /* the mpiblend_inputs JSON, once set */
} mpb_provenance;

/* Collective: every rank gets the same record (rank 0's clock), holding the
 * version, the rank count of comm and the time. */
void mpb_provenance_init(mpb_provenance *p, MPI_Comm comm);

/* Sets key to value (borrowed: it must outlive p's use), replacing an
 * earlier value of key; returns the key's position in keys/values. */
size_t mpb_provenance_set(mpb_provenance *p, const char *key, const char *value);

/* Collective: sets mpiblend_inputs to [{"path": P, "bytes": B}, ...] in the
 * order given, B being rank 0's view of the file's size (for a folder, the
 * sum of the regular files in it; -1 when it cannot be read). */
int mpb_provenance_set_inputs(mpb_provenance *p, const char *const paths[], size_t n,
                              MPI_Comm comm, mpb_error *err);

void mpb_provenance_free(mpb_provenance *p);

#endif
