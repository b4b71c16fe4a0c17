#include "mpb_cli.h"
#include "mpb_cli_table.h"
#include "mpb_launch.h"

#include "mpb_comm.h"
#include "mpb_memory.h"
#include "mpb_suggest.h"
#include "mpb_h5.h"
#include "mpb_io_hints.h"

#include <getopt.h>
#include <hdf5.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

static int is_root(MPI_Comm comm)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    return rank == 0;
}

/* Prints text from column `indent` on, wrapped at spaces before column 79. */
static void print_wrapped(FILE *out, const char *text, int indent, int column)
{
    const int width = 79;
    while (*text) {
        int room = width - column > 20 ? width - column : 20;
        int n = (int)strlen(text);
        if (n > room) {
            n = room;
            while (n > 0 && text[n] != ' ')
                n--;
            if (n == 0) /* one long word: break after it */
                n = (int)strcspn(text, " ");
        }
        fprintf(out, "%.*s\n", n, text);
        text += n;
        while (*text == ' ')
            text++;
        if (*text)
            fprintf(out, "%*s", indent, "");
        column = indent;
    }
}

static void print_command_help(FILE *out, const struct mpb_cli_command *c)
{
    fprintf(out, "usage: mpirun -np N mpiblend %s\n\n%s.\n\noptions:\n", c->usage, c->summary);
    const int left = 30;
    for (size_t i = 0; i < mpb_cli_n_options; i++) {
        const struct mpb_cli_option *o = &mpb_cli_options[i];
        if (!(o->commands & c->bit))
            continue;
        char name[64];
        snprintf(name, sizeof name, "--%s%s%s", o->name, o->arg ? " " : "",
                 o->arg ? o->arg : "");
        int used = fprintf(out, "  %-*s ", left - 3, name);
        if (used > left) { /* a long name gets its own line */
            fprintf(out, "\n%*s", left, "");
            used = left;
        }
        print_wrapped(out, o->help, left, used);
    }
    if (c->more_help)
        c->more_help(out);
}

static void print_main_help(FILE *out)
{
    fprintf(out,
            "mpiblend %s: blend large-model checkpoints under MPI\n\n"
            "usage: mpirun -np N mpiblend COMMAND [options]\n"
            "       mpiblend --version | --help\n\ncommands:\n",
            MPB_VERSION);
    for (size_t i = 0; i < mpb_cli_n_commands; i++) {
        int used = fprintf(out, "  %-8s  ", mpb_cli_commands[i].name);
        print_wrapped(out, mpb_cli_commands[i].summary, 12, used);
    }
    fprintf(out, "\n'mpiblend COMMAND --help' lists a command's options with their defaults.\n"
                 "Documentation: 'man mpiblend', README.md and docs/ (docs/OPERATIONS.md for\n"
                 "progress lines, dry runs and batch jobs).\n");
}

/* The version, and the libraries' for bug reports: the first line alone is
 * for scripts. */
static void print_version(FILE *out)
{
    unsigned major, minor, release;
    H5get_libversion(&major, &minor, &release);
    char mpi[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0;
    MPI_Get_library_version(mpi, &len);
    mpi[strcspn(mpi, ",\n")] = '\0'; /* "Open MPI v4.1.4, package: ..." */
    fprintf(out, "mpiblend %s\nlibraries: HDF5 %u.%u.%u, %s, jansson %s, libyaml %s\n",
            MPB_VERSION, major, minor, release, mpi, JANSSON_VERSION,
            yaml_get_version_string());
}

/* The names of the options the command `bit` accepts, NULL-terminated;
 * caller frees. */
static const char **option_names(unsigned bit)
{
    const char **names = calloc(mpb_cli_n_options + 1, sizeof *names);
    for (size_t i = 0, n = 0; names && i < mpb_cli_n_options; i++)
        if (mpb_cli_options[i].commands & bit)
            names[n++] = mpb_cli_options[i].name;
    return names;
}

static const struct mpb_cli_option *find_option(unsigned bit, const char *name)
{
    for (size_t i = 0; i < mpb_cli_n_options; i++)
        if ((mpb_cli_options[i].commands & bit) && !strcmp(mpb_cli_options[i].name, name))
            return &mpb_cli_options[i];
    return NULL;
}

/* The fix for a refused option when one is near: the missing value, the
 * closest option name, or the command that has the option. */
static void option_hint(const struct mpb_cli_command *c, const char *name, char *hint,
                        size_t len)
{
    const struct mpb_cli_option *o = find_option(c->bit, name);
    if (o != NULL) {
        if (o->arg != NULL)
            snprintf(hint, len, "needs a value: --%s %s", o->name, o->arg);
        else
            snprintf(hint, len, "takes no value");
        return;
    }
    size_t prefixed = 0;
    for (size_t i = 0; i < mpb_cli_n_options; i++)
        prefixed += (mpb_cli_options[i].commands & c->bit) && *name &&
                    !strncmp(mpb_cli_options[i].name, name, strlen(name));
    const char **names = option_names(c->bit);
    const char *close = names ? mpb_suggest(name, names) : NULL;
    if (prefixed > 1) {
        size_t used = (size_t)snprintf(hint, len, "ambiguous; one of");
        for (size_t i = 0; i < mpb_cli_n_options && used < len; i++)
            if ((mpb_cli_options[i].commands & c->bit) &&
                !strncmp(mpb_cli_options[i].name, name, strlen(name)))
                used +=
                    (size_t)snprintf(hint + used, len - used, " --%s", mpb_cli_options[i].name);
    } else if (close != NULL)
        snprintf(hint, len, "unknown option; did you mean --%s?", close);
    else
        snprintf(hint, len, "unknown option");
    free(names);
    for (size_t i = 0; i < mpb_cli_n_commands && close == NULL && prefixed <= 1; i++)
        if (find_option(mpb_cli_commands[i].bit, name) != NULL) {
            snprintf(hint, len, "not an option of '%s' (it is one of '%s')", c->name,
                     mpb_cli_commands[i].name);
            break;
        }
}

static void explain_bad_option(const struct mpb_cli_command *c, const char *arg, char *why,
                               size_t why_len)
{
    char name[64], hint[160];
    const char *body = strncmp(arg, "--", 2) == 0 ? arg + 2 : arg;
    size_t n = strcspn(body, "=");
    snprintf(name, sizeof name, "%.*s", (int)n, body);
    option_hint(c, name, hint, sizeof hint);
    snprintf(why, why_len, "%s: %s: %s (see 'mpiblend %s --help')", c->name, arg, hint,
             c->name);
}

static int parse_args(const struct mpb_cli_command *c, int argc, char **argv,
                      struct mpb_cli_args *a, char *why, size_t why_len)
{
    struct option *longopts = calloc(mpb_cli_n_options + 1, sizeof *longopts);
    if (longopts == NULL) {
        snprintf(why, why_len, "out of memory");
        return -1;
    }
    size_t n = 0;
    for (size_t i = 0; i < mpb_cli_n_options; i++)
        if (mpb_cli_options[i].commands & c->bit)
            longopts[n++] =
                (struct option){mpb_cli_options[i].name,
                                mpb_cli_options[i].arg ? required_argument : no_argument, NULL,
                                mpb_cli_options[i].id};
    opterr = 0;
    optind = 0; /* glibc: 0 re-initialises the scanner */
    int id;
    while ((id = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (id == '?' || id == ':') {
            free(longopts);
            explain_bad_option(c, argv[optind - 1], why, why_len);
            return -1;
        }
        if (mpb_cli_apply_option(a, id, optarg, why, why_len)) {
            free(longopts);
            return -1;
        }
    }
    free(longopts);
    a->positional = argv + optind;
    a->n_positional = argc - optind;
    return 0;
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
            print_version(stdout);
        return MPB_EXIT_OK;
    }
    const struct mpb_cli_command *c = NULL;
    for (size_t i = 0; i < mpb_cli_n_commands; i++)
        if (!strcmp(argv[1], mpb_cli_commands[i].name))
            c = &mpb_cli_commands[i];
    if (c == NULL) {
        const char **names = calloc(mpb_cli_n_commands + 1, sizeof *names);
        for (size_t i = 0; names && i < mpb_cli_n_commands; i++)
            names[i] = mpb_cli_commands[i].name;
        const char *close = names ? mpb_suggest(argv[1], names) : NULL;
        free(names);
        if (root && close)
            fprintf(stderr,
                    "mpiblend: unknown command '%s'; did you mean '%s'? (see "
                    "'mpiblend --help')\n",
                    argv[1], close);
        else if (root)
            fprintf(stderr, "mpiblend: unknown command '%s' (see 'mpiblend --help')\n",
                    argv[1]);
        return MPB_EXIT_USAGE;
    }
    struct mpb_cli_args a;
    mpb_cli_args_default(&a);
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
    mpb_error err = {0};
    bool report = true;
    if (mpb_launch_check(comm, &report, &err) != MPB_OK) { /* before any file is touched */
        if (report)
            fprintf(stderr, "mpiblend: error: %s\n", err.msg);
        return MPB_EXIT_FAILED;
    }
    mpb_h5_quiet();
    mpb_io_aggregation_settle(&a.run.io, comm); /* collective, before any file opens */
    mpb_memory_check_headroom(MPB_MEMORY_MIN_HEADROOM, &err);
    int status = mpb_comm_agree(&err, comm) == MPB_OK ? c->run(&a, comm, &err, why, sizeof why)
                                                      : MPB_EXIT_FAILED;
    if (root && status == MPB_EXIT_USAGE)
        fprintf(stderr, "mpiblend: %s\n", why);
    else if (root && status != MPB_EXIT_OK)
        fprintf(stderr, "mpiblend: error: %s\n", err.msg);
    return status;
}
