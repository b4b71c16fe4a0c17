/* MPI-IO hints from the command line (--mpi-hint KEY=VALUE, repeatable) and
 * from a file (--mpi-hints-file: one "KEY VALUE" per line, '#' comments, the
 * format of ROMIO's ROMIO_HINTS file), handed to MPI_File_open through
 * H5Pset_fapl_mpio for every HDF5 file (docs/TUNING.md).  A later value for
 * the same key replaces an earlier one.  Local calls, no MPI communication. */
#ifndef MPB_IO_HINTS_H
#define MPB_IO_HINTS_H

#include "mpb_store.h"

#include <mpi.h>

/* "KEY=VALUE"; on failure writes the reason to why and returns -1. */
int mpb_io_hint_parse(mpb_io_opts *o, const char *text, char *why, size_t why_len);

/* Every hint of the file at path; the reason names the file and line. */
int mpb_io_hints_read_file(mpb_io_opts *o, const char *path, char *why, size_t why_len);

/* A new MPI_Info holding o's hints, or MPI_INFO_NULL when there are none;
 * the caller frees a new one with MPI_Info_free. */
int mpb_io_hints_info(const mpb_io_opts *o, MPI_Info *info);

#endif
