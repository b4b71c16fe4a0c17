#include "mpb_arch.h"

#include <stdio.h>
#include <string.h>

/* Shapes follow each model's published config.json. */
struct arch {
    const char *name;
    uint64_t hidden, intermediate, layers, heads, kv_heads, head_dim, vocab;
    int tied;         /* lm_head shares the embedding: no lm_head tensor */
    int qk_norm;      /* Qwen3 normalises q and k per head */
    uint64_t experts; /* mixture of experts: experts per layer, 0 for dense */
};

static const struct arch arch_table[] = {
    /* Qwen3 names at a few MB, for tests. */
    {.name = "tiny",
     .hidden = 128,
     .intermediate = 384,
     .layers = 4,
     .heads = 4,
     .kv_heads = 2,
     .head_dim = 32,
     .vocab = 1024,
     .tied = 1,
     .qk_norm = 1},
    {.name = "qwen3-0.6b",
     .hidden = 1024,
     .intermediate = 3072,
     .layers = 28,
     .heads = 16,
     .kv_heads = 8,
     .head_dim = 128,
     .vocab = 151936,
     .tied = 1,
     .qk_norm = 1},
    {.name = "qwen3-4b",
     .hidden = 2560,
     .intermediate = 9728,
     .layers = 36,
     .heads = 32,
     .kv_heads = 8,
     .head_dim = 128,
     .vocab = 151936,
     .tied = 1,
     .qk_norm = 1},
    {.name = "llama-3.1-8b",
     .hidden = 4096,
     .intermediate = 14336,
     .layers = 32,
     .heads = 32,
     .kv_heads = 8,
     .head_dim = 128,
     .vocab = 128256,
     .tied = 0,
     .qk_norm = 0},
    /* Qwen3-30B-A3B (config.json: moe_intermediate_size 768 per expert,
     * 128 experts, untied): about 61 GB in bf16, for dry runs and name checks
     * (synth --dry-run, tests/test_method_configs.c). */
    {.name = "qwen3-30b-a3b",
     .hidden = 2048,
     .intermediate = 768,
     .layers = 48,
     .heads = 32,
     .kv_heads = 4,
     .head_dim = 128,
     .vocab = 151936,
     .tied = 0,
     .qk_norm = 1,
     .experts = 128},
    /* Qwen3-30B-A3B's names and counts (48 layers x 128 experts) at tiny
     * dimensions: about 18,900 small tensors, to exercise metadata paths and
     * to merge the 30B-A3B study configs for real (a few MB). */
    {.name = "qwen3-moe-mini",
     .hidden = 32,
     .intermediate = 16,
     .layers = 48,
     .heads = 4,
     .kv_heads = 2,
     .head_dim = 8,
     .vocab = 256,
     .tied = 0,
     .qk_norm = 1,
     .experts = 128},
    /* One embedding past 2 GiB (vocab x hidden x 2 bytes), to test that no
     * transfer exceeds HDF5 1.10's MPI-IO limits. */
    {.name = "big-embedding",
     .hidden = 8192,
     .intermediate = 64,
     .layers = 1,
     .heads = 4,
     .kv_heads = 2,
     .head_dim = 16,
     .vocab = 139264,
     .tied = 1,
     .qk_norm = 0},
};

const char *mpb_arch_list(void)
{
    return "tiny, qwen3-0.6b, qwen3-4b, llama-3.1-8b, qwen3-30b-a3b, qwen3-moe-mini, "
           "big-embedding";
}

struct builder {
    mpb_index *idx;
    mpb_dtype dt;
    mpb_error *err;
    int rc;
};

static void add(struct builder *b, const char *name, int ndim, uint64_t d0, uint64_t d1)
{
    if (b->rc)
        return;
    uint64_t shape[2] = {d0, d1};
    b->rc = mpb_index_add(b->idx, name, b->dt, ndim, shape, b->err);
}

static void add_layer(struct builder *b, const struct arch *a, uint64_t layer)
{
    char name[256];
    const uint64_t q_out = a->heads * a->head_dim, kv_out = a->kv_heads * a->head_dim;
#define LAYER_TENSOR(suffix, ndim, d0, d1)                                                   \
    do {                                                                                     \
        snprintf(name, sizeof name, "model.layers.%llu." suffix, (unsigned long long)layer); \
        add(b, name, ndim, d0, d1);                                                          \
    } while (0)
    LAYER_TENSOR("input_layernorm.weight", 1, a->hidden, 0);
    LAYER_TENSOR("post_attention_layernorm.weight", 1, a->hidden, 0);
    LAYER_TENSOR("self_attn.q_proj.weight", 2, q_out, a->hidden);
    LAYER_TENSOR("self_attn.k_proj.weight", 2, kv_out, a->hidden);
    LAYER_TENSOR("self_attn.v_proj.weight", 2, kv_out, a->hidden);
    LAYER_TENSOR("self_attn.o_proj.weight", 2, a->hidden, q_out);
    if (a->qk_norm) {
        LAYER_TENSOR("self_attn.q_norm.weight", 1, a->head_dim, 0);
        LAYER_TENSOR("self_attn.k_norm.weight", 1, a->head_dim, 0);
    }
    if (a->experts == 0) {
        LAYER_TENSOR("mlp.gate_proj.weight", 2, a->intermediate, a->hidden);
        LAYER_TENSOR("mlp.up_proj.weight", 2, a->intermediate, a->hidden);
        LAYER_TENSOR("mlp.down_proj.weight", 2, a->hidden, a->intermediate);
        return;
    }
    LAYER_TENSOR("mlp.gate.weight", 2, a->experts, a->hidden);
    for (uint64_t e = 0; e < a->experts && !b->rc; e++) {
        static const char *const proj[] = {"gate_proj", "up_proj", "down_proj"};
        for (int p = 0; p < 3; p++) {
            snprintf(name, sizeof name, "model.layers.%llu.mlp.experts.%llu.%s.weight",
                     (unsigned long long)layer, (unsigned long long)e, proj[p]);
            int down = p == 2;
            add(b, name, 2, down ? a->hidden : a->intermediate,
                down ? a->intermediate : a->hidden);
        }
    }
#undef LAYER_TENSOR
}

int mpb_arch_index(const char *arch, mpb_dtype dt, mpb_index *idx, mpb_error *err)
{
    const struct arch *a = NULL;
    for (size_t i = 0; i < sizeof arch_table / sizeof arch_table[0]; i++)
        if (!strcmp(arch_table[i].name, arch))
            a = &arch_table[i];
    if (a == NULL)
        return mpb_fail(err, MPB_EINVAL, "unknown architecture '%s' (known: %s)", arch,
                        mpb_arch_list());
    struct builder b = {idx, dt, err, MPB_OK};
    add(&b, "model.embed_tokens.weight", 2, a->vocab, a->hidden);
    for (uint64_t l = 0; l < a->layers; l++)
        add_layer(&b, a, l);
    add(&b, "model.norm.weight", 1, a->hidden, 0);
    if (!a->tied)
        add(&b, "lm_head.weight", 2, a->vocab, a->hidden);
    if (b.rc == MPB_OK)
        mpb_index_sort(idx);
    return b.rc;
}
