/* Checksums: CRC-32C of tensor data (merge and sweep outputs, the merge's
 * audit, verify; docs/RELIABILITY.md, docs/SWEEP.md) and FNV-1a of config
 * text (sweep manifests).
 *
 * Tensor data: CRC-32C (Castagnoli, as iSCSI and ext4 use it) of the raw
 * bytes.  CRCs combine: the CRC of A||B follows from crc(A), crc(B) and
 * len(B), so ranks checksum their own slabs and the slabs are joined in row
 * order afterwards; the result is the CRC of the whole byte stream whatever
 * the rank count or slab size.  Config text: 64-bit FNV-1a.
 * Pure computation: no MPI, no HDF5. */
#ifndef MPB_CRC32C_H
#define MPB_CRC32C_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* CRC-32C of buf continuing from crc (start with 0). */
uint32_t mpb_crc32c(uint32_t crc, const void *buf, size_t len);

/* CRC-32C of A||B from crc_a = crc(A), crc_b = crc(B) and len_b. */
uint32_t mpb_crc32c_combine(uint32_t crc_a, uint32_t crc_b, uint64_t len_b);

/* 64-bit FNV-1a of text. */
uint64_t mpb_fnv1a64(const void *text, size_t len);

/* "sse4.2" or "table": the CRC implementation in use. */
const char *mpb_crc32c_isa(void);

/* Pins mpb_crc32c to "table" or (where the CPU has it) "sse4.2", or returns
 * to the automatic choice when isa is NULL; false, changing nothing, for any
 * other name.  For tests and benchmarks, not while another thread runs. */
bool mpb_crc32c_force(const char *isa);

#endif
