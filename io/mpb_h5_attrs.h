/* The root attributes of an HDF5 checkpoint, as text: the provenance a merge
 * records (mpiblend_version, mpiblend_config, ...) and the format marks.
 * Serial: one rank, no MPI. */
#ifndef MPB_H5_ATTRS_H
#define MPB_H5_ATTRS_H

#include "mpb_error.h"

#include <stddef.h>

/* Key/value text lists; inspect keeps safetensors __metadata__ in one too. */
typedef struct mpb_h5_attrs {
    size_t n;
    char **keys;   /* sorted by name */
    char **values; /* strings as stored, integers in decimal */
} mpb_h5_attrs;

/* Every root attribute holding one string (fixed or variable length) or one
 * integer; attributes of other kinds are left out. */
int mpb_h5_attrs_read(const char *path, mpb_h5_attrs *out, mpb_error *err);
void mpb_h5_attrs_free(mpb_h5_attrs *a);

#endif
