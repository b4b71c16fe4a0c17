/* inspect's two outputs: a table for people and JSON for scripts. */
#include "mpb_inspect.h"

#include <jansson.h>
#include <string.h>

static const char *embeddings_name(mpb_embeddings e)
{
    switch (e) {
    case MPB_EMBED_TIED: return "tied";
    case MPB_EMBED_UNTIED: return "untied";
    default: return "none";
    }
}

static const char *human_bytes(uint64_t b, char *buf, size_t len)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)b;
    size_t u = 0;
    while (v >= 1024 && u + 1 < sizeof units / sizeof *units) {
        v /= 1024;
        u++;
    }
    snprintf(buf, len, u ? "%.2f %s" : "%.0f %s", v, units[u]);
    return buf;
}

/* Per dtype: tensors and bytes, in enum order. */
struct dtype_totals {
    size_t tensors[MPB_DT_COUNT];
    uint64_t bytes[MPB_DT_COUNT];
};

static void count_dtypes(const mpb_index *idx, struct dtype_totals *d)
{
    memset(d, 0, sizeof *d);
    for (size_t i = 0; i < idx->n; i++) {
        const mpb_tensor *t = &idx->tensors[i];
        d->tensors[t->dtype]++;
        d->bytes[t->dtype] += mpb_tensor_bytes(t);
    }
}

static uint64_t total_numel(const mpb_index *idx)
{
    uint64_t n = 0;
    for (size_t i = 0; i < idx->n; i++)
        n += mpb_tensor_numel(&idx->tensors[i]);
    return n;
}

static void print_tensors(FILE *out, const mpb_index *idx)
{
    int width = 6;
    for (size_t i = 0; i < idx->n; i++) {
        int n = (int)strlen(idx->tensors[i].name);
        width = n > width ? n : width;
    }
    fprintf(out, "%-*s  %-5s  %-16s  %s\n", width, "tensor", "dtype", "shape", "bytes");
    char shape[128];
    for (size_t i = 0; i < idx->n; i++) {
        const mpb_tensor *t = &idx->tensors[i];
        fprintf(out, "%-*s  %-5s  %-16s  %llu\n", width, t->name, mpb_dtype_name(t->dtype),
                mpb_shape_str(t, shape, sizeof shape), (unsigned long long)mpb_tensor_bytes(t));
    }
}

/* Multi-line values (a merge's config) are indented under their key. */
static void print_value(FILE *out, const char *value)
{
    if (strchr(value, '\n') == NULL) {
        fprintf(out, " %s\n", value);
        return;
    }
    fputc('\n', out);
    for (const char *line = value; *line;) {
        const char *end = strchr(line, '\n');
        int n = end ? (int)(end - line) : (int)strlen(line);
        fprintf(out, "    %.*s\n", n, line);
        line += n + (end != NULL);
    }
}

void mpb_inspect_print_text(FILE *out, const mpb_inspect_info *info)
{
    print_tensors(out, &info->idx);
    char hb[32];
    uint64_t bytes = mpb_index_total_bytes(&info->idx);
    fprintf(out, "\ncheckpoint: %s (%s)\n", info->path, info->format);
    if (info->architecture)
        fprintf(out, "architecture: %s (config.json)\n", info->architecture);
    fprintf(out, "totals: %zu tensors, %llu parameters, %llu bytes (%s)\n", info->idx.n,
            (unsigned long long)total_numel(&info->idx), (unsigned long long)bytes,
            human_bytes(bytes, hb, sizeof hb));
    struct dtype_totals d;
    count_dtypes(&info->idx, &d);
    for (int t = 0; t < MPB_DT_COUNT; t++)
        if (d.tensors[t])
            fprintf(out, "  %-5s %zu tensors, %llu bytes\n", mpb_dtype_name((mpb_dtype)t),
                    d.tensors[t], (unsigned long long)d.bytes[t]);
    fprintf(out, "layers: %d\n", info->layers);
    fprintf(out, "embeddings: %s%s", embeddings_name(info->embeddings),
            info->embeddings == MPB_EMBED_TIED ? " (no lm_head.weight: the output layer "
                                                 "reuses embed_tokens)"
                                               : "");
    if (info->config_tied >= 0)
        fprintf(out, "; config.json says tie_word_embeddings %s",
                info->config_tied ? "true" : "false");
    fputc('\n', out);
    fprintf(out, "files:%s\n", info->files.n ? "" : " none besides the tensors");
    for (size_t i = 0; i < info->files.n; i++)
        fprintf(out, "  %s (%zu bytes)\n", info->files.files[i].name, info->files.files[i].len);
    fprintf(out, "provenance:%s\n", info->prov.n ? "" : " none recorded");
    for (size_t i = 0; i < info->prov.n; i++) {
        fprintf(out, "  %s:", info->prov.keys[i]);
        print_value(out, info->prov.values[i]);
    }
}

static json_t *tensor_json(const mpb_tensor *t)
{
    json_t *shape = json_array();
    for (int d = 0; d < t->ndim; d++)
        json_array_append_new(shape, json_integer((json_int_t)t->shape[d]));
    return json_pack("{s:s, s:s, s:o, s:I, s:I}", "name", t->name, "dtype",
                     mpb_dtype_name(t->dtype), "shape", shape, "numel",
                     (json_int_t)mpb_tensor_numel(t), "bytes", (json_int_t)mpb_tensor_bytes(t));
}

static json_t *summary_json(const mpb_inspect_info *info)
{
    struct dtype_totals d;
    count_dtypes(&info->idx, &d);
    json_t *dtypes = json_object();
    for (int t = 0; t < MPB_DT_COUNT; t++)
        if (d.tensors[t])
            json_object_set_new(dtypes, mpb_dtype_name((mpb_dtype)t),
                                json_pack("{s:I, s:I}", "tensors", (json_int_t)d.tensors[t],
                                          "bytes", (json_int_t)d.bytes[t]));
    return json_pack("{s:I, s:I, s:I, s:o}", "tensors", (json_int_t)info->idx.n, "numel",
                     (json_int_t)total_numel(&info->idx), "bytes",
                     (json_int_t)mpb_index_total_bytes(&info->idx), "dtypes", dtypes);
}

static json_t *info_json(const mpb_inspect_info *info)
{
    json_t *tensors = json_array(), *files = json_array(), *prov = json_object();
    for (size_t i = 0; i < info->idx.n; i++)
        json_array_append_new(tensors, tensor_json(&info->idx.tensors[i]));
    for (size_t i = 0; i < info->files.n; i++)
        json_array_append_new(files, json_pack("{s:s, s:I}", "name", info->files.files[i].name,
                                               "bytes", (json_int_t)info->files.files[i].len));
    for (size_t i = 0; i < info->prov.n; i++)
        json_object_set_new(prov, info->prov.keys[i], json_string(info->prov.values[i]));
    /* An element that failed (a name that is not UTF-8) is missing: refuse. */
    if (json_array_size(tensors) != info->idx.n || json_array_size(files) != info->files.n ||
        json_object_size(prov) != info->prov.n) {
        json_decref(tensors);
        json_decref(files);
        json_decref(prov);
        return NULL;
    }
    json_t *tied = info->config_tied < 0 ? json_null() : json_boolean(info->config_tied);
    json_t *arch = info->architecture ? json_string(info->architecture) : json_null();
    return json_pack("{s:s, s:s, s:o, s:o, s:i, s:s, s:o, s:o, s:o, s:o}", "path", info->path,
                     "format", info->format, "architecture", arch, "totals", summary_json(info),
                     "layers", info->layers, "embeddings", embeddings_name(info->embeddings),
                     "config_tie_word_embeddings", tied, "files", files, "provenance", prov,
                     "tensors", tensors);
}

int mpb_inspect_print_json(FILE *out, const mpb_inspect_info *info, mpb_error *err)
{
    json_t *root = info_json(info);
    /* json_pack gives NULL when any part failed: invalid UTF-8 or no memory. */
    if (root == NULL || json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0) {
        json_decref(root);
        return mpb_fail(err, MPB_EINVAL,
                        "'%s': cannot write the report as JSON (a name or attribute that "
                        "is not UTF-8?)",
                        info->path);
    }
    fputc('\n', out);
    json_decref(root);
    return MPB_OK;
}
