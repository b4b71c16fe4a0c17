/* Folder outputs: what may be replaced, the swap into place, removal, and
 * mpb_output's folder mode on one rank. */
#include "mpb_output.h"
#include "mpb_output_dir.h"

#include <mpi.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "interop_main.h"

static char tmp_dir[] = "/tmp/mpb_test_output_dir.XXXXXX";

static char *path_of(const char *name)
{
    static char buf[4][256];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, 256, "%s/%s", tmp_dir, name);
    return p;
}

static void put(const char *dir, const char *name, const char *text)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static bool has(const char *dir, const char *name)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return access(p, F_OK) == 0;
}

static void test_replaceable(void **state)
{
    (void)state;
    mpb_error err = {0};
    char *empty = path_of("empty");
    assert_int_equal(mkdir(empty, 0777), 0);
    assert_int_equal(mpb_output_dir_check_replaceable(empty, &err), MPB_OK);

    char *model = path_of("model");
    assert_int_equal(mkdir(model, 0777), 0);
    put(model, "model.safetensors", "x");
    put(model, "config.json", "{}");
    assert_int_equal(mpb_output_dir_check_replaceable(model, &err), MPB_OK);

    char *notes = path_of("notes");
    assert_int_equal(mkdir(notes, 0777), 0);
    put(notes, "todo.txt", "keep");
    assert_int_equal(mpb_output_dir_check_replaceable(notes, &err), MPB_EEXIST);
    assert_non_null(strstr(err.msg, "does not look like a model"));

    mpb_error_clear(&err);
    char *nested = path_of("nested");
    assert_int_equal(mkdir(nested, 0777), 0);
    put(nested, "model.safetensors", "x");
    assert_int_equal(mkdir(path_of("nested/original"), 0777), 0);
    assert_int_equal(mpb_output_dir_check_replaceable(nested, &err), MPB_EEXIST);
    assert_non_null(strstr(err.msg, "holds 'original', which is not a file"));
}

static void test_publish(void **state)
{
    (void)state;
    mpb_error err = {0};
    char *tmp = path_of("new.tmp"), *final = path_of("published");
    assert_int_equal(mkdir(tmp, 0777), 0);
    put(tmp, "model.safetensors", "new");
    mpb_output_dir_publish(tmp, final, false, &err);
    assert_int_equal(err.code, MPB_OK);
    assert_true(has(final, "model.safetensors"));
    assert_int_equal(access(tmp, F_OK), -1);

    /* Without force an existing folder is never touched. */
    assert_int_equal(mkdir(tmp, 0777), 0);
    put(tmp, "model-00001-of-00002.safetensors", "newer");
    mpb_output_dir_publish(tmp, final, false, &err);
    assert_int_equal(err.code, MPB_EEXIST);
    assert_non_null(strstr(err.msg, "the new data is kept at"));
    assert_true(has(final, "model.safetensors"));
    assert_true(has(tmp, "model-00001-of-00002.safetensors"));

    /* With force it is swapped out whole, and the old one removed. */
    mpb_error_clear(&err);
    mpb_output_dir_publish(tmp, final, true, &err);
    assert_int_equal(err.code, MPB_OK);
    assert_true(has(final, "model-00001-of-00002.safetensors"));
    assert_false(has(final, "model.safetensors"));
    assert_int_equal(access(tmp, F_OK), -1);
}

static void test_remove_does_not_recurse(void **state)
{
    (void)state;
    char *dir = path_of("gone");
    assert_int_equal(mkdir(dir, 0777), 0);
    put(dir, "a.safetensors", "x");
    mpb_output_dir_remove(dir);
    assert_int_equal(access(dir, F_OK), -1);
    mpb_output_dir_remove(dir); /* missing: fine */

    char *deep = path_of("deep");
    assert_int_equal(mkdir(deep, 0777), 0);
    assert_int_equal(mkdir(path_of("deep/sub"), 0777), 0);
    put(path_of("deep/sub"), "keep.txt", "x");
    mpb_output_dir_remove(deep);
    assert_true(has(path_of("deep/sub"), "keep.txt"));
}

static void test_output_folder_mode(void **state)
{
    (void)state;
    mpb_error err = {0};
    mpb_output out;
    /* A folder output where a file is: refused before anything is written. */
    char *file = path_of("file.h5");
    put(tmp_dir, "file.h5", "hdf5");
    assert_int_equal(mpb_output_begin_as(file, true, true, false, MPI_COMM_WORLD, &out, &err),
                     MPB_EEXIST);
    assert_non_null(strstr(err.msg, "is a file, not a folder"));
    mpb_output_free(&out);

    /* A failure removes the temporary folder and its files. */
    mpb_error_clear(&err);
    char *final = path_of("hf_out");
    assert_int_equal(mpb_output_begin_as(final, true, false, false, MPI_COMM_WORLD, &out, &err),
                     MPB_OK);
    assert_true(out.folder);
    assert_int_equal(mkdir(out.tmp_path, 0777), 0);
    put(out.tmp_path, "model.safetensors", "half");
    char tmp_copy[512];
    snprintf(tmp_copy, sizeof tmp_copy, "%s", out.tmp_path);
    mpb_fail(&err, MPB_EIO, "simulated write failure");
    assert_int_equal(mpb_output_finish(&out, MPI_COMM_WORLD, &err), MPB_EIO);
    assert_int_equal(access(tmp_copy, F_OK), -1);
    assert_int_equal(access(final, F_OK), -1);
    mpb_output_free(&out);

    /* Success renames it into place. */
    mpb_error_clear(&err);
    assert_int_equal(mpb_output_begin_as(final, true, false, false, MPI_COMM_WORLD, &out, &err),
                     MPB_OK);
    assert_int_equal(mkdir(out.tmp_path, 0777), 0);
    put(out.tmp_path, "model.safetensors", "done");
    assert_int_equal(mpb_output_finish(&out, MPI_COMM_WORLD, &err), MPB_OK);
    assert_true(has(final, "model.safetensors"));
    mpb_output_free(&out);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replaceable),
        cmocka_unit_test(test_publish),
        cmocka_unit_test(test_remove_does_not_recurse),
        cmocka_unit_test(test_output_folder_mode),
    };
    return interop_main(argc, argv, tmp_dir, "test_output_dir", tests,
                        sizeof tests / sizeof *tests);
}
