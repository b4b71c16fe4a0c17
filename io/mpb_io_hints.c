#include "mpb_io_hints.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

static int add_hint(mpb_io_opts *o, const char *key, size_t key_len, const char *value,
                    size_t value_len, char *why, size_t why_len)
{
    if (key_len == 0 || value_len == 0) {
        snprintf(why, why_len, "an MPI-IO hint needs a key and a value");
        return -1;
    }
    if (key_len >= sizeof o->hints[0].key || value_len >= sizeof o->hints[0].value) {
        snprintf(why, why_len,
                 "MPI-IO hint '%.*s' is too long (keys up to %zu, values up "
                 "to %zu characters)",
                 (int)key_len, key, sizeof o->hints[0].key - 1, sizeof o->hints[0].value - 1);
        return -1;
    }
    size_t i = 0;
    while (i < o->n_hints &&
           !(strlen(o->hints[i].key) == key_len && !strncmp(o->hints[i].key, key, key_len)))
        i++;
    if (i == MPB_IO_MAX_HINTS) {
        snprintf(why, why_len, "more than %d MPI-IO hints", MPB_IO_MAX_HINTS);
        return -1;
    }
    memcpy(o->hints[i].key, key, key_len);
    o->hints[i].key[key_len] = '\0';
    memcpy(o->hints[i].value, value, value_len);
    o->hints[i].value[value_len] = '\0';
    if (i == o->n_hints)
        o->n_hints++;
    return 0;
}

static bool has_space(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (isspace((unsigned char)s[i]))
            return true;
    return false;
}

int mpb_io_hint_parse(mpb_io_opts *o, const char *text, char *why, size_t why_len)
{
    const char *eq = strchr(text, '=');
    if (eq == NULL || eq == text || eq[1] == '\0' || has_space(text, strlen(text))) {
        snprintf(why, why_len, "--mpi-hint takes KEY=VALUE (e.g. cb_nodes=4), not '%s'", text);
        return -1;
    }
    return add_hint(o, text, (size_t)(eq - text), eq + 1, strlen(eq + 1), why, why_len);
}

/* One line: blank, a comment, or KEY VALUE. */
static int parse_line(mpb_io_opts *o, char *line, const char *path, int lineno, char *why,
                      size_t why_len)
{
    char *p = line;
    while (isspace((unsigned char)*p))
        p++;
    if (*p == '\0' || *p == '#')
        return 0;
    char *key = p;
    while (*p && !isspace((unsigned char)*p))
        p++;
    size_t key_len = (size_t)(p - key);
    while (isspace((unsigned char)*p))
        p++;
    char *value = p;
    while (*p && !isspace((unsigned char)*p))
        p++;
    size_t value_len = (size_t)(p - value);
    while (isspace((unsigned char)*p))
        p++;
    if (value_len == 0 || *p != '\0') {
        snprintf(why, why_len, "%s:%d: expected 'KEY VALUE', got '%.*s'", path, lineno, 80,
                 key);
        return -1;
    }
    char inner[256];
    if (add_hint(o, key, key_len, value, value_len, inner, sizeof inner)) {
        snprintf(why, why_len, "%s:%d: %s", path, lineno, inner);
        return -1;
    }
    return 0;
}

int mpb_io_hints_read_file(mpb_io_opts *o, const char *path, char *why, size_t why_len)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(why, why_len, "cannot read MPI-IO hints file '%s': %s", path, strerror(errno));
        return -1;
    }
    char line[512];
    int lineno = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f) != NULL) {
        lineno++;
        size_t n = strlen(line);
        if (n + 1 == sizeof line && line[n - 1] != '\n') {
            snprintf(why, why_len, "%s:%d: line too long", path, lineno);
            rc = -1;
            break;
        }
        line[strcspn(line, "\r\n")] = '\0';
        rc = parse_line(o, line, path, lineno, why, why_len);
    }
    fclose(f);
    return rc;
}

int mpb_io_hints_info(const mpb_io_opts *o, MPI_Info *info)
{
    *info = MPI_INFO_NULL;
    if (o->n_hints == 0)
        return MPI_SUCCESS;
    int mrc = MPI_Info_create(info);
    for (size_t i = 0; i < o->n_hints && mrc == MPI_SUCCESS; i++)
        mrc = MPI_Info_set(*info, o->hints[i].key, o->hints[i].value);
    if (mrc != MPI_SUCCESS && *info != MPI_INFO_NULL)
        MPI_Info_free(info);
    return mrc;
}

void mpb_io_aggregation_settle(mpb_io_opts *o, MPI_Comm comm)
{
    if (o->aggregation != MPB_AGGREGATE_AUTO)
        return;
    MPI_Comm node;
    int size, node_size;
    MPI_Comm_size(comm, &size);
    MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
    MPI_Comm_size(node, &node_size);
    MPI_Comm_free(&node);
    /* Every rank sees the same answer: all share its node or none do. */
    o->aggregation = node_size == size ? MPB_AGGREGATE_OFF : MPB_AGGREGATE_ON;
}
