/* Helpers shared by the safetensors tests: test data paths, scratch
 * folders, and safetensors files built from a literal header. */
#ifndef TEST_SAFETENSORS_UTIL_H
#define TEST_SAFETENSORS_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* $MPB_SHARED_TESTDATA/safetensors/<rel>, or under /work/shared/testdata. */
const char *st_data_path(const char *rel);

/* 8-byte little-endian length + header + data_len bytes of 0xAB. */
unsigned char *st_bytes(const char *header, size_t data_len, size_t *len);

/* Parses st_bytes(header, data_len) as `name` and asserts it fails with
 * MPB_EINVAL and a message "<name>: ..." containing `expect`. */
void st_expect_reject(const char *name, const char *header, size_t data_len,
                      const char *expect);

/* A fresh scratch folder; st_rmtree removes it and everything in it. */
char *st_tmpdir(void);
void st_rmtree(char *dir);

char *st_join(const char *dir, const char *name); /* malloc'd */
void st_write(const char *dir, const char *name, const void *data, size_t len);
void st_write_st(const char *dir, const char *name, const char *header, size_t data_len);
void st_copy(const char *src, const char *dir, const char *name);
void st_read_at(const char *path, uint64_t offset, void *buf, size_t len);

#endif
