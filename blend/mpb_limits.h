/* Limits shared by every layer above blend. */
#ifndef MPB_LIMITS_H
#define MPB_LIMITS_H

/* Inputs a merge may name (base included): sizes the per-input arrays of
 * the kernels, the config and the commands. */
#define MPB_MAX_INPUTS 64

#endif
