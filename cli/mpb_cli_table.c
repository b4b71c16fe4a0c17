#include "mpb_cli_table.h"

#include "mpb_arch.h"
#include "mpb_cli.h"
#include "mpb_cli_inspect.h"
#include "mpb_distance.h"
#include "mpb_export.h"
#include "mpb_import.h"
#include "mpb_inspect.h"
#include "mpb_io_hints.h"
#include "mpb_merge.h"
#include "mpb_registry.h"
#include "mpb_synth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct mpb_cli_option mpb_cli_options[] = {
    {"out", OPT_OUT, "PATH", CMD_MERGE, "output checkpoint (required)"},
    {"arch", OPT_ARCH, "ARCH", CMD_SYNTH, "architecture (required)"},
    {"seed", OPT_SEED, "N", CMD_SYNTH, "random seed (default 0)"},
    {"dtype", OPT_DTYPE, "bf16|f16|f32", CMD_SYNTH, "stored dtype (default bf16)"},
    {"format", OPT_FORMAT, "hdf5|safetensors", CMD_MERGE | CMD_SWEEP,
     "output format: an HDF5 file or a Hugging Face folder (default hdf5)"},
    {"shard-size", OPT_SHARD_SIZE, "SIZE", CMD_MERGE | CMD_EXPORT | CMD_SWEEP,
     "largest safetensors shard, e.g. 5GB, 500MB, 2GiB (default 5GB)"},
    {"nonfinite", OPT_NONFINITE, "error|propagate", CMD_MERGE,
     "NaN or inf in an input or a result: stop naming it, or merge on and count them "
     "(default propagate)"},
    {"force", OPT_FORCE, NULL, CMD_WRITERS, "replace an existing output"},
    {"dry-run", OPT_DRY_RUN, NULL, CMD_WRITERS,
     "print the plan (items and bytes per rank, disk space, estimate); write nothing"},
    {"slab-mib", OPT_SLAB_MIB, "N", CMD_WRITERS | CMD_DISTANCE,
     "largest piece of a tensor one rank moves at once, 1..1024 (default 4)"},
    {"slab-kib", OPT_SLAB_KIB, "N", CMD_WRITERS | CMD_DISTANCE,
     "the same in KiB, for small models and tests (overrides --slab-mib)"},
    {"memory-mib", OPT_MEMORY_MIB, "N", CMD_MERGE | CMD_SWEEP,
     "memory per rank that holds a batch of tensors' inputs between the passes of "
     "whole-tensor statistics (ties, slerp, ...), so each input is read once; 0 = re-read "
     "(default 2048)"},
    {"memory-kib", OPT_MEMORY_KIB, "N", CMD_MERGE | CMD_SWEEP,
     "the same in KiB, for small models and tests (overrides --memory-mib)"},
    {"io", OPT_IO, "collective|independent", CMD_WRITERS | CMD_DISTANCE,
     "MPI-IO transfer mode (default independent: faster for whole slabs)"},
    {"aggregate", OPT_AGGREGATE, "auto|on|off", CMD_WRITERS | CMD_DISTANCE,
     "with --io collective: hand each round to the MPI-IO library's collective call, which "
     "may aggregate (on), or move each rank's block in its own call (off); auto (default) "
     "is off when every rank shares one node"},
    {"mpi-hint", OPT_MPI_HINT, "KEY=VALUE", CMD_WRITERS | CMD_DISTANCE,
     "MPI-IO hint for every HDF5 file, e.g. cb_nodes=4, striping_unit=4194304 (repeatable)"},
    {"mpi-hints-file", OPT_MPI_HINTS_FILE, "FILE", CMD_WRITERS | CMD_DISTANCE,
     "MPI-IO hints, one 'KEY VALUE' per line ('#' comments); a later value for a key wins"},
    {"align-kib", OPT_ALIGN_KIB, "N", CMD_WRITERS,
     "align tensors of 1 MiB or more to N KiB in new files, 0 = off (default 1024)"},
    {"follow-links", OPT_FOLLOW_LINKS, NULL, CMD_WRITERS,
     "allow the output path to be a symbolic link"},
    {"quiet", OPT_QUIET, NULL, CMD_WRITERS | CMD_DISTANCE, "no progress lines"},
    {"progress-secs", OPT_PROGRESS_SECS, "S", CMD_WRITERS | CMD_DISTANCE,
     "seconds between progress lines in batch logs (default 5)"},
    {"out-dir", OPT_OUT_DIR, "DIR", CMD_SWEEP, "folder of the outputs and manifest (required)"},
    {"max-outputs", OPT_MAX_OUTPUTS, "N", CMD_SWEEP,
     "write at most N points per pass over the inputs (default: all in one pass)"},
    {"cmd", OPT_CMD, "'COMMAND {path} ...'", CMD_EVAL,
     "command run per point; fields {path} {name} {point} {dir} {metric} and the swept names"},
    {"shell", OPT_SHELL, NULL, CMD_EVAL,
     "run --cmd through /bin/sh -c (fields passed as its positional parameters)"},
    {"jobs", OPT_JOBS, "N", CMD_EVAL, "commands run at once (default 1)"},
    {"metric", OPT_METRIC, "NAME[,NAME...]", CMD_EVAL | CMD_PLOT,
     "name of the score (default: score); repeat or list several: each is then the key "
     "of that name in the command's JSON, or NAME=KEY (a.b for nested); plot: the metrics "
     "to draw, one panel each (default: all)"},
    {"metric", OPT_METRIC, "NAME", CMD_REFINE, "the metric that picks the best point"},
    {"json-all", OPT_JSON_ALL, NULL, CMD_EVAL,
     "record every number of the JSON the command prints, named by its key path (a.b.c)"},
    {"json-key", OPT_JSON_KEY, "KEY", CMD_EVAL,
     "score = this key (a.b for nested) of the JSON the command prints"},
    {"regex", OPT_REGEX, "RE", CMD_EVAL,
     "score = group 1 (else the match) of the last match of this POSIX ERE"},
    {"point", OPT_POINT, "N", CMD_EVAL, "evaluate only point N (array jobs)"},
    {"force", OPT_FORCE, NULL, CMD_EVAL | CMD_REFINE, "redo points already scored / replace"},
    {"param", OPT_PARAM, "NAME", CMD_REFINE | CMD_PLOT,
     "swept parameter (default: the only one)"},
    {"around", OPT_AROUND, "best|steepest|pareto", CMD_REFINE,
     "refine around the best score, the steepest change, or between neighbours on the "
     "Pareto front of --maximize/--minimize (default best)"},
    {"where", OPT_WHERE, "'METRIC<=V'", CMD_REFINE,
     "only points meeting this (<, <=, >, >=, ==; repeatable) can be best or on the front"},
    {"maximize", OPT_MAXIMIZE, "METRIC", CMD_REFINE | CMD_PLOT,
     "higher is better for the Pareto front (repeatable; refine: alone, the same as "
     "--metric M --goal max)"},
    {"minimize", OPT_MINIMIZE, "METRIC", CMD_REFINE | CMD_PLOT,
     "lower is better for the Pareto front (repeatable)"},
    {"x", OPT_X, "METRIC", CMD_PLOT,
     "plot --y against this metric, the Pareto front marked "
     "(default directions: max y, min x)"},
    {"y", OPT_Y, "METRIC", CMD_PLOT, "the metric drawn against --x"},
    {"points", OPT_POINTS, "N", CMD_REFINE,
     "new values to propose (default 4; pareto: per interval of the front, default 1)"},
    {"goal", OPT_GOAL, "max|min", CMD_REFINE,
     "whether a higher or lower score is better (default max)"},
    {"out", OPT_OUT, "PATH", CMD_REFINE | CMD_PLOT,
     "file to write (refine: CONFIG.refine-N.yaml; plot: DIR/plot.svg or DIR/Y-vs-X.svg, "
     "plus a PNG when rsvg-convert or ImageMagick's convert is on PATH)"},
    {"json", OPT_JSON, NULL, CMD_INSPECT | CMD_DISTANCE, "print JSON for scripts"},
    {"csv", OPT_CSV, NULL, CMD_DISTANCE,
     "print CSV, one row per pair and tensor, kind or overall"},
    {"config", OPT_CONFIG, "CONFIG.yaml", CMD_VERIFY,
     "the merge's config: also recompute elements from its inputs"},
    {"sample", OPT_SAMPLE, "N", CMD_VERIFY,
     "elements recomputed per tensor (default 64; 0: checksums only)"},
    {"tolerance", OPT_TOLERANCE, "T", CMD_DIFF,
     "accept absolute differences up to T (default: identical bits only)"},
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

static int run_merge(struct mpb_cli_args *a, MPI_Comm comm, mpb_error *err, char *why, size_t n)
{
    if (a->n_positional != 1 || a->out == NULL)
        return usage(a, "merge CONFIG.yaml --out OUT.h5 [options]", why, n);
    return exit_code(mpb_merge_run(a->positional[0], a->out, &a->run, comm, err));
}

static int run_synth(struct mpb_cli_args *a, MPI_Comm comm, mpb_error *err, char *why, size_t n)
{
    if (a->n_positional != 1 || a->arch == NULL) {
        snprintf(why, n, "usage: mpiblend synth --arch ARCH OUT.h5 (architectures: %s)",
                 mpb_arch_list());
        return MPB_EXIT_USAGE;
    }
    return exit_code(
        mpb_synth_run(a->arch, a->seed, a->dtype, a->positional[0], &a->run, comm, err));
}

static int run_import(struct mpb_cli_args *a, MPI_Comm comm, mpb_error *err, char *why,
                      size_t n)
{
    if (a->n_positional != 2)
        return usage(a, "import SOURCE OUT.h5 [options]", why, n);
    return exit_code(mpb_import_run(a->positional[0], a->positional[1], &a->run, comm, err));
}

static int run_export(struct mpb_cli_args *a, MPI_Comm comm, mpb_error *err, char *why,
                      size_t n)
{
    if (a->n_positional != 2)
        return usage(a, "export IN.h5 OUT_DIR [--shard-size 5GB] [options]", why, n);
    return exit_code(mpb_export_run(a->positional[0], a->positional[1], &a->run, comm, err));
}

/* The merge methods, from the registry (blend/mpb_registry.c): the docs'
 * method tables are checked against this list (tests/ux). */
static void print_methods(FILE *out)
{
    fprintf(out, "\nmerge methods (merge_method: in the config; docs/METHODS.md):\n");
    for (int m = 0; m < MPB_METHOD_COUNT; m++) {
        const mpb_method_def *def = mpb_method_get((mpb_method)m);
        char needs[128] = "";
        size_t at = 0;
        if (def->base == MPB_BASE_NEEDED)
            at += (size_t)snprintf(needs + at, sizeof needs - at, ", base_model");
        for (int id = 0; id < MPB_P_COUNT && at < sizeof needs; id++)
            if (def->params[id].required)
                at += (size_t)snprintf(needs + at, sizeof needs - at, ", %s",
                                       mpb_param_name((mpb_param_id)id));
        fprintf(out, "  %-18s %s\n", def->name, def->summary);
        if (at > 0)
            fprintf(out, "%21sneeds %s\n", "", needs + 2);
    }
}

const struct mpb_cli_command mpb_cli_commands[] = {
    {"merge", CMD_MERGE, "merge CONFIG.yaml --out OUT.h5 [options]",
     "blend the checkpoints a mergekit-style YAML config names (paths, or ORG/NAME[@REV] "
     "from the local Hugging Face cache, offline)",
     run_merge, print_methods},
    {"sweep", CMD_SWEEP, "sweep CONFIG.yaml --out-dir DIR [--max-outputs N] [options]",
     "write every point of the config's sweep: grid, reading the inputs once per pass",
     mpb_cli_run_sweep, NULL},
    {"eval", CMD_EVAL,
     "eval DIR --cmd 'COMMAND {path} ...' [--metric NAME,... | --json-all] "
     "[options]",
     "run a command per sweep point and record its scores in DIR/results.csv and the manifest",
     mpb_cli_run_eval, NULL},
    {"refine", CMD_REFINE,
     "refine DIR --metric NAME [--around best|steepest] [--where "
     "'M<=V'] | --around pareto --maximize M1 --minimize M2 [options]",
     "write a sweep config sampling densely where the scores peak, change fastest, or "
     "trade off",
     mpb_cli_run_refine, NULL},
    {"plot", CMD_PLOT,
     "plot DIR [--metric NAME,...] [--param NAME] | --x M1 --y M2 "
     "[--out FILE.svg]",
     "draw the scores against a swept parameter, or one against another with the Pareto "
     "front, as an SVG (and a PNG)",
     mpb_cli_run_plot, NULL},
    {"inspect", CMD_INSPECT, "inspect CHECKPOINT [--json]",
     "list a checkpoint's tensors, totals, tied embeddings, files and provenance",
     mpb_cli_run_inspect, NULL},
    {"distance", CMD_DISTANCE, "distance A B [C ...] [--json|--csv] [options]",
     "how far apart checkpoints are, per tensor, module kind and overall, for every pair",
     mpb_cli_run_distance, NULL},
    {"verify", CMD_VERIFY, "verify OUT.h5 [--config CONFIG.yaml] [--sample N]",
     "check a merged checkpoint: its checksums, and elements recomputed from the inputs",
     mpb_cli_run_verify, NULL},
    {"diff", CMD_DIFF, "diff A.h5 B.h5 [--tolerance T]",
     "compare the tensor data of two checkpoints element by element", mpb_cli_run_diff, NULL},
    {"synth", CMD_SYNTH, "synth --arch ARCH [--seed S] [--dtype bf16|f16|f32] OUT.h5",
     "write a synthetic checkpoint with a public architecture's shapes", run_synth, NULL},
    {"import", CMD_IMPORT, "import SOURCE OUT.h5 [options]",
     "copy a Hugging Face folder or .safetensors file into one HDF5 checkpoint", run_import,
     NULL},
    {"export", CMD_EXPORT, "export IN.h5 OUT_DIR [--shard-size 5GB] [options]",
     "write a checkpoint as a Hugging Face folder (sharded safetensors, config)", run_export,
     NULL},
};
const size_t mpb_cli_n_commands = sizeof mpb_cli_commands / sizeof mpb_cli_commands[0];

void mpb_cli_args_default(struct mpb_cli_args *a)
{
    memset(a, 0, sizeof *a);
    mpb_run_opts_default(&a->run);
    a->dtype = MPB_DT_BF16;
    mpb_sweep_cli_defaults(&a->sweep);
    mpb_check_cli_defaults(&a->check);
}

static int parse_u64(const char *text, const char *opt, uint64_t lo, uint64_t hi, uint64_t *out,
                     char *why, size_t why_len)
{
    char *end;
    unsigned long long v = strtoull(text, &end, 10);
    if (*text == '\0' || *end != '\0' || text[0] == '-' || v < lo || v > hi) {
        snprintf(why, why_len, "--%s takes a whole number from %llu to %llu, not '%s'", opt,
                 (unsigned long long)lo, (unsigned long long)hi, text);
        return -1;
    }
    *out = v;
    return 0;
}

int mpb_cli_apply_option(struct mpb_cli_args *a, int id, const char *val, char *why, size_t n)
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
    case OPT_JSON: a->json = true; return 0;
    case OPT_CSV: a->csv = true; return 0;
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
    case OPT_MEMORY_MIB:
        if (parse_u64(val, "memory-mib", 0, 1ull << 30, &v, why, n))
            return -1;
        a->run.memory_bytes = v << 20;
        return 0;
    case OPT_MEMORY_KIB:
        if (parse_u64(val, "memory-kib", 0, 1ull << 40, &v, why, n))
            return -1;
        a->run.memory_bytes = v << 10;
        return 0;
    case OPT_ALIGN_KIB:
        if (parse_u64(val, "align-kib", 0, 1u << 20, &v, why, n))
            return -1;
        a->run.io.alignment = v << 10;
        return 0;
    case OPT_MPI_HINT: return mpb_io_hint_parse(&a->run.io, val, why, n);
    case OPT_MPI_HINTS_FILE: return mpb_io_hints_read_file(&a->run.io, val, why, n);
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
    case OPT_AGGREGATE: {
        static const char *const names[] = {[MPB_AGGREGATE_AUTO] = "auto",
                                            [MPB_AGGREGATE_ON] = "on",
                                            [MPB_AGGREGATE_OFF] = "off"};
        for (size_t i = 0; i < sizeof names / sizeof *names; i++)
            if (!strcmp(val, names[i])) {
                a->run.io.aggregation = (mpb_io_aggregation)i;
                return 0;
            }
        snprintf(why, n, "--aggregate takes 'auto', 'on' or 'off', not '%s'", val);
        return -1;
    }
    case OPT_FORMAT:
        a->run.out_store = mpb_store_by_name(val);
        if (a->run.out_store != NULL)
            return 0;
        snprintf(why, n, "--format takes 'hdf5' or 'safetensors', not '%s'", val);
        return -1;
    case OPT_SHARD_SIZE:
        if (mpb_export_parse_size(val, &a->run.io.shard_bytes) == 0)
            return 0;
        snprintf(why, n, "--shard-size takes a size such as 5GB, 500MB or 2GiB, not '%s'", val);
        return -1;
    case OPT_NONFINITE:
        if (mpb_nonfinite_parse(val, &a->run.nonfinite))
            return 0;
        snprintf(why, n, "--nonfinite takes 'error' or 'propagate', not '%s'", val);
        return -1;
    case OPT_DTYPE:
        a->dtype = mpb_dtype_parse(val);
        if (mpb_dtype_is_blendable(a->dtype))
            return 0;
        snprintf(why, n, "--dtype takes bf16, f16 or f32, not '%s'", val);
        return -1;
    default:
        if (id >= OPT_CONFIG) /* verify, diff */
            return mpb_check_cli_apply(a, id, val, why, n);
        if (id >= OPT_OUT_DIR) /* sweep, eval, refine, plot */
            return mpb_sweep_cli_apply(a, id, val, why, n);
        snprintf(why, n, "unknown option");
        return -1;
    }
}
