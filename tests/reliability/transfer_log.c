/* LD_PRELOAD shim for tests/reliability/test_big_tensor.py and
 * test_collective_rounds.py: records, through the MPI profiling interface,
 * the largest single MPI-IO read and write of each process (the bytes one
 * MPI_File_* call moves) and how many collective data calls it made, and
 * writes them at exit to $MPB_TRANSFER_LOG.<pid> as "read N write N
 * read_all N write_all N at_all N read_at_all N write_at_all N read_at N
 * write_at N": read and write are the largest calls in bytes, the others
 * count calls: read_all/write_all MPI_File_read_all/write_all (through a
 * file view), read_at_all/write_at_all the collective calls at an offset
 * and at_all both together, read_at/write_at the independent ones. */
#include <mpi.h>

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static long long max_read, max_write, n_read_all, n_write_all, n_read_at_all, n_write_at_all;
static long long n_read_at, n_write_at;

static void note(long long *max, int count, MPI_Datatype type)
{
    MPI_Count size = 0;
    PMPI_Type_size_x(type, &size);
    long long bytes = (long long)count * (long long)size;
    if (bytes > *max)
        *max = bytes;
}

int MPI_File_read_at(MPI_File fh, MPI_Offset off, void *buf, int count, MPI_Datatype type,
                     MPI_Status *status)
{
    n_read_at++;
    note(&max_read, count, type);
    return PMPI_File_read_at(fh, off, buf, count, type, status);
}

int MPI_File_read_at_all(MPI_File fh, MPI_Offset off, void *buf, int count, MPI_Datatype type,
                         MPI_Status *status)
{
    n_read_at_all++;
    note(&max_read, count, type);
    return PMPI_File_read_at_all(fh, off, buf, count, type, status);
}

int MPI_File_write_at(MPI_File fh, MPI_Offset off, const void *buf, int count,
                      MPI_Datatype type, MPI_Status *status)
{
    n_write_at++;
    note(&max_write, count, type);
    return PMPI_File_write_at(fh, off, buf, count, type, status);
}

int MPI_File_write_at_all(MPI_File fh, MPI_Offset off, const void *buf, int count,
                          MPI_Datatype type, MPI_Status *status)
{
    n_write_at_all++;
    note(&max_write, count, type);
    return PMPI_File_write_at_all(fh, off, buf, count, type, status);
}

int MPI_File_read_all(MPI_File fh, void *buf, int count, MPI_Datatype type, MPI_Status *status)
{
    n_read_all++;
    note(&max_read, count, type);
    return PMPI_File_read_all(fh, buf, count, type, status);
}

int MPI_File_write_all(MPI_File fh, const void *buf, int count, MPI_Datatype type,
                       MPI_Status *status)
{
    n_write_all++;
    note(&max_write, count, type);
    return PMPI_File_write_all(fh, buf, count, type, status);
}

__attribute__((destructor)) static void write_log(void)
{
    const char *base = getenv("MPB_TRANSFER_LOG");
    if (base == NULL || (max_read == 0 && max_write == 0))
        return;
    char path[4096];
    snprintf(path, sizeof path, "%s.%ld", base, (long)getpid());
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return;
    fprintf(f,
            "read %lld write %lld read_all %lld write_all %lld at_all %lld read_at_all %lld "
            "write_at_all %lld read_at %lld write_at %lld\n",
            max_read, max_write, n_read_all, n_write_all, n_read_at_all + n_write_at_all,
            n_read_at_all, n_write_at_all, n_read_at, n_write_at);
    fclose(f);
}
