/* util/mpb_template.h: {field} expansion in both modes -- braces escaped by
 * doubling, unknown and unclosed fields, lone '}', the lenient mode's
 * literal braces (shell and awk text), and where a problem is reported. */
#include "mpb_template.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* Fields: lambda -> "0.45", index -> "7", a.b[0] -> "w", empty -> "". */
static const char *lookup(void *ctx, const char *name, size_t len)
{
    int *calls = ctx;
    (*calls)++;
    static const char *const pairs[][2] = {
        {"lambda", "0.45"}, {"index", "7"}, {"a.b[0]", "w"}, {"empty", ""}};
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
        if (strlen(pairs[i][0]) == len && strncmp(pairs[i][0], name, len) == 0)
            return pairs[i][1];
    return NULL;
}

static void expect(const char *tmpl, bool strict, const char *want)
{
    int calls = 0;
    char *out = NULL;
    mpb_template_problem at = {0};
    assert_int_equal(mpb_template_expand(tmpl, strict, lookup, &calls, &out, &at),
                     MPB_TEMPLATE_OK);
    assert_string_equal(out, want);
    free(out);
}

static void expect_problem(const char *tmpl, bool strict, mpb_template_status status,
                           const char *span)
{
    int calls = 0;
    char *out = (char *)"untouched";
    mpb_template_problem at = {0};
    assert_int_equal(mpb_template_expand(tmpl, strict, lookup, &calls, &out, &at), status);
    assert_string_equal(out, "untouched");
    assert_true(at.at + at.len <= strlen(tmpl));
    char *got = strndup(tmpl + at.at, at.len);
    assert_string_equal(got, span);
    free(got);
}

static void test_fields(void **state)
{
    (void)state;
    for (int strict = 0; strict < 2; strict++) {
        expect("mi-{lambda}.h5", strict, "mi-0.45.h5");
        expect("{index}{lambda}", strict, "70.45");
        expect("p{a.b[0]}q", strict, "pwq");
        expect("x{empty}y", strict, "xy");
        expect("", strict, "");
        expect("plain", strict, "plain");
        expect("{{lambda}}", strict, "{lambda}");
        expect("a}}b{{c", strict, "a}b{c");
        expect("{{{lambda}}}", strict, "{0.45}");
    }
}

static void test_strict_problems(void **state)
{
    (void)state;
    expect_problem("mi-{lamda}.h5", true, MPB_TEMPLATE_UNKNOWN_FIELD, "{lamda}");
    expect_problem("mi-{}.h5", true, MPB_TEMPLATE_UNKNOWN_FIELD, "{}");
    expect_problem("mi-{lambda.h5", true, MPB_TEMPLATE_UNKNOWN_FIELD, "{lambda.h5");
    expect_problem("{a b}", true, MPB_TEMPLATE_UNKNOWN_FIELD, "{a b}");
    expect_problem("mi}-{lambda}", true, MPB_TEMPLATE_LONE_CLOSE, "}");
    expect_problem("{lambda}-}", true, MPB_TEMPLATE_LONE_CLOSE, "}");
}

static void test_lenient(void **state)
{
    (void)state;
    /* Braces that are no field name stay: the shell's and awk's text. */
    expect("awk '{print $1}' {lambda}", false, "awk '{print $1}' 0.45");
    expect("echo $HOME {index}", false, "echo $HOME 7");
    expect("f() { :; } }", false, "f() { :; } }");
    expect("{} {lambda", false, "{} {lambda");
    /* A name-shaped field the lookup does not know is an error. */
    expect_problem("run {lamda} x", false, MPB_TEMPLATE_UNKNOWN_FIELD, "{lamda}");
    expect_problem("{path} {name}", false, MPB_TEMPLATE_UNKNOWN_FIELD, "{path}");
    expect_problem("echo ${HOME}", false, MPB_TEMPLATE_UNKNOWN_FIELD, "{HOME}");
}

static void test_lookup_only_for_fields(void **state)
{
    (void)state;
    int calls = 0;
    char *out = NULL;
    mpb_template_problem at;
    assert_int_equal(
        mpb_template_expand("{{x}} {a b} {lambda}", false, lookup, &calls, &out, &at),
        MPB_TEMPLATE_OK);
    assert_string_equal(out, "{x} {a b} 0.45");
    assert_int_equal(calls, 1);
    free(out);
}

static void test_long_output(void **state)
{
    (void)state;
    /* Growth past the first guess of the output's size. */
    char tmpl[2000] = "";
    for (int i = 0; i < 200; i++)
        strcat(tmpl, "{lambda}");
    int calls = 0;
    char *out = NULL;
    mpb_template_problem at;
    assert_int_equal(mpb_template_expand(tmpl, true, lookup, &calls, &out, &at),
                     MPB_TEMPLATE_OK);
    assert_int_equal(strlen(out), 800);
    assert_int_equal(calls, 200);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields),      cmocka_unit_test(test_strict_problems),
        cmocka_unit_test(test_lenient),     cmocka_unit_test(test_lookup_only_for_fields),
        cmocka_unit_test(test_long_output),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
