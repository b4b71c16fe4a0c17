/* Tensor names and shapes of public architectures, for `mpiblend synth`. */
#ifndef MPB_ARCH_H
#define MPB_ARCH_H

#include "mpb_error.h"
#include "mpb_index.h"

/* Fills idx (sorted by name) with the tensors of `arch` stored as dt. */
int mpb_arch_index(const char *arch, mpb_dtype dt, mpb_index *idx, mpb_error *err);

/* The known names, comma separated, for help and error messages. */
const char *mpb_arch_list(void);

#endif
