/* distance's three outputs: a table for people, JSON and CSV for scripts.
 * Inputs are labelled A, B, C, ... in the order given. */
#include "mpb_distance.h"

#include <jansson.h>
#include <math.h>
#include <string.h>

static const char *scope_name(int scope)
{
    return scope == MPB_DISTANCE_OVERALL ? "overall"
                                         : mpb_module_kind_name((mpb_module_kind)scope);
}

static mpb_distance_metrics tensor_metrics(const mpb_distance_result *res, size_t t, size_t a,
                                           size_t b)
{
    return mpb_distance_metrics_of(res->n_inputs, res->tensor_sums + t * res->stride,
                                   mpb_tensor_numel(&res->idx.tensors[t]), a, b);
}

static mpb_distance_metrics scope_metrics(const mpb_distance_result *res, int scope, size_t a,
                                          size_t b)
{
    return mpb_distance_metrics_of(res->n_inputs, res->scope_sums[scope],
                                   res->scope_numel[scope], a, b);
}

/* ---- table ---- */

static void print_metrics(FILE *out, mpb_distance_metrics m)
{
    fprintf(out, "  %12.6g  %12.9f  %12.6g\n", m.rel_l2, m.cosine, m.diff_std);
}

static void print_pair_table(FILE *out, const mpb_distance_result *res, size_t a, size_t b,
                             int width)
{
    fprintf(out, "\n%c vs %c, per tensor:\n%-*s  %-9s  %12s  %12s  %12s\n", 'A' + (int)a,
            'A' + (int)b, width, "tensor", "kind", "rel_l2", "cosine", "diff_std");
    for (size_t t = 0; t < res->idx.n; t++) {
        const char *name = res->idx.tensors[t].name;
        fprintf(out, "%-*s  %-9s", width, name, mpb_module_kind_name(mpb_module_kind_of(name)));
        print_metrics(out, tensor_metrics(res, t, a, b));
    }
}

static void print_pair_summary(FILE *out, const mpb_distance_result *res, size_t a, size_t b)
{
    fprintf(out, "\n%c vs %c:\n%-9s  %7s  %14s  %12s  %12s  %12s\n", 'A' + (int)a, 'A' + (int)b,
            "scope", "tensors", "parameters", "rel_l2", "cosine", "diff_std");
    for (int s = 0; s <= MPB_DISTANCE_OVERALL; s++) {
        if (res->scope_tensors[s] == 0)
            continue;
        fprintf(out, "%-9s  %7zu  %14llu", scope_name(s), res->scope_tensors[s],
                (unsigned long long)res->scope_numel[s]);
        print_metrics(out, scope_metrics(res, s, a, b));
    }
}

static void print_table(FILE *out, const mpb_distance_result *res)
{
    int width = 6;
    for (size_t t = 0; t < res->idx.n; t++) {
        int n = (int)strlen(res->idx.tensors[t].name);
        width = n > width ? n : width;
    }
    size_t n = res->n_inputs;
    /* Per tensor first, the summaries last: on a terminal they stay in view. */
    for (size_t a = 0; a < n; a++)
        for (size_t b = a + 1; b < n; b++)
            print_pair_table(out, res, a, b, width);
    fprintf(out, "\ndistance: %zu checkpoints, %zu tensors compared", n, res->idx.n);
    if (res->n_skipped)
        fprintf(out, ", %zu skipped (not floating point)", res->n_skipped);
    fprintf(out, "\n");
    for (size_t i = 0; i < n; i++)
        fprintf(out, "  %c: %s\n", 'A' + (int)i, res->paths[i]);
    fprintf(out, "rel_l2 = ||A-B||/||A||, cosine = A.B/(||A|| ||B||), diff_std = standard "
                 "deviation of A-B\n");
    for (size_t a = 0; a < n; a++)
        for (size_t b = a + 1; b < n; b++)
            print_pair_summary(out, res, a, b);
}

/* ---- CSV ---- */

static void csv_field(FILE *out, const char *s)
{
    if (strpbrk(s, ",\"\n\r") == NULL) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

static void csv_number(FILE *out, double v)
{
    if (isfinite(v))
        fprintf(out, ",%.17g", v);
    else
        fputc(',', out); /* an empty field: no value */
}

static void csv_row(FILE *out, const mpb_distance_result *res, size_t a, size_t b,
                    const char *scope, const char *name, const char *kind, size_t tensors,
                    uint64_t numel, mpb_distance_metrics m)
{
    csv_field(out, res->paths[a]);
    fputc(',', out);
    csv_field(out, res->paths[b]);
    fprintf(out, ",%s,", scope);
    csv_field(out, name);
    fprintf(out, ",%s,%zu,%llu", kind, tensors, (unsigned long long)numel);
    csv_number(out, m.rel_l2);
    csv_number(out, m.cosine);
    csv_number(out, m.diff_std);
    fputc('\n', out);
}

static void print_csv(FILE *out, const mpb_distance_result *res)
{
    fprintf(out, "a,b,scope,name,kind,tensors,numel,rel_l2,cosine,diff_std\n");
    for (size_t a = 0; a < res->n_inputs; a++)
        for (size_t b = a + 1; b < res->n_inputs; b++) {
            for (size_t t = 0; t < res->idx.n; t++) {
                const mpb_tensor *tensor = &res->idx.tensors[t];
                csv_row(out, res, a, b, "tensor", tensor->name,
                        mpb_module_kind_name(mpb_module_kind_of(tensor->name)), 1,
                        mpb_tensor_numel(tensor), tensor_metrics(res, t, a, b));
            }
            for (int s = 0; s <= MPB_DISTANCE_OVERALL; s++)
                csv_row(out, res, a, b, s == MPB_DISTANCE_OVERALL ? "overall" : "kind",
                        scope_name(s), scope_name(s), res->scope_tensors[s],
                        res->scope_numel[s], scope_metrics(res, s, a, b));
        }
}

/* ---- JSON ---- */

static json_t *number_or_null(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *metrics_json(mpb_distance_metrics m, size_t tensors, uint64_t numel)
{
    return json_pack("{s:I, s:I, s:o, s:o, s:o}", "tensors", (json_int_t)tensors, "numel",
                     (json_int_t)numel, "rel_l2", number_or_null(m.rel_l2), "cosine",
                     number_or_null(m.cosine), "diff_std", number_or_null(m.diff_std));
}

static json_t *pair_json(const mpb_distance_result *res, size_t a, size_t b)
{
    json_t *kinds = json_object(), *tensors = json_array();
    for (int s = 0; s < MPB_DISTANCE_OVERALL; s++)
        json_object_set_new(kinds, scope_name(s),
                            metrics_json(scope_metrics(res, s, a, b), res->scope_tensors[s],
                                         res->scope_numel[s]));
    for (size_t t = 0; t < res->idx.n; t++) {
        const mpb_tensor *tensor = &res->idx.tensors[t];
        json_t *m = metrics_json(tensor_metrics(res, t, a, b), 1, mpb_tensor_numel(tensor));
        json_object_set_new(m, "name", json_string(tensor->name));
        json_object_set_new(
            m, "kind", json_string(mpb_module_kind_name(mpb_module_kind_of(tensor->name))));
        json_array_append_new(tensors, m);
    }
    int o = MPB_DISTANCE_OVERALL;
    return json_pack(
        "{s:s, s:s, s:o, s:o, s:o}", "a", res->paths[a], "b", res->paths[b], "overall",
        metrics_json(scope_metrics(res, o, a, b), res->scope_tensors[o], res->scope_numel[o]),
        "kinds", kinds, "tensors", tensors);
}

static int print_json(FILE *out, const mpb_distance_result *res, mpb_error *err)
{
    json_t *inputs = json_array(), *pairs = json_array();
    for (size_t i = 0; i < res->n_inputs; i++)
        json_array_append_new(inputs, json_string(res->paths[i]));
    for (size_t a = 0; a < res->n_inputs; a++)
        for (size_t b = a + 1; b < res->n_inputs; b++)
            json_array_append_new(pairs, pair_json(res, a, b));
    json_t *root = json_pack("{s:o, s:I, s:I, s:o}", "inputs", inputs, "tensors_compared",
                             (json_int_t)res->idx.n, "tensors_skipped",
                             (json_int_t)res->n_skipped, "pairs", pairs);
    size_t n_pairs = mpb_distance_pairs(res->n_inputs);
    int rc = MPB_OK;
    /* A part that failed (a path that is not UTF-8, no memory) is missing. */
    if (root == NULL || json_array_size(pairs) != n_pairs ||
        json_array_size(inputs) != res->n_inputs ||
        json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0)
        rc = mpb_fail(err, MPB_EINVAL,
                      "cannot write the distances as JSON (a path or tensor "
                      "name that is not UTF-8?)");
    else
        fputc('\n', out);
    json_decref(root);
    return rc;
}

int mpb_distance_print(FILE *out, const mpb_distance_result *res, mpb_distance_format fmt,
                       mpb_error *err)
{
    int rc = MPB_OK;
    if (fmt == MPB_DISTANCE_JSON)
        rc = print_json(out, res, err);
    else if (fmt == MPB_DISTANCE_CSV)
        print_csv(out, res);
    else
        print_table(out, res);
    fflush(out);
    return rc;
}
