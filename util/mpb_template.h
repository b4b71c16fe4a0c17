/* {field} templates: sweep output names (docs/SWEEP.md) and eval command
 * lines.  "{{" and "}}" stand for single braces; each "{NAME}" becomes the
 * text the caller's lookup gives for NAME.  Pure string work, libc only. */
#ifndef MPB_TEMPLATE_H
#define MPB_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

/* The text NAME (len bytes, not NUL-terminated) stands for, or NULL when it
 * is not a field.  The text must stay valid until the next call. */
typedef const char *(*mpb_template_lookup)(void *ctx, const char *name, size_t len);

typedef enum {
    MPB_TEMPLATE_OK,
    MPB_TEMPLATE_UNKNOWN_FIELD, /* a {NAME} the lookup does not know, or an unclosed '{' */
    MPB_TEMPLATE_LONE_CLOSE,    /* a '}' that is neither "}}" nor a field's end (strict) */
    MPB_TEMPLATE_NO_MEMORY
} mpb_template_status;

/* Where a problem is: bytes [at, at + len) of the template. */
typedef struct mpb_template_problem {
    size_t at, len;
} mpb_template_problem;

/* Strict (sweep names): every '{' opens a field and a lone '}' is an error.
 * Lenient (command lines, where braces belong to the shell or awk): only
 * '{' + letters, digits and _.@[]*- + '}' is a field; other braces are
 * kept as they are.  On success *out is malloc'd (caller frees). */
/* Appends len bytes of text to the NUL-terminated string *s of *used bytes
 * in a *cap-byte block, growing it; false when out of memory (*s intact). */
bool mpb_text_append(char **s, size_t *used, size_t *cap, const char *text, size_t len);

mpb_template_status mpb_template_expand(const char *tmpl, bool strict,
                                        mpb_template_lookup lookup, void *ctx, char **out,
                                        mpb_template_problem *problem);

#endif
