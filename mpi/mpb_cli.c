#include "mpb_cli.h"
#include "mpb_cli_table.h"

#include "mpb_h5.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_root(MPI_Comm comm)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    return rank == 0;
}

static void print_command_help(FILE *out, const struct mpb_cli_command *c)
{
    fprintf(out, "usage: mpirun -np N mpiblend %s\n\n%s.\n\noptions:\n", c->usage,
            c->summary);
    for (size_t i = 0; i < mpb_cli_n_options; i++) {
        const struct mpb_cli_option *o = &mpb_cli_options[i];
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
    for (size_t i = 0; i < mpb_cli_n_commands; i++)
        fprintf(out, "  %-8s %s\n", mpb_cli_commands[i].name, mpb_cli_commands[i].summary);
    fprintf(out, "\n'mpiblend COMMAND --help' lists a command's options. "
                 "Documentation: README.md and docs/.\n");
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
            longopts[n++] = (struct option){mpb_cli_options[i].name,
                                            mpb_cli_options[i].arg ? required_argument
                                                               : no_argument,
                                            NULL, mpb_cli_options[i].id};
    opterr = 0;
    optind = 0; /* glibc: 0 re-initialises the scanner */
    int id;
    while ((id = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (id == '?' || id == ':') {
            free(longopts);
            snprintf(why, why_len, "%s: unrecognised or incomplete option '%s' (see "
                                   "'mpiblend %s --help')",
                     c->name, argv[optind - 1], c->name);
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
            printf("mpiblend %s\n", MPB_VERSION);
        return MPB_EXIT_OK;
    }
    const struct mpb_cli_command *c = NULL;
    for (size_t i = 0; i < mpb_cli_n_commands; i++)
        if (!strcmp(argv[1], mpb_cli_commands[i].name))
            c = &mpb_cli_commands[i];
    if (c == NULL) {
        if (root)
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
    mpb_h5_quiet();
    mpb_error err = {0};
    int status = c->run(&a, comm, &err, why, sizeof why);
    if (root && status == MPB_EXIT_USAGE)
        fprintf(stderr, "mpiblend: %s\n", why);
    else if (root && status != MPB_EXIT_OK)
        fprintf(stderr, "mpiblend: error: %s\n", err.msg);
    return status;
}
