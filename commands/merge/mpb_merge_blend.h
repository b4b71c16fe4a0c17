/* One item of one tensor blended as a recipe says: copied, one weighted
 * sum, the task-arithmetic kernel or a method's own elementwise kernel. */
#ifndef MPB_MERGE_BLEND_H
#define MPB_MERGE_BLEND_H

#include "mpb_merge_setup.h"

#include <stdbool.h>

/* in[i]: input i's rows of the item (only the copied input's for a copied
 * tensor).  The result goes into in[] itself when in_place is true and the
 * dtype does not change (the merge: the inputs are used once), else into
 * scratch (a sweep: the next point needs the inputs again); a copy of the
 * same dtype is in[source] itself.  Returns where the result is, or NULL
 * when the task kernel found no memory for a row's scratch. */
const void *mpb_merge_blend_item(const mpb_merge_recipe *r, const mpb_item *it,
                                 void *const in[], void *scratch, bool in_place);

#endif
