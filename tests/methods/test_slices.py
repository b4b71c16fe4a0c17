"""mergekit's `slices:` end to end (docs/CONFIG.md): outputs with more and
fewer layers than the inputs, tensors renumbered, the tensors outside layers
taken as mergekit's planner takes them, per-slice parameters and gradients
over a slice's layers; every output against an independent numpy
reference, on 1-4 ranks with slabs that split tensors and both I/O modes,
read back with h5py and from the safetensors folder output, and
config.json's layer count.  mergekit's README examples run as written, with
local paths for the Hugging Face names.  Then the config errors, which
must stop before any output exists."""
import json
import os
import re
import shutil
import sys

import h5py
import numpy as np

import methods_ref as ref
import mpbtest

work = os.path.join(sys.argv[1], "slices")
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
os.chdir(work)

# Two 40-layer models with Llama's names (untied lm_head) at a few KB per
# tensor, as mergekit's 13B examples have 40 layers.
LAYERS, HIDDEN, VOCAB = 40, 16, 64
PER_LAYER = {"input_layernorm.weight": (HIDDEN,),
             "self_attn.q_proj.weight": (HIDDEN, HIDDEN),
             "self_attn.k_proj.weight": (8, HIDDEN),
             "mlp.up_proj.weight": (32, HIDDEN),
             "mlp.down_proj.weight": (HIDDEN, 32),
             "post_attention_layernorm.weight": (HIDDEN,)}
OUTSIDE = {"model.embed_tokens.weight": (VOCAB, HIDDEN), "model.norm.weight": (HIDDEN,),
           "lm_head.weight": (VOCAB, HIDDEN)}


def make_model(path, seed):
    rng = np.random.default_rng(seed)
    with h5py.File(path, "w") as f:
        for name, shape in OUTSIDE.items():
            f[name] = rng.standard_normal(shape).astype(np.float16)
        for i in range(LAYERS):
            for name, shape in PER_LAYER.items():
                f[f"model.layers.{i}.{name}"] = rng.standard_normal(shape).astype(np.float16)


A, B, C = "orca.h5", "platypus.h5", "wizard.h5"
make_model(A, 1)
make_model(B, 2)
make_model(C, 3)
# The same models as Hugging Face folders, with a config.json.
for h5, folder in ((A, "orca_hf"), (B, "platypus_hf"), (C, "wizard_hf")):
    mpbtest.run(1, "export", h5, folder, "--quiet", expect=0)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump({"architectures": ["LlamaForCausalLM"], "hidden_size": HIDDEN,
                   "num_hidden_layers": LAYERS, "torch_dtype": "float16"}, f, indent=2)


def layer_of(name):
    m = re.search(r"layers\.(\d+)\.", name)
    return int(m.group(1)) if m else -1


def renamed(name, layer):
    return re.sub(r"layers\.\d+\.", f"layers.{layer}.", name, count=1)


def plan(slices):
    """mergekit's planner: {output name: (slice, [(model, source name)], pos)};
    slices = [[(model, first, end), ...], ...]."""
    out = {"model.embed_tokens.weight": (0, [(m, "model.embed_tokens.weight")
                                             for m, _, _ in slices[0]], 0.0)}
    layer = 0
    for s, sources in enumerate(slices):
        n = sources[0][2] - sources[0][1]
        for o in range(n):
            for suffix in PER_LAYER:
                srcs = [(m, f"model.layers.{first + o}.{suffix}") for m, first, _ in sources]
                out[f"model.layers.{layer}.{suffix}"] = (s, srcs, o / (n - 1) if n > 1 else 1.0)
            layer += 1
    for name in ("model.norm.weight", "lm_head.weight"):  # after the layers: the last slice
        out[name] = (len(slices) - 1, [(m, name) for m, _, _ in slices[-1]], 0.0)
    return out, layer


def read(path, name):
    return ref.read(path, name)


def check(out, expected, blend, out_kind):
    """out (HDF5) holds exactly the planned tensors, each bit for bit."""
    assert mpbtest.tensor_names(out) == sorted(expected), \
        f"{out}: tensors {sorted(set(mpbtest.tensor_names(out)) ^ set(expected))[:6]}..."
    for name, (s, srcs, pos) in expected.items():
        xs = [read(m, n)[0] for m, n in srcs]
        want = mpbtest.encode(blend(name, s, xs, pos), out_kind)
        got, kind = mpbtest.raw_bits(out, name)
        assert kind == out_kind, f"{out}: {name} is {kind}"
        assert np.array_equal(got.reshape(want.shape), want), f"{out}: {name} differs"


def st_tensors(folder):
    """{name: (dtype, shape, bytes)} of every shard of a safetensors folder,
    from the header JSON and the byte ranges it names."""
    out = {}
    for shard in sorted(os.listdir(folder)):
        if not shard.endswith(".safetensors"):
            continue
        with open(os.path.join(folder, shard), "rb") as f:
            raw = f.read()
        n = int.from_bytes(raw[:8], "little")
        for name, info in json.loads(raw[8:8 + n]).items():
            if name != "__metadata__":
                b, e = info["data_offsets"]
                out[name] = (info["dtype"], info["shape"], raw[8 + n + b:8 + n + e])
    return out


def check_folder(folder, h5_out, n_layers):
    """The safetensors folder holds the HDF5 output's tensors byte for byte
    and a config.json with the output's layer count."""
    tensors = st_tensors(folder)
    with h5py.File(h5_out, "r") as f:
        assert sorted(tensors) == mpbtest.tensor_names(h5_out)
        for name, (dtype, shape, data) in tensors.items():
            want = mpbtest.raw_bits(h5_out, name)[0]
            assert dtype == "F16" and tuple(shape) == f[name].shape, name
            assert np.array_equal(np.frombuffer(data, np.uint16).reshape(shape), want), name
    with open(os.path.join(folder, "config.json")) as f:
        assert json.load(f)["num_hidden_layers"] == n_layers


def hf_config(h5_out):
    with h5py.File(h5_out, "r") as f:
        return json.loads(bytes(f["hf_files"]["config.json"][()]))


RUNS = [(1, []), (2, ["--slab-kib", "1"]), (3, ["--io", "collective", "--slab-kib", "3"]),
        (4, ["--io", "independent", "--slab-kib", "2"])]


def merge_everywhere(name, text, expected, blend, out_kind, n_layers):
    """The config on HDF5 inputs at 1-4 ranks, then on folder inputs to an
    HDF5 file and a safetensors folder: all the numpy reference."""
    cfg = mpbtest.write_text(work, name + ".yaml", text)
    outs = []
    for ranks, extra in RUNS:
        out = f"{name}_{ranks}.h5"
        mpbtest.run(ranks, "merge", cfg, "--out", out, "--quiet", *extra, expect=0)
        outs.append(out)
    check(outs[0], expected, blend, out_kind)
    for other in outs[1:]:
        mpbtest.assert_same_tensors(outs[0], other)
    folders = mpbtest.write_text(work, name + "_hf.yaml",
                                 text.replace(A, "orca_hf").replace(B, "platypus_hf")
                                 .replace(C, "wizard_hf"))
    mpbtest.run(2, "merge", folders, "--out", name + "_from_hf.h5", "--quiet", expect=0)
    mpbtest.assert_same_tensors(outs[0], name + "_from_hf.h5")
    assert hf_config(name + "_from_hf.h5")["num_hidden_layers"] == n_layers
    mpbtest.run(3, "merge", folders, "--out", name + "_st", "--format", "safetensors",
                "--shard-size", "20KB", "--quiet", expect=0)
    check_folder(name + "_st", outs[0], n_layers)
    print(f"{name}: {n_layers} layers ok")


def copy_blend(name, s, xs, pos):
    return xs[0]


# 1. mergekit README's passthrough "frankenmerge" (examples/orcamini-platy-44layer.yml):
#    44 layers out of two 40-layer models.
FRANKEN = f"""slices:
  - sources:
    - model: {A}
      layer_range: [0, 24]
  - sources:
    - model: {B}
      layer_range: [20, 40]
merge_method: passthrough
dtype: float16
"""
expected, n = plan([[(A, 0, 24)], [(B, 20, 40)]])
assert n == 44
merge_everywhere("frankenmerge", FRANKEN, expected, copy_blend, "f16", n)

# 2. Fewer layers: one model with layers [8, 12) left out (a pruning config).
PRUNE = f"""slices:
  - sources:
      - model: {A}
        layer_range: [0, 8]
  - sources:
      - model: {A}
        layer_range: [12, 40]
merge_method: passthrough
"""
expected, n = plan([[(A, 0, 8)], [(A, 12, 40)]])
assert n == 36
merge_everywhere("prune", PRUNE, expected, copy_blend, "f16", n)


# 3. mergekit README's gradient slerp (examples/gradient-slerp.yml), as written.
SLERP = f"""slices:
  - sources:
      - model: {A}
        layer_range: [0, 40]
      - model: {B}
        layer_range: [0, 40]
merge_method: slerp
base_model: {A}
parameters:
  t:
    - filter: self_attn
      value: [0, 0.5, 0.3, 0.7, 1]
    - filter: mlp
      value: [1, 0.5, 0.7, 0.3, 0]
    - value: 0.5 # fallback for rest of tensors
dtype: float16
"""


gradient = ref.gradient


def slerp_t(name, pos):
    if "self_attn" in name:
        return gradient([0, 0.5, 0.3, 0.7, 1], pos)
    if "mlp" in name:
        return gradient([1, 0.5, 0.7, 0.3, 0], pos)
    return 0.5


def slerp_blend(name, s, xs, pos):
    c0, c1 = ref.slerp_coefficients(slerp_t(name, pos), xs[0], xs[1])  # base first
    return ref.linear(xs, [c0, c1])


expected, n = plan([[(A, 0, 40), (B, 0, 40)]])
merge_everywhere("gradient_slerp", SLERP, expected, slerp_blend, "f16", n)

# 4. A slerp gradient over two slices of different models and lengths: each
#    slice's gradient runs over its own layers, and the output shrinks.
SLERP2 = f"""slices:
  - sources:
      - model: {A}
        layer_range: [0, 6]
      - model: {B}
        layer_range: [0, 6]
  - sources:
      - model: {A}
        layer_range: [30, 40]
      - model: {B}
        layer_range: [20, 30]
    parameters:
      t: [1, 0]
merge_method: slerp
base_model: {A}
parameters:
  t: [0, 0.5, 1]
"""


def slerp2_blend(name, s, xs, pos):
    t = gradient([0, 0.5, 1] if s == 0 else [1, 0], pos)
    c0, c1 = ref.slerp_coefficients(t, xs[0], xs[1])
    return ref.linear(xs, [c0, c1])


expected, n = plan([[(A, 0, 6), (B, 0, 6)], [(A, 30, 40), (B, 20, 30)]])
merge_everywhere("slerp_two_slices", SLERP2, expected, slerp2_blend, "f16", n)

# 5. A linear merge per slice from two models, weights from the sources
#    (first slice) and from the slice's parameters (second), which win over
#    the global ones; the second slice reads other models' layers.
LINEAR = f"""merge_method: linear
parameters:
  weight: 1
slices:
  - sources:
      - model: {A}
        layer_range: [0, 10]
        parameters:
          weight: 0.25
      - model: {B}
        layer_range: [10, 20]
        parameters:
          weight: [{{filter: mlp, value: 0.75}}, {{value: 0.5}}]
  - sources:
      - model: {B}
        layer_range: [35, 40]
      - model: {A}
        layer_range: [0, 5]
    parameters:
      weight: [0.2, 0.6]
dtype: float32
"""


def linear_weights(name, s, pos):
    if s == 0:
        return [0.25, 0.75 if "mlp" in name else 0.5]
    w = gradient([0.2, 0.6], pos)
    return [w, w]


def linear_blend(name, s, xs, pos):
    w = linear_weights(name, s, pos)
    total = w[0] + w[1]
    return ref.linear(xs, [np.float32(w[0] / total), np.float32(w[1] / total)])


expected, n = plan([[(A, 0, 10), (B, 10, 20)], [(B, 35, 40), (A, 0, 5)]])
cfg_linear = mpbtest.write_text(work, "linear.yaml", LINEAR)
for ranks, extra in RUNS[:3]:
    mpbtest.run(ranks, "merge", cfg_linear, "--out", f"linear_{ranks}.h5", "--quiet", *extra,
                expect=0)
check("linear_1.h5", expected, linear_blend, "f32")
for ranks in (2, 3):
    mpbtest.assert_same_tensors("linear_1.h5", f"linear_{ranks}.h5")
print(f"linear: {n} layers ok")

# 6. Slices whose source counts differ, as mergekit plans them: each output
#    layer from its own slice's sources only, with that slice's weights; the
#    embeddings from slices[0]'s sources, the final norm and lm_head from
#    the last slice's.  A slice of one source blends that one input (linear:
#    weight / weight = 1).
COUNTS = f"""merge_method: linear
slices:
  - sources:
      - model: {A}
        layer_range: [0, 4]
        parameters: {{weight: 0.3}}
      - model: {B}
        layer_range: [4, 8]
        parameters: {{weight: 0.7}}
  - sources:
      - model: {C}
        layer_range: [10, 13]
        parameters: {{weight: 0.4}}
  - sources:
      - model: {B}
        layer_range: [20, 25]
      - model: {C}
        layer_range: [0, 5]
      - model: {A}
        layer_range: [35, 40]
    parameters:
      weight: [0.2, 0.6]
dtype: float16
"""


def counts_blend(name, s, xs, pos):
    w = [[0.3, 0.7], [0.4], [gradient([0.2, 0.6], pos)] * 3][s]
    return ref.linear(xs, [np.float32(v / sum(w)) for v in w])


expected, n = plan([[(A, 0, 4), (B, 4, 8)], [(C, 10, 13)], [(B, 20, 25), (C, 0, 5), (A, 35, 40)]])
assert n == 12 and len(expected["lm_head.weight"][1]) == 3
merge_everywhere("source_counts", COUNTS, expected, counts_blend, "f16", n)

# 7. The same with TIES against a base: two, one and three sources, the
#    base first in the first slice and last in the third (it moves to one
#    input).  The one-source slice is the base alone: mergekit's task
#    methods return the base unchanged, so its layers are copied.
TIES = f"""merge_method: ties
base_model: {A}
parameters: {{weight: 0.5, density: 0.6}}
slices:
  - sources:
      - model: {A}
        layer_range: [0, 3]
      - model: {B}
        layer_range: [0, 3]
  - sources:
      - model: {A}
        layer_range: [3, 5]
  - sources:
      - model: {B}
        layer_range: [5, 8]
      - model: {C}
        layer_range: [5, 8]
      - model: {A}
        layer_range: [5, 8]
"""


def ties_blend(name, s, xs, pos):
    if s == 1:
        return xs[0]
    base, others = xs[-1] if s == 2 else xs[0], xs[:-1] if s == 2 else xs[1:]
    flat = [x.reshape(x.shape[0], -1) for x in [base] + others]
    k = len(others)
    return ref.task_blend("ties", flat[0], flat[1:], [0.5] * k, [0.6] * k, 1.0, True, False,
                          True, inputs=list(range(1, k + 1)), name=name).reshape(base.shape)


expected, n = plan([[(A, 0, 3), (B, 0, 3)], [(A, 3, 5)], [(B, 5, 8), (C, 5, 8), (A, 5, 8)]])
merge_everywhere("source_counts_ties", TIES, expected, ties_blend, "f16", n)

# verify reads the outputs back: the stored data checksum (index order, as
# the output lists its tensors) and, with the config, elements recomputed
# from the inputs through the same slices.
mpbtest.run(2, "verify", "linear_2.h5", "--config", cfg_linear, expect=0)
mpbtest.run(2, "verify", "frankenmerge_3.h5", "--config", "frankenmerge.yaml", expect=0)
mpbtest.run(1, "verify", "frankenmerge_st", "--config", "frankenmerge_hf.yaml", expect=0)
mpbtest.run(2, "verify", "gradient_slerp_4.h5", expect=0)
mpbtest.run(2, "verify", "source_counts_3.h5", "--config", "source_counts.yaml", expect=0)


# 8. Errors name the key and the cause, and nothing is written.
def expect_error(name, text, *parts):
    cfg = mpbtest.write_text(work, name + ".yaml", text)
    out = name + ".h5"
    p = mpbtest.run(2, "merge", cfg, "--out", out, "--quiet", expect="nonzero")
    for part in parts:
        assert part in p.stderr, f"{name}: '{part}' not in:\n{p.stderr}"
    assert not os.path.exists(out), f"{name}: an output exists after the error"


expect_error("past_end", FRANKEN.replace("[20, 40]", "[20, 44]"),
             "slices[1].sources[0].layer_range [20, 44]", "reaches past the layers",
             "which has 40")
expect_error("lengths", SLERP.replace("layer_range: [0, 40]\n      - model",
                                      "layer_range: [0, 39]\n      - model"),
             "slices[0].sources[1].layer_range [0, 40] holds 40 layers",
             "slices[0].sources[0]'s [0, 39] holds 39")
expect_error("unknown_model", FRANKEN.replace(B, "missing.h5"), "missing.h5",
             "slices[1].sources[0].model", "does not exist")
expect_error("slerp_three", SLERP2.replace(f"        layer_range: [20, 30]\n",
                                           f"        layer_range: [20, 30]\n      - model: {C}\n"
                                           f"        layer_range: [0, 10]\n"),
             "merge_method 'slerp' needs exactly 2 models, got 3 in slices[1]")
expect_error("base_absent", SLERP.replace(f"base_model: {A}", "base_model: other.h5"),
             "base_model", "is not a source of any slice")
expect_error("empty_range", PRUNE.replace("[0, 8]", "[8, 8]"),
             "slices[0].sources[0].layer_range [8, 8] holds no layer")
expect_error("both", FRANKEN + f"models:\n  - model: {A}\n", "give models or slices, not both")
expect_error("modules", f"merge_method: passthrough\nmodules:\n  text_decoder:\n"
             f"    slices:\n      - sources:\n          - model: {A}\n"
             f"            layer_range: [0, 40]\n",
             "modules.text_decoder in", "has no config.json to name its architecture",
             "one module, 'default'")
print("slices: ok")
