/* Closest known key for "did you mean" hints (Levenshtein distance). */
#include "mpb_suggest.h"

#include <stdlib.h>
#include <string.h>

size_t mpb_edit_distance(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    size_t *row = malloc((nb + 1) * sizeof *row);
    if (row == NULL)
        return (size_t)-1;
    for (size_t j = 0; j <= nb; j++)
        row[j] = j;
    for (size_t i = 1; i <= na; i++) {
        size_t diagonal = row[0];
        row[0] = i;
        for (size_t j = 1; j <= nb; j++) {
            size_t above = row[j];
            size_t best = diagonal + (a[i - 1] != b[j - 1]);
            if (above + 1 < best)
                best = above + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diagonal = above;
        }
    }
    size_t d = row[nb];
    free(row);
    return d;
}

const char *mpb_suggest(const char *word, const char *const candidates[])
{
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    for (size_t i = 0; candidates[i] != NULL; i++) {
        size_t d = mpb_edit_distance(word, candidates[i]);
        if (d < best_d) {
            best_d = d;
            best = candidates[i];
        }
    }
    /* A typo changes a few characters; anything further is another word. */
    if (best == NULL || best_d == 0)
        return NULL;
    size_t len = strlen(best), word_len = strlen(word);
    if (best_d >= len || best_d >= word_len)
        return NULL;
    return best_d <= 2 || best_d * 3 <= len ? best : NULL;
}
