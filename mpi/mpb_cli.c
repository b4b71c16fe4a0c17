#include "mpb_cli.h"

#include "mpb_arch.h"
#include "mpb_h5.h"
#include "mpb_merge.h"
#include "mpb_run.h"
#include "mpb_synth.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum command {
    CMD_MERGE = 1u << 0,
    CMD_SYNTH = 1u << 1,
};
#define CMD_WRITERS (CMD_MERGE | CMD_SYNTH)

enum option_id {
    OPT_HELP = 'h',
    OPT_OUT = 'o',
    OPT_FORCE = 'f',
    OPT_QUIET = 'q',
    OPT_SLAB_MIB = 256,
    OPT_SLAB_KIB,
    OPT_IO,
    OPT_ALIGN_KIB,
    OPT_DRY_RUN,
    OPT_FOLLOW_LINKS,
    OPT_PROGRESS_SECS,
    OPT_ARCH,
    OPT_SEED,
    OPT_DTYPE,
};

/* Every option, once: the parser and the help text are both made from this
 * table, so they cannot disagree. */
struct cli_option {
    const char *name;
    int id;
    const char *arg; /* NULL: a flag */
    unsigned commands;
    const char *help;
};

static const struct cli_option cli_options[] = {
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
    {"help", OPT_HELP, NULL, CMD_WRITERS, "show this help"},
};
#define N_OPTIONS (sizeof cli_options / sizeof cli_options[0])

struct cli_command {
    const char *name;
    unsigned bit;
    const char *usage;
    const char *summary;
};

static const struct cli_command cli_commands[] = {
    {"merge", CMD_MERGE, "merge CONFIG.yaml --out OUT.h5 [options]",
     "blend the checkpoints a mergekit-style YAML config names"},
    {"synth", CMD_SYNTH, "synth --arch ARCH [--seed S] [--dtype bf16|f16|f32] OUT.h5",
     "write a synthetic checkpoint with a public architecture's shapes"},
};
#define N_COMMANDS (sizeof cli_commands / sizeof cli_commands[0])

struct cli_args {
    mpb_run_opts run;
    const char *out;
    const char *arch;
    uint64_t seed;
    mpb_dtype dtype;
    int help;
    int n_positional;
    char **positional;
};

static int is_root(MPI_Comm comm)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    return rank == 0;
}

static void print_command_help(FILE *out, const struct cli_command *c)
{
    fprintf(out, "usage: mpirun -np N mpiblend %s\n\n%s.\n\noptions:\n", c->usage,
            c->summary);
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const struct cli_option *o = &cli_options[i];
        if (!(o->commands & c->bit))
            continue;
        char left[64];
        snprintf(left, sizeof left, "--%s%s%s", o->name, o->arg ? " " : "",
                 o->arg ? o->arg : "");
        fprintf(out, "  %-32s %s\n", left, o->help);
    }
}

static void print_main_help(FILE *out)
{
    fprintf(out, "mpiblend %s: blend large-model checkpoints under MPI\n\n"
                 "usage: mpirun -np N mpiblend COMMAND [options]\n\ncommands:\n",
            MPB_VERSION);
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-8s %s\n", cli_commands[i].name, cli_commands[i].summary);
    fprintf(out, "\n'mpiblend COMMAND --help' lists a command's options. "
                 "Documentation: README.md and docs/.\n");
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

static int apply_option(struct cli_args *a, int id, const char *val, char *why, size_t n)
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
    case OPT_PROGRESS_SECS:
        a->run.progress_secs = strtod(val, NULL);
        if (a->run.progress_secs <= 0) {
            snprintf(why, n, "--progress-secs takes a positive number, not '%s'", val);
            return -1;
        }
        return 0;
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

static int parse_args(const struct cli_command *c, int argc, char **argv,
                      struct cli_args *a, char *why, size_t why_len)
{
    struct option longopts[N_OPTIONS + 1];
    size_t n = 0;
    for (size_t i = 0; i < N_OPTIONS; i++)
        if (cli_options[i].commands & c->bit)
            longopts[n++] = (struct option){cli_options[i].name,
                                            cli_options[i].arg ? required_argument
                                                               : no_argument,
                                            NULL, cli_options[i].id};
    longopts[n] = (struct option){0};
    opterr = 0;
    optind = 0; /* glibc: 0 re-initialises the scanner */
    int id;
    while ((id = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (id == '?' || id == ':') {
            snprintf(why, why_len, "%s: unrecognised or incomplete option '%s' (see "
                                   "'mpiblend %s --help')",
                     c->name, argv[optind - 1], c->name);
            return -1;
        }
        if (apply_option(a, id, optarg, why, why_len))
            return -1;
    }
    a->positional = argv + optind;
    a->n_positional = argc - optind;
    return 0;
}

static int run_command(const struct cli_command *c, struct cli_args *a, MPI_Comm comm,
                       mpb_error *err, char *why, size_t why_len)
{
    if (c->bit == CMD_MERGE) {
        if (a->n_positional != 1 || a->out == NULL) {
            snprintf(why, why_len, "usage: mpiblend %s", c->usage);
            return MPB_EXIT_USAGE;
        }
        return mpb_merge_run(a->positional[0], a->out, &a->run, comm, err) ? MPB_EXIT_FAILED
                                                                            : MPB_EXIT_OK;
    }
    if (a->n_positional != 1 || a->arch == NULL) {
        snprintf(why, why_len, "usage: mpiblend %s (architectures: %s)", c->usage,
                 mpb_arch_list());
        return MPB_EXIT_USAGE;
    }
    return mpb_synth_run(a->arch, a->seed, a->dtype, a->positional[0], &a->run, comm, err)
               ? MPB_EXIT_FAILED
               : MPB_EXIT_OK;
}

int mpb_cli_main(int argc, char **argv, MPI_Comm comm)
{
    int root = is_root(comm);
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        if (root)
            print_main_help(stdout);
        return argc < 2 ? MPB_EXIT_USAGE : MPB_EXIT_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        if (root)
            printf("mpiblend %s\n", MPB_VERSION);
        return MPB_EXIT_OK;
    }
    const struct cli_command *c = NULL;
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (!strcmp(argv[1], cli_commands[i].name))
            c = &cli_commands[i];
    if (c == NULL) {
        if (root)
            fprintf(stderr, "mpiblend: unknown command '%s' (see 'mpiblend --help')\n",
                    argv[1]);
        return MPB_EXIT_USAGE;
    }
    struct cli_args a = {.dtype = MPB_DT_BF16};
    mpb_run_opts_default(&a.run);
    char why[512] = "";
    if (parse_args(c, argc - 1, argv + 1, &a, why, sizeof why)) {
        if (root)
            fprintf(stderr, "mpiblend: %s\n", why);
        return MPB_EXIT_USAGE;
    }
    if (a.help) {
        if (root)
            print_command_help(stdout, c);
        return MPB_EXIT_OK;
    }
    mpb_h5_quiet();
    mpb_error err = {0};
    int status = run_command(c, &a, comm, &err, why, sizeof why);
    if (root && status == MPB_EXIT_USAGE)
        fprintf(stderr, "mpiblend: %s\n", why);
    else if (root && status != MPB_EXIT_OK)
        fprintf(stderr, "mpiblend: error: %s\n", err.msg);
    return status;
}
