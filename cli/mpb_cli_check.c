#include "mpb_cli_check.h"

#include "mpb_cli.h"
#include "mpb_cli_table.h"
#include "mpb_diff.h"
#include "mpb_verify.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

void mpb_check_cli_defaults(struct mpb_check_cli_args *c)
{
    *c = (struct mpb_check_cli_args){.sample = MPB_VERIFY_SAMPLE_DEFAULT};
}

int mpb_check_cli_apply(struct mpb_cli_args *a, int id, const char *val, char *why,
                        size_t why_len)
{
    char *end;
    switch (id) {
    case OPT_CONFIG: a->check.config = val; return 0;
    case OPT_SAMPLE: {
        unsigned long long v = strtoull(val, &end, 10);
        if (*val != '\0' && *val != '-' && *end == '\0') {
            a->check.sample = v;
            return 0;
        }
        snprintf(why, why_len, "--sample takes a whole number of elements per tensor, not '%s'",
                 val);
        return -1;
    }
    case OPT_TOLERANCE:
        a->check.tolerance = strtod(val, &end);
        if (*val != '\0' && *end == '\0' && a->check.tolerance >= 0 &&
            isfinite(a->check.tolerance)) {
            a->check.has_tolerance = true;
            return 0;
        }
        snprintf(why, why_len, "--tolerance takes a number >= 0, not '%s'", val);
        return -1;
    default: snprintf(why, why_len, "unknown option"); return -1;
    }
}

int mpb_cli_run_verify(struct mpb_cli_args *a, MPI_Comm comm, struct mpb_error *err, char *why,
                       size_t why_len)
{
    if (a->n_positional != 1) {
        snprintf(why, why_len,
                 "usage: mpiblend verify OUT.h5 [--config CONFIG.yaml] "
                 "[--sample N]");
        return MPB_EXIT_USAGE;
    }
    int rc =
        mpb_verify_run(a->positional[0], a->check.config, a->check.sample, stdout, comm, err);
    return rc == 0 ? MPB_EXIT_OK : MPB_EXIT_FAILED;
}

int mpb_cli_run_diff(struct mpb_cli_args *a, MPI_Comm comm, struct mpb_error *err, char *why,
                     size_t why_len)
{
    if (a->n_positional != 2) {
        snprintf(why, why_len, "usage: mpiblend diff A.h5 B.h5 [--tolerance T]");
        return MPB_EXIT_USAGE;
    }
    int rc = mpb_diff_run(a->positional[0], a->positional[1], a->check.has_tolerance,
                          a->check.tolerance, &a->run, stdout, comm, err);
    return rc == 0 ? MPB_EXIT_OK : MPB_EXIT_FAILED;
}
