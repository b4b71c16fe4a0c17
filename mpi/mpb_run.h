/* Options shared by every command that writes checkpoints. */
#ifndef MPB_RUN_H
#define MPB_RUN_H

#include "mpb_nonfinite.h"
#include "mpb_store.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct mpb_run_opts {
    uint64_t slab_bytes;            /* --slab-mib */
    uint64_t memory_bytes;          /* --memory-mib: inputs a rank holds between passes */
    mpb_io_opts io;                 /* --io, --align-kib */
    bool force;                     /* --force: replace an existing output */
    bool follow_links;              /* --follow-links: write through a symlink */
    bool dry_run;                   /* --dry-run: print the plan, write nothing */
    bool quiet;                     /* --quiet: no progress lines */
    double progress_secs;           /* --progress-secs: batch-log line interval */
    mpb_nonfinite_mode nonfinite;   /* --nonfinite (merge) */
    const mpb_store_ops *out_store; /* --format: the outputs' backend (hdf5) */
} mpb_run_opts;

void mpb_run_opts_default(mpb_run_opts *o);

#endif
