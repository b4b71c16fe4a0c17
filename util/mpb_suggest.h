/* "Did you mean" hints: the closest known word by Levenshtein distance. */
#ifndef MPB_SUGGEST_H
#define MPB_SUGGEST_H

#include <stddef.h>

/* Edit distance between a and b; (size_t)-1 when out of memory. */
size_t mpb_edit_distance(const char *a, const char *b);

/* The candidate (NULL-terminated list) close enough to `word` to be a typo
 * of it, or NULL. */
const char *mpb_suggest(const char *word, const char *const candidates[]);

#endif
