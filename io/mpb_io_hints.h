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

/* Collective over comm: turns MPB_AGGREGATE_AUTO into ON or OFF.  OFF
 * when every rank of comm shares one node: aggregators there only copy
 * bytes between processes behind the same file-system client, as the
 * blocks of a round are contiguous and disjoint already (ROMIO's automatic
 * mode declines them too; OMPIO aggregates them from 3 ranks on, 5-6 x
 * slower on one node: docs/PERFORMANCE.md). */
void mpb_io_aggregation_settle(mpb_io_opts *o, MPI_Comm comm);

#endif
