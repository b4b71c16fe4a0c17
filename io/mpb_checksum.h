/* Checksums of tensor data (docs/RELIABILITY.md): the CRC-32C
 * (mpb_crc32c.h) of the tensors' stored bytes, tensors in index
 * order and rows in order -- the value sweep and merge outputs carry in
 * their mpiblend_checksum attribute.  CRCs of consecutive pieces combine,
 * so the result does not depend on how rows were split among ranks or
 * slabs: each piece goes into a numbered slot, slots join in order. */
#ifndef MPB_CHECKSUM_H
#define MPB_CHECKSUM_H

#include "mpb_error.h"
#include "mpb_index.h"
#include "mpb_store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "crc32c:89abcdef" and its NUL. */
#define MPB_CHECKSUM_TEXT_MAX 16

void mpb_checksum_format(uint32_t crc, char buf[MPB_CHECKSUM_TEXT_MAX]);
/* Accepts exactly the form above. */
bool mpb_checksum_parse(const char *text, uint32_t *crc);

/* Pieces of one byte stream in numbered slots: slot k holds the CRC and
 * length of everything added to it (in order).  An empty slot (CRC 0,
 * length 0) adds nothing to a join.  Because every piece lands in exactly
 * one slot on one rank, slots of several ranks merge by XOR of the CRCs and
 * sum of the lengths. */
typedef struct mpb_checksum_slots {
    size_t n;
    uint32_t *crc;
    uint64_t *len;
} mpb_checksum_slots;

int mpb_checksum_slots_init(mpb_checksum_slots *s, size_t n, mpb_error *err);
void mpb_checksum_slots_add(mpb_checksum_slots *s, size_t slot, const void *buf, uint64_t len);
/* The CRC of slots first .. first + count - 1 joined in order. */
uint32_t mpb_checksum_slots_join(const mpb_checksum_slots *s, size_t first, size_t count);
void mpb_checksum_slots_free(mpb_checksum_slots *s);

/* Adds tensor t of an open store (opened for idx) to slot `slot`, reading
 * whole rows through buf, which holds buf_bytes and at least one row.
 * Independent transfers: one rank, no collective calls. */
int mpb_checksum_add_tensor(mpb_checksum_slots *s, size_t slot, const mpb_store *store,
                            const mpb_index *idx, size_t t, void *buf, uint64_t buf_bytes,
                            mpb_error *err);

#endif
