#include "mpb_template.h"

#include <stdlib.h>
#include <string.h>

static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("_.@[]*-", c) != NULL);
}

/* The '}' closing a field opened at t, or NULL when t opens none (lenient
 * mode: an empty name or one with other characters is no field). */
static const char *field_end(const char *t, bool strict)
{
    const char *close = strchr(t + 1, '}');
    if (strict || close == NULL)
        return close;
    if (close == t + 1)
        return NULL;
    for (const char *c = t + 1; c < close; c++)
        if (!name_char(*c))
            return NULL;
    return close;
}

bool mpb_text_append(char **s, size_t *used, size_t *cap, const char *text, size_t len)
{
    if (*used + len + 1 > *cap) {
        size_t bigger_cap = 2 * (*used + len + 1);
        char *bigger = realloc(*s, bigger_cap);
        if (bigger == NULL)
            return false;
        *s = bigger;
        *cap = bigger_cap;
    }
    memcpy(*s + *used, text, len);
    *used += len;
    (*s)[*used] = '\0';
    return true;
}

mpb_template_status mpb_template_expand(const char *tmpl, bool strict,
                                        mpb_template_lookup lookup, void *ctx, char **out,
                                        mpb_template_problem *problem)
{
    size_t used = 0, cap = strlen(tmpl) + 64;
    char *s = malloc(cap);
    if (s == NULL)
        return MPB_TEMPLATE_NO_MEMORY;
    s[0] = '\0';
    mpb_template_status status = MPB_TEMPLATE_OK;
    for (const char *t = tmpl; *t && status == MPB_TEMPLATE_OK;) {
        const char *text = t, *close = NULL;
        size_t len = 1, step = 1;
        if ((t[0] == '{' && t[1] == '{') || (t[0] == '}' && t[1] == '}')) {
            step = 2;
        } else if (t[0] == '{' && (close = field_end(t, strict)) != NULL) {
            text = lookup(ctx, t + 1, (size_t)(close - t - 1));
            len = text ? strlen(text) : 0;
            step = (size_t)(close - t + 1);
            if (text == NULL)
                status = MPB_TEMPLATE_UNKNOWN_FIELD;
        } else if (strict && t[0] == '{') {
            step = strlen(t);
            status = MPB_TEMPLATE_UNKNOWN_FIELD;
        } else if (strict && t[0] == '}') {
            status = MPB_TEMPLATE_LONE_CLOSE;
        }
        if (status != MPB_TEMPLATE_OK) {
            problem->at = (size_t)(t - tmpl);
            problem->len = step;
        } else if (!mpb_text_append(&s, &used, &cap, text, len)) {
            status = MPB_TEMPLATE_NO_MEMORY;
        }
        t += step;
    }
    if (status != MPB_TEMPLATE_OK) {
        free(s);
        return status;
    }
    *out = s;
    return MPB_TEMPLATE_OK;
}
