/* Warnings for filters that match no tensor: usually a typo ("self_atn"),
 * which would otherwise silently fall through to the next entry. */
#include "mpb_config_internal.h"

#include <stdio.h>
#include <string.h>

static bool matches_any(const char *filter, const char *const names[], size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strstr(names[i], filter) != NULL)
            return true;
    return false;
}

static void check_setting(const mpb_config *c, const mpb_setting *s, const char *const names[],
                          size_t n, mpb_config_warn_fn warn, void *ctx)
{
    for (size_t k = 0; s->present && s->conditional && k < s->n_conds; k++) {
        const mpb_condition *cond = &s->conds[k];
        if (cond->filter == NULL || strcmp(cond->filter, "*") == 0 ||
            matches_any(cond->filter, names, n))
            continue;
        char msg[MPB_ERROR_MSG_MAX];
        snprintf(msg, sizeof msg, "filter '%s' of %s in %s:%d:%d matches no tensor",
                 cond->filter, s->where, c->path, cond->line, cond->column);
        warn(ctx, msg);
    }
}

void mpb_config_check_filters(const mpb_config *c, const char *const names[], size_t n,
                              mpb_config_warn_fn warn, void *ctx)
{
    for (int id = 0; id < MPB_P_COUNT; id++) {
        check_setting(c, &c->global.s[id], names, n, warn, ctx);
        for (size_t i = 0; i < c->n_inputs; i++)
            check_setting(c, &c->model_params[i].s[id], names, n, warn, ctx);
    }
}
