#define _XOPEN_SOURCE 700 /* nftw */
#include "test_safetensors_util.h"

#include "mpb_safetensors.h"

#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

const char *st_data_path(const char *rel)
{
    static char buf[4096];
    const char *root = getenv("MPB_SHARED_TESTDATA");
    snprintf(buf, sizeof buf, "%s/safetensors/%s",
             root && *root ? root : "/work/shared/testdata", rel);
    return buf;
}

unsigned char *st_bytes(const char *header, size_t data_len, size_t *len)
{
    size_t n = strlen(header);
    *len = 8 + n + data_len;
    unsigned char *b = malloc(*len);
    assert_non_null(b);
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)((uint64_t)n >> (8 * i));
    memcpy(b + 8, header, n);
    memset(b + 8 + n, 0xAB, data_len);
    return b;
}

void st_expect_reject(const char *name, const char *header, size_t data_len, const char *expect)
{
    size_t len;
    unsigned char *b = st_bytes(header, data_len, &len);
    mpb_error err = {0};
    mpb_st_file f;
    int rc = mpb_st_parse_header(name, b, len, len, &f, &err);
    free(b);
    if (rc != MPB_EINVAL || strncmp(err.msg, name, strlen(name)) != 0 ||
        strstr(err.msg, expect) == NULL)
        fail_msg("header %s\n  rc %d, message \"%s\"\n  expected EINVAL with \"%s\"", header,
                 rc, err.msg, expect);
    assert_null(f.tensors);
}

char *st_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char *dir = st_join(base && *base ? base : "/tmp", "mpb_st_test.XXXXXX");
    assert_non_null(mkdtemp(dir));
    return dir;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void st_rmtree(char *dir)
{
    assert_int_equal(nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
    free(dir);
}

char *st_join(const char *dir, const char *name)
{
    size_t len = strlen(dir) + strlen(name) + 2;
    char *p = malloc(len);
    assert_non_null(p);
    snprintf(p, len, "%s/%s", dir, name);
    return p;
}

void st_write(const char *dir, const char *name, const void *data, size_t len)
{
    char *path = st_join(dir, name);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
    free(path);
}

void st_write_st(const char *dir, const char *name, const char *header, size_t data_len)
{
    size_t len;
    unsigned char *b = st_bytes(header, data_len, &len);
    st_write(dir, name, b, len);
    free(b);
}

void st_copy(const char *src, const char *dir, const char *name)
{
    FILE *fp = fopen(src, "rb");
    assert_non_null(fp);
    assert_int_equal(fseek(fp, 0, SEEK_END), 0);
    long len = ftell(fp);
    assert_true(len >= 0);
    rewind(fp);
    char *buf = malloc((size_t)len + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)len, fp), (size_t)len);
    fclose(fp);
    st_write(dir, name, buf, (size_t)len);
    free(buf);
}

void st_read_at(const char *path, uint64_t offset, void *buf, size_t len)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    assert_int_equal(fseek(fp, (long)offset, SEEK_SET), 0);
    assert_int_equal(fread(buf, 1, len, fp), len);
    fclose(fp);
}
