#include "mpb_export.h"

#include "mpb_copy.h"

#include <ctype.h>
#include <stdlib.h>
#include <strings.h>

int mpb_export_run(const char *in_path, const char *out_dir, const mpb_run_opts *opts,
                   MPI_Comm comm, mpb_error *err)
{
    mpb_run_opts o = *opts;
    o.out_store = &mpb_store_safetensors;
    return mpb_copy_run("export", in_path, mpb_store_for_path(in_path), out_dir, &o, comm, err);
}

int mpb_export_parse_size(const char *text, uint64_t *bytes)
{
    static const struct {
        const char *unit;
        uint64_t scale;
    } units[] = {{"", 1},
                 {"B", 1},
                 {"KB", 1000},
                 {"MB", 1000000},
                 {"GB", 1000000000},
                 {"TB", 1000000000000ull},
                 {"KiB", 1ull << 10},
                 {"MiB", 1ull << 20},
                 {"GiB", 1ull << 30},
                 {"TiB", 1ull << 40}};
    if (!isdigit((unsigned char)text[0]))
        return -1;
    char *end;
    unsigned long long v = strtoull(text, &end, 10);
    for (size_t i = 0; i < sizeof units / sizeof *units; i++) {
        if (strcasecmp(end, units[i].unit) != 0)
            continue;
        if (v == 0 || v > UINT64_MAX / units[i].scale)
            return -1;
        *bytes = v * units[i].scale;
        return 0;
    }
    return -1;
}
