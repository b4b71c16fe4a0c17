/* Grid points: their values and their output names. */
#include "mpb_sweep_internal.h"
#include "mpb_template.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t mpb_sweep_n_params(const mpb_sweep *s)
{
    return s->n_params;
}
size_t mpb_sweep_n_points(const mpb_sweep *s)
{
    return s->n_points;
}
const char *mpb_sweep_param_key(const mpb_sweep *s, size_t i)
{
    return s->params[i].key;
}
const char *mpb_sweep_param_name(const mpb_sweep *s, size_t i)
{
    return s->params[i].name;
}
const char *mpb_sweep_template(const mpb_sweep *s)
{
    return s->template;
}

size_t mpb_sweep_value_index(const mpb_sweep *s, size_t point, size_t param)
{
    size_t stride = 1;
    for (size_t j = param + 1; j < s->n_params; j++)
        stride *= s->params[j].n_values;
    return (point / stride) % s->params[param].n_values;
}

double mpb_sweep_value(const mpb_sweep *s, size_t point, size_t param)
{
    return s->params[param].values[mpb_sweep_value_index(s, point, param)];
}

const char *mpb_sweep_value_text(const mpb_sweep *s, size_t point, size_t param)
{
    return s->params[param].texts[mpb_sweep_value_index(s, point, param)];
}

struct point_fields {
    const mpb_sweep *s;
    size_t point;
    char index[32];
};

/* The text a {field} stands for at this point, or NULL when unknown. */
static const char *field_text(void *ctx, const char *field, size_t len)
{
    struct point_fields *pf = ctx;
    if (len == 5 && strncmp(field, "index", 5) == 0) {
        snprintf(pf->index, sizeof pf->index, "%zu", pf->point);
        return pf->index;
    }
    for (size_t j = 0; j < pf->s->n_params; j++)
        if (strlen(pf->s->params[j].name) == len &&
            strncmp(pf->s->params[j].name, field, len) == 0)
            return mpb_sweep_value_text(pf->s, pf->point, j);
    return NULL;
}

/* One path component inside the output folder, and not one of the
 * temporary names (".NAME.mpiblend-*.tmp") atomic writes use. */
static int check_file_name(const mpb_sweep *s, const char *name, mpb_error *err)
{
    if (name[0] == '\0' || name[0] == '.' || strchr(name, '/') || strlen(name) > 255)
        return mpb_fail(err, MPB_EINVAL,
                        "sweep output template '%s' in %s gives '%s', which "
                        "is not a plain file name inside the output folder (no '/', no "
                        "leading '.', at most 255 bytes)",
                        s->template, s->path, name);
    for (const unsigned char *c = (const unsigned char *)name; *c; c++)
        if (*c < 0x20 || *c == 0x7f)
            return mpb_fail(err, MPB_EINVAL,
                            "sweep output template '%s' in %s contains a "
                            "control character",
                            s->template, s->path);
    return MPB_OK;
}

int mpb_sweep_output_name(const mpb_sweep *s, size_t point, char **name, mpb_error *err)
{
    struct point_fields pf = {.s = s, .point = point};
    mpb_template_problem at;
    char *out = NULL;
    switch (mpb_template_expand(s->template, true, field_text, &pf, &out, &at)) {
    case MPB_TEMPLATE_OK: break;
    case MPB_TEMPLATE_UNKNOWN_FIELD:
        return mpb_fail(err, MPB_EINVAL,
                        "sweep output template '%s' in %s: '%.*s' "
                        "is not a swept field (fields: the parameter names, index; "
                        "{{ and }} for braces)",
                        s->template, s->path, (int)at.len, s->template + at.at);
    case MPB_TEMPLATE_LONE_CLOSE:
        return mpb_fail(err, MPB_EINVAL,
                        "sweep output template '%s' in %s has a lone "
                        "'}' (write }} for a brace)",
                        s->template, s->path);
    case MPB_TEMPLATE_NO_MEMORY: return mpb_fail(err, MPB_ENOMEM, "out of memory");
    }
    int rc = check_file_name(s, out, err);
    if (rc) {
        free(out);
        return rc;
    }
    *name = out;
    return MPB_OK;
}
