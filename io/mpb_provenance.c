#include "mpb_provenance.h"

#include "mpb_comm.h"

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

void mpb_provenance_init(mpb_provenance *p, MPI_Comm comm)
{
    *p = (mpb_provenance){0};
    int rank, nranks;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &nranks);
    /* Ranks' clocks may straddle a second: rank 0's time is the record. */
    long long now = rank == 0 ? (long long)time(NULL) : 0;
    MPI_Bcast(&now, 1, MPI_LONG_LONG, 0, comm);
    time_t t = (time_t)now;
    struct tm utc;
    strftime(p->created, sizeof p->created, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &utc));
    snprintf(p->ranks, sizeof p->ranks, "%d", nranks);
    mpb_provenance_set(p, "mpiblend_version", MPB_VERSION);
    mpb_provenance_set(p, "mpiblend_ranks", p->ranks);
    mpb_provenance_set(p, "mpiblend_created", p->created);
}

size_t mpb_provenance_set(mpb_provenance *p, const char *key, const char *value)
{
    size_t i = 0;
    while (i < p->n && strcmp(p->keys[i], key) != 0)
        i++;
    /* The keys are the program's own, a handful per command. */
    if (i == p->n && p->n < MPB_PROVENANCE_MAX)
        p->keys[p->n++] = key;
    p->values[i] = value;
    return i;
}

/* A file's size; a folder's is the sum of the regular files in it (a
 * Hugging Face model folder is flat). */
static long long input_bytes(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return -1;
    if (!S_ISDIR(st.st_mode))
        return (long long)st.st_size;
    DIR *d = opendir(path);
    if (d == NULL)
        return -1;
    long long sum = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        char *child = malloc(strlen(path) + strlen(e->d_name) + 2);
        if (child == NULL) {
            sum = -1;
            break;
        }
        sprintf(child, "%s/%s", path, e->d_name);
        if (stat(child, &st) == 0 && S_ISREG(st.st_mode))
            sum += (long long)st.st_size;
        free(child);
    }
    closedir(d);
    return sum;
}

static char *inputs_json(const char *const paths[], size_t n, mpb_error *err)
{
    json_t *list = json_array();
    for (size_t i = 0; list && i < n; i++) {
        /* jansson escapes quotes, backslashes and control characters; it
         * refuses text that is not UTF-8, which JSON cannot carry. */
        json_t *path = json_string(paths[i]);
        if (path == NULL) {
            json_decref(list);
            mpb_fail(err, MPB_EINVAL,
                     "%s: the path is not UTF-8 and cannot be recorded in mpiblend_inputs",
                     paths[i]);
            return NULL;
        }
        json_t *entry =
            json_pack("{s:o,s:I}", "path", path, "bytes", (json_int_t)input_bytes(paths[i]));
        if (entry == NULL || json_array_append_new(list, entry) != 0) {
            json_decref(list);
            list = NULL;
        }
    }
    char *text = list ? json_dumps(list, JSON_PRESERVE_ORDER) : NULL;
    json_decref(list);
    if (text == NULL)
        mpb_fail(err, MPB_ENOMEM, "out of memory recording the inputs");
    return text;
}

int mpb_provenance_set_inputs(mpb_provenance *p, const char *const paths[], size_t n,
                              MPI_Comm comm, mpb_error *err)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    free(p->inputs);
    p->inputs = rank == 0 ? inputs_json(paths, n, err) : NULL;
    int rc = mpb_comm_agree(err, comm);
    if (rc == MPB_OK)
        rc = mpb_comm_bcast_string(&p->inputs, 0, comm, err);
    if (rc == MPB_OK)
        mpb_provenance_set(p, "mpiblend_inputs", p->inputs);
    return rc;
}

void mpb_provenance_free(mpb_provenance *p)
{
    free(p->inputs);
    p->inputs = NULL;
}
