#include "mpb_import.h"

#include "mpb_copy.h"

int mpb_import_run(const char *source, const char *out_path, const mpb_run_opts *opts,
                   MPI_Comm comm, mpb_error *err)
{
    mpb_run_opts o = *opts;
    o.out_store = &mpb_store_hdf5;
    return mpb_copy_run("import", source, &mpb_store_safetensors, out_path, &o, comm, err);
}
