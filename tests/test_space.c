/* io/mpb_space.h on a real file: a claim takes blocks without changing the
 * size, release gives back what lies past the end, and a claim the device
 * cannot hold fails naming the output, leaving nothing claimed. */
#define _GNU_SOURCE /* fallocate, to see whether this file system can claim */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "mpb_space.h"

#define MIB (1ull << 20)

static const char *path = "test_space.tmp";

static struct stat stat_of(void)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st;
}

static int setup(void **state)
{
    (void)state;
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs("ten bytes\n", f);
    fclose(f);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    return 0;
}

static bool can_claim(void)
{
    int fd = open(path, O_WRONLY);
    bool ok = fd >= 0 && fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 4096) == 0;
    if (fd >= 0)
        close(fd);
    mpb_space_release(path);
    return ok;
}

static void claim_and_release(void **state)
{
    (void)state;
    bool claims = can_claim();
    mpb_error err = {0};
    assert_int_equal(mpb_space_reserve(path, "out.h5", 8 * MIB, &err), MPB_OK);
    struct stat st = stat_of();
    assert_int_equal(st.st_size, 10);
    if (claims) /* else the free-space check is all this file system allows */
        assert_true((uint64_t)st.st_blocks * 512 >= 8 * MIB);
    mpb_space_release(path);
    st = stat_of();
    assert_int_equal(st.st_size, 10);
    assert_true((uint64_t)st.st_blocks * 512 < MIB);
}

static void too_much(void **state)
{
    (void)state;
    mpb_error err = {0};
    struct stat before = stat_of();
    assert_int_equal(mpb_space_reserve(path, "/data/out.h5", 1ull << 60, &err), MPB_EIO);
    assert_non_null(strstr(err.msg, "not enough disk space for '/data/out.h5'"));
    assert_non_null(strstr(err.msg, "No space left on device"));
    struct stat after = stat_of();
    assert_int_equal(after.st_size, before.st_size);
    assert_true(after.st_blocks <= before.st_blocks);
    mpb_error_clear(&err);
    assert_int_equal(mpb_space_reserve("no/such/dir/x.h5", "x.h5", MIB, &err), MPB_EIO);
    assert_non_null(strstr(err.msg, "no/such/dir/x.h5"));
}

static void estimate_covers_data_and_padding(void **state)
{
    (void)state;
    mpb_index idx = {0};
    mpb_error err = {0};
    uint64_t big[2] = {3, MIB / 2}, small[1] = {50};
    assert_int_equal(mpb_index_add(&idx, "big", MPB_DT_BF16, 2, big, &err), MPB_OK);
    assert_int_equal(mpb_index_add(&idx, "small", MPB_DT_F32, 1, small, &err), MPB_OK);
    mpb_io_opts aligned = {.align_threshold = MIB, .alignment = MIB};
    mpb_io_opts packed = {.alignment = 0};
    uint64_t data = 3 * MIB + 200;
    assert_true(mpb_space_h5_estimate(&idx, &packed) >= data);
    assert_true(mpb_space_h5_estimate(&idx, &aligned) >= data + MIB - 1);
    mpb_index_free(&idx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(claim_and_release, setup, teardown),
        cmocka_unit_test_setup_teardown(too_much, setup, teardown),
        cmocka_unit_test(estimate_covers_data_and_padding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
