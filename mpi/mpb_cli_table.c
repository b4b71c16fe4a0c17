#include "mpb_cli_table.h"

#include "mpb_arch.h"
#include "mpb_cli.h"
#include "mpb_merge.h"
#include "mpb_synth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct mpb_cli_option mpb_cli_options[] = {
    {"out", OPT_OUT, "PATH", CMD_MERGE, "output checkpoint (required)"},
    {"arch", OPT_ARCH, "ARCH", CMD_SYNTH, "architecture (required)"},
    {"seed", OPT_SEED, "N", CMD_SYNTH, "random seed (default 0)"},
    {"dtype", OPT_DTYPE, "bf16|f16|f32", CMD_SYNTH, "stored dtype (default bf16)"},
    {"force", OPT_FORCE, NULL, CMD_WRITERS, "replace an existing output"},
    {"dry-run", OPT_DRY_RUN, NULL, CMD_WRITERS,
     "print the plan (items and bytes per rank, disk space, estimate); write nothing"},
    {"slab-mib", OPT_SLAB_MIB, "N", CMD_WRITERS,
     "largest piece of a tensor one rank moves at once, 1..1024 (default 64)"},
    {"slab-kib", OPT_SLAB_KIB, "N", CMD_WRITERS,
     "the same in KiB, for small models and tests (overrides --slab-mib)"},
    {"io", OPT_IO, "collective|independent", CMD_WRITERS,
     "MPI-IO transfer mode (default collective)"},
    {"align-kib", OPT_ALIGN_KIB, "N", CMD_WRITERS,
     "align tensors of 1 MiB or more to N KiB in new files, 0 = off (default 1024)"},
    {"follow-links", OPT_FOLLOW_LINKS, NULL, CMD_WRITERS,
     "allow the output path to be a symbolic link"},
    {"quiet", OPT_QUIET, NULL, CMD_WRITERS, "no progress lines"},
    {"progress-secs", OPT_PROGRESS_SECS, "S", CMD_WRITERS,
     "seconds between progress lines in batch logs (default 5)"},
    {"help", OPT_HELP, NULL, CMD_ALL, "show this help"},
};
const size_t mpb_cli_n_options = sizeof mpb_cli_options / sizeof mpb_cli_options[0];

static int usage(const struct mpb_cli_args *a, const char *text, char *why, size_t n)
{
    (void)a;
    snprintf(why, n, "usage: mpiblend %s", text);
    return MPB_EXIT_USAGE;
}

static int exit_code(int rc)
{
    return rc == MPB_OK ? MPB_EXIT_OK : MPB_EXIT_FAILED;
}

static int run_merge(struct mpb_cli_args *a, MPI_Comm comm, mpb_error *err, char *why,
                     size_t n)
{
    if (a->n_positional != 1 || a->out == NULL)
        return usage(a, "merge CONFIG.yaml --out OUT.h5 [options]", why, n);
    return exit_code(mpb_merge_run(a->positional[0], a->out, &a->run, comm, err));
}

static int run_synth(struct mpb_cli_args *a, MPI_Comm comm, mpb_error *err, char *why,
                     size_t n)
{
    if (a->n_positional != 1 || a->arch == NULL) {
        snprintf(why, n, "usage: mpiblend synth --arch ARCH OUT.h5 (architectures: %s)",
                 mpb_arch_list());
        return MPB_EXIT_USAGE;
    }
    return exit_code(
        mpb_synth_run(a->arch, a->seed, a->dtype, a->positional[0], &a->run, comm, err));
}

const struct mpb_cli_command mpb_cli_commands[] = {
    {"merge", CMD_MERGE, "merge CONFIG.yaml --out OUT.h5 [options]",
     "blend the checkpoints a mergekit-style YAML config names", run_merge},
    {"synth", CMD_SYNTH, "synth --arch ARCH [--seed S] [--dtype bf16|f16|f32] OUT.h5",
     "write a synthetic checkpoint with a public architecture's shapes", run_synth},
};
const size_t mpb_cli_n_commands = sizeof mpb_cli_commands / sizeof mpb_cli_commands[0];

void mpb_cli_args_default(struct mpb_cli_args *a)
{
    memset(a, 0, sizeof *a);
    mpb_run_opts_default(&a->run);
    a->dtype = MPB_DT_BF16;
}

static int parse_u64(const char *text, const char *opt, uint64_t lo, uint64_t hi,
                     uint64_t *out, char *why, size_t why_len)
{
    char *end;
    unsigned long long v = strtoull(text, &end, 10);
    if (*text == '\0' || *end != '\0' || text[0] == '-' || v < lo || v > hi) {
        snprintf(why, why_len, "--%s takes a whole number from %llu to %llu, not '%s'",
                 opt, (unsigned long long)lo, (unsigned long long)hi, text);
        return -1;
    }
    *out = v;
    return 0;
}

int mpb_cli_apply_option(struct mpb_cli_args *a, int id, const char *val, char *why,
                         size_t n)
{
    uint64_t v;
    switch (id) {
    case OPT_OUT: a->out = val; return 0;
    case OPT_ARCH: a->arch = val; return 0;
    case OPT_FORCE: a->run.force = true; return 0;
    case OPT_DRY_RUN: a->run.dry_run = true; return 0;
    case OPT_FOLLOW_LINKS: a->run.follow_links = true; return 0;
    case OPT_QUIET: a->run.quiet = true; return 0;
    case OPT_HELP: a->help = 1; return 0;
    case OPT_SEED: return parse_u64(val, "seed", 0, UINT64_MAX, &a->seed, why, n);
    case OPT_SLAB_MIB:
        if (parse_u64(val, "slab-mib", 1, 1024, &v, why, n))
            return -1;
        a->run.slab_bytes = v << 20;
        return 0;
    case OPT_SLAB_KIB:
        if (parse_u64(val, "slab-kib", 1, 1u << 20, &v, why, n))
            return -1;
        a->run.slab_bytes = v << 10;
        return 0;
    case OPT_ALIGN_KIB:
        if (parse_u64(val, "align-kib", 0, 1u << 20, &v, why, n))
            return -1;
        a->run.io.alignment = v << 10;
        return 0;
    case OPT_PROGRESS_SECS: {
        char *end;
        a->run.progress_secs = strtod(val, &end);
        if (*end == '\0' && a->run.progress_secs > 0)
            return 0;
        snprintf(why, n, "--progress-secs takes a positive number of seconds, not '%s'", val);
        return -1;
    }
    case OPT_IO:
        if (!strcmp(val, "collective") || !strcmp(val, "independent")) {
            a->run.io.collective = !strcmp(val, "collective");
            return 0;
        }
        snprintf(why, n, "--io takes 'collective' or 'independent', not '%s'", val);
        return -1;
    case OPT_DTYPE:
        a->dtype = mpb_dtype_parse(val);
        if (mpb_dtype_is_blendable(a->dtype))
            return 0;
        snprintf(why, n, "--dtype takes bf16, f16 or f32, not '%s'", val);
        return -1;
    default: snprintf(why, n, "unknown option"); return -1;
    }
}
