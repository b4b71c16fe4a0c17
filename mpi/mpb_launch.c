#include "mpb_launch.h"

#include <stdlib.h>
#include <string.h>

/* What one launcher's variables say: the number of ranks it started (or a
 * lower bound) and this process's number among them. */
struct launch {
    const char *size_var; /* NULL when the launcher announces only ranks */
    const char *rank_var;
    const char *what;
};

/* The launcher closest to the process comes first: Open MPI's mpirun inside
 * a Slurm job sets both its own and Slurm's variables, and its own tell. */
static const struct launch launchers[] = {
    {"OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK", "Open MPI's launcher"},
    {"PMI_SIZE", "PMI_RANK", "a PMI launcher (MPICH's mpiexec, Intel MPI, srun --mpi=pmi2)"},
    {"MPI_LOCALNRANKS", "MPI_LOCALRANKID", "MPICH's mpiexec (Hydra)"},
    {"SLURM_STEP_NUM_TASKS", "SLURM_PROCID", "srun"},
    {NULL, "PMIX_RANK", "a PMIx launcher (Open MPI 5, srun --mpi=pmix)"},
};

#define N_LAUNCHERS (sizeof launchers / sizeof launchers[0])

/* The variables as the launcher set them, noted before MPI_Init: Open MPI's
 * start of a singleton rewrites PMIX_RANK to 0.  -1: unset or not a count. */
static struct {
    bool noted;
    long size[N_LAUNCHERS], rank[N_LAUNCHERS];
} env;

static long env_number(const char *name)
{
    const char *v = name ? getenv(name) : NULL;
    if (v == NULL || *v == '\0')
        return -1;
    char *end;
    long n = strtol(v, &end, 10);
    return *end == '\0' && n >= 0 ? n : -1;
}

void mpb_launch_note_env(void)
{
    for (size_t i = 0; i < N_LAUNCHERS; i++) {
        env.size[i] = env_number(launchers[i].size_var);
        env.rank[i] = env_number(launchers[i].rank_var);
    }
    env.noted = true;
}

int mpb_launch_check(MPI_Comm comm, bool *report, mpb_error *err)
{
    *report = true;
    int size;
    MPI_Comm_size(comm, &size);
    if (size != 1)
        return MPB_OK; /* the MPI library and the launcher agree on a job */
    if (!env.noted)
        mpb_launch_note_env();
    for (size_t i = 0; i < N_LAUNCHERS; i++) {
        const struct launch *l = &launchers[i];
        long rank = env.rank[i];
        long launched = l->size_var ? env.size[i] : rank >= 0 ? rank + 1 : -1;
        if (launched < 0)
            continue;
        if (launched <= 1)
            return MPB_OK; /* the nearest launcher started this process alone */
        *report = rank <= 0;
        char version[MPI_MAX_LIBRARY_VERSION_STRING];
        int len = 0;
        MPI_Get_library_version(version, &len);
        version[strcspn(version, ",\n")] = '\0';
        return mpb_fail(err, MPB_EINVAL,
                        "%s started this process as one of %s%ld ranks (%s=%ld), but MPI "
                        "sees it alone (MPI_Comm_size 1): mpiblend was probably built "
                        "against another MPI library than the launcher's, so every rank "
                        "would run the whole job by itself.  This mpiblend uses %s; launch "
                        "it with that MPI's mpirun/mpiexec or srun, or rebuild it against "
                        "the launcher's MPI (docs/OPERATIONS.md, \"Building on a cluster\")",
                        l->what, l->size_var ? "" : "at least ", launched,
                        l->size_var ? l->size_var : l->rank_var, l->size_var ? launched : rank,
                        version);
    }
    return MPB_OK;
}

bool mpb_launch_var(const char *assignment)
{
    static const char *const prefixes[] = {"PMIX_",
                                           "PMI_",
                                           "OMPI_COMM_WORLD_",
                                           "OMPI_MCA_ess_",
                                           "OMPI_MCA_orte_",
                                           "OMPI_MCA_pmix",
                                           "OMPI_APP_CTX",
                                           "OMPI_FIRST_RANKS",
                                           "OMPI_NUM_APP_CTX",
                                           "OMPI_UNIVERSE_SIZE",
                                           "OMPI_FILE_LOCATION",
                                           "OMPI_MCA_initial_wdir",
                                           "OMPI_COMMAND=",
                                           "OMPI_ARGV=",
                                           "MPI_LOCALNRANKS=",
                                           "MPI_LOCALRANKID=",
                                           "SLURM_STEP_NUM_TASKS=",
                                           "SLURM_PROCID="};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (strncmp(assignment, prefixes[i], strlen(prefixes[i])) == 0)
            return true;
    return false;
}
