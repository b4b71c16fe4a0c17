/* Inputs whose tensors come from several checkpoints under other names:
 * each input of a `slices:` merge (docs/CONFIG.md).  The view reads tensor
 * t of tensors (its index) from checkpoint map[t * stride].model, at
 * position map[t * stride].tensor of models[] (that checkpoint's index);
 * MPB_NO_SOURCE reads zeros.  It only
 * reads: read_rows, flush (collective with collective I/O, every
 * checkpoint it opened in model order) and close. */
#ifndef MPB_STORE_VIEW_H
#define MPB_STORE_VIEW_H

#include "mpb_config.h"
#include "mpb_store.h"

/* Collective: opens the checkpoints the map names (paths[m] with
 * models[m]), each once. */
int mpb_store_view_open(const char *const *paths, const mpb_index *models, size_t n_models,
                        const mpb_tensor_source *map, size_t stride, const mpb_index *tensors,
                        const mpb_io_opts *io, MPI_Comm comm, mpb_store *out, mpb_error *err);

#endif
