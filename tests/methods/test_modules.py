"""mergekit's `modules:` end to end (docs/CONFIG.md): a tiny Qwen2-VL
(model_type qwen2_vl, its real tensor names: a text decoder, visual.blocks
and the visual.merger projector) merged per module: the text decoder with
slices that renumber its layers and shrink it, the vision tower and the
projector with models:, parameters from sources, slices, modules and the
globals in mergekit's precedence.  Every tensor against an independent
numpy reference, on 1-4 ranks with slabs that split tensors; config.json's
per-module layer counts (num_hidden_layers, vision_config.depth) in HDF5
and safetensors folder outputs; a Mistral3-style model (weight_prefix);
then the errors, which stop before any output exists."""
import json
import os
import shutil
import sys

import h5py
import numpy as np

import methods_ref as ref
import mpbtest

work = os.path.join(sys.argv[1], "modules")
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
os.chdir(work)

TEXT, VISION, HIDDEN, VHID, VOCAB = 6, 4, 16, 8, 32
TEXT_LAYER = {"input_layernorm.weight": (HIDDEN,),
              "self_attn.q_proj.weight": (HIDDEN, HIDDEN),
              "self_attn.q_proj.bias": (HIDDEN,),
              "mlp.down_proj.weight": (HIDDEN, 24),
              "post_attention_layernorm.weight": (HIDDEN,)}
VISION_BLOCK = {"norm1.weight": (VHID,), "norm1.bias": (VHID,),
                "attn.qkv.weight": (3 * VHID, VHID), "attn.qkv.bias": (3 * VHID,),
                "attn.proj.weight": (VHID, VHID), "mlp.fc1.weight": (32, VHID),
                "mlp.fc2.weight": (VHID, 32), "norm2.weight": (VHID,)}
OUTSIDE = {"model.embed_tokens.weight": (VOCAB, HIDDEN), "model.norm.weight": (HIDDEN,),
           "lm_head.weight": (VOCAB, HIDDEN),
           "visual.patch_embed.proj.weight": (VHID, 3, 2, 2, 2),
           "visual.merger.ln_q.weight": (VHID,), "visual.merger.ln_q.bias": (VHID,),
           "visual.merger.mlp.0.weight": (32, 4 * VHID), "visual.merger.mlp.0.bias": (32,),
           "visual.merger.mlp.2.weight": (HIDDEN, 32), "visual.merger.mlp.2.bias": (HIDDEN,)}
CONFIG = {"architectures": ["Qwen2VLForConditionalGeneration"], "model_type": "qwen2_vl",
          "hidden_size": HIDDEN, "num_hidden_layers": TEXT, "vocab_size": VOCAB,
          "torch_dtype": "float16",
          "vision_config": {"depth": VISION, "embed_dim": VHID, "hidden_size": HIDDEN}}


def tensors_of(seed):
    rng = np.random.default_rng(seed)
    out = {name: shape for name, shape in OUTSIDE.items()}
    for i in range(TEXT):
        for suffix, shape in TEXT_LAYER.items():
            out[f"model.layers.{i}.{suffix}"] = shape
    for j in range(VISION):
        for suffix, shape in VISION_BLOCK.items():
            out[f"visual.blocks.{j}.{suffix}"] = shape
    return {name: rng.standard_normal(shape).astype(np.float16) for name, shape in out.items()}


def make_model(h5, folder, seed, config=CONFIG, rename=lambda n: n, drop=()):
    """The model as an HDF5 file (config.json inside, as mpiblend stores
    it) and as a safetensors folder with its config.json."""
    tensors = {rename(n): x for n, x in tensors_of(seed).items() if n not in drop}
    text = json.dumps(config, indent=2).encode()
    with h5py.File(h5, "w") as f:
        for name, x in tensors.items():
            f[name] = x
        f.create_dataset("hf_files/config.json", data=np.frombuffer(text, np.uint8))
    os.makedirs(folder, exist_ok=True)
    mpbtest.write_safetensors(os.path.join(folder, "model.safetensors"), tensors)
    with open(os.path.join(folder, "config.json"), "wb") as f:
        f.write(text)


A, B = "vl_a.h5", "vl_b.h5"
make_model(A, "vl_a_hf", 1)
make_model(B, "vl_b_hf", 2)

# The text decoder stacks A's layers [0, 4) blended with B's [2, 6), then
# A's [4, 6) with B's [0, 2): 6 layers renumbered.  The vision tower and
# the projector blend whole models.  Weights: a source's own (a gradient
# over its slice), the slice's, the module's, the globals'.
MERGE = f"""merge_method: linear
parameters:
  weight: 0.5
modules:
  text_decoder:
    slices:
      - sources:
          - model: {A}
            layer_range: [0, 4]
            parameters:
              weight: [1.0, 0.0]
          - model: {B}
            layer_range: [2, 6]
      - sources:
          - model: {A}
            layer_range: [4, 5]
          - model: {B}
            layer_range: [0, 1]
        parameters:
          weight: 0.9
    parameters:
      weight: 0.3
  vision_tower:
    models:
      - model: {A}
        parameters:
          weight: [{{filter: attn, value: 0.75}}, {{value: 0.2}}]
      - model: {B}
  multi_modal_projector:
    models:
      - model: {A}
        parameters:
          weight: 2.0
      - model: {B}
    parameters:
      weight: 0.1
"""
TEXT_SLICES = [[(A, 0, 4), (B, 2, 6)], [(A, 4, 5), (B, 0, 1)]]


def plan():
    """mergekit's plan_module per module: {output: ([(model, source)], weights)}."""
    out = {}
    layer = 0
    for s, sources in enumerate(TEXT_SLICES):
        n = sources[0][2] - sources[0][1]
        for o in range(n):
            pos = o / (n - 1) if n > 1 else 1.0
            w = [ref.gradient([1.0, 0.0], pos), 0.3] if s == 0 else [0.9, 0.9]
            for suffix in TEXT_LAYER:
                srcs = [(m, f"model.layers.{first + o}.{suffix}") for m, first, _ in sources]
                out[f"model.layers.{layer}.{suffix}"] = (srcs, w)
            layer += 1
    both = lambda name: [(A, name), (B, name)]
    out["model.embed_tokens.weight"] = (both("model.embed_tokens.weight"), [1.0, 0.3])
    for name in ("model.norm.weight", "lm_head.weight"):  # the last slice's
        out[name] = (both(name), [0.9, 0.9])
    for j in range(VISION):
        for suffix in VISION_BLOCK:
            name = f"visual.blocks.{j}.{suffix}"
            out[name] = (both(name), [0.75 if "attn" in suffix else 0.2, 0.5])
    out["visual.patch_embed.proj.weight"] = (both("visual.patch_embed.proj.weight"), [0.2, 0.5])
    for name in OUTSIDE:
        if name.startswith("visual.merger."):
            out[name] = (both(name), [2.0, 0.1])
    return out, layer


def check(out, expected):
    assert mpbtest.tensor_names(out) == sorted(expected), \
        f"{out}: {sorted(set(mpbtest.tensor_names(out)) ^ set(expected))[:6]}"
    for name, (srcs, w) in expected.items():
        xs = [ref.read(m, n)[0] for m, n in srcs]
        total = w[0] + w[1]
        want = mpbtest.encode(ref.linear(xs, [np.float32(w[0] / total),
                                              np.float32(w[1] / total)]), "f16")
        got, kind = mpbtest.raw_bits(out, name)
        assert kind == "f16", f"{out}: {name} is {kind}"
        assert np.array_equal(got.reshape(want.shape), want), f"{out}: {name} differs"


def config_of(h5_out):
    with h5py.File(h5_out, "r") as f:
        return json.loads(bytes(f["hf_files"]["config.json"][()]))


expected, n_text = plan()
assert n_text == 5
cfg = mpbtest.write_text(work, "vl.yaml", MERGE)
RUNS = [(1, []), (2, ["--slab-kib", "1"]), (3, ["--io", "collective", "--slab-kib", "3"]),
        (4, ["--io", "independent", "--slab-kib", "2"])]
for ranks, extra in RUNS:
    mpbtest.run(ranks, "merge", cfg, "--out", f"vl_{ranks}.h5", "--quiet", *extra, expect=0)
check("vl_1.h5", expected)
for ranks, _ in RUNS[1:]:
    mpbtest.assert_same_tensors("vl_1.h5", f"vl_{ranks}.h5")
got = config_of("vl_1.h5")
assert got["num_hidden_layers"] == n_text and got["vision_config"]["depth"] == VISION, got
print("qwen2_vl modules: 1-4 ranks ok")

# From the safetensors folders, to HDF5 and to a sharded safetensors folder:
# the same tensors byte for byte and config.json's counts.
cfg_hf = mpbtest.write_text(work, "vl_hf.yaml",
                            MERGE.replace(A, "vl_a_hf").replace(B, "vl_b_hf"))
mpbtest.run(2, "merge", cfg_hf, "--out", "vl_from_hf.h5", "--quiet", expect=0)
mpbtest.assert_same_tensors("vl_1.h5", "vl_from_hf.h5")
mpbtest.run(3, "merge", cfg_hf, "--out", "vl_st", "--format", "safetensors", "--shard-size",
            "8KB", "--quiet", expect=0)
mpbtest.run(1, "import", "vl_st", "vl_st_back.h5", "--quiet", expect=0)
mpbtest.assert_same_tensors("vl_1.h5", "vl_st_back.h5")
with open(os.path.join("vl_st", "config.json")) as f:
    got = json.load(f)
assert got["num_hidden_layers"] == n_text and got["vision_config"]["depth"] == VISION, got
mpbtest.run(2, "verify", "vl_2.h5", "--config", cfg, expect=0)
print("qwen2_vl modules: safetensors folders ok")

# A vision tower cut to its first 2 blocks with slices (passthrough): the
# blocks renumber within the module and vision_config.depth follows.
CUT = f"""merge_method: passthrough
modules:
  text_decoder:
    models:
      - model: {B}
  vision_tower:
    slices:
      - sources:
          - model: {A}
            layer_range: [2, 4]
  multi_modal_projector:
    models:
      - model: {A}
"""
mpbtest.run(2, "merge", mpbtest.write_text(work, "cut.yaml", CUT), "--out", "cut.h5",
            "--quiet", "--slab-kib", "1", expect=0)
want = {}
for name in tensors_of(0):
    if name.startswith("visual.blocks."):
        j = int(name.split(".")[2])
        if j < 2:
            want[name] = (A, name.replace(f"blocks.{j}.", f"blocks.{j + 2}.", 1))
    elif name.startswith("visual."):
        want[name] = (A, name)
    else:
        want[name] = (B, name)
assert mpbtest.tensor_names("cut.h5") == sorted(want)
for name, (m, src) in want.items():
    assert np.array_equal(mpbtest.raw_bits("cut.h5", name)[0], mpbtest.raw_bits(m, src)[0]), name
got = config_of("cut.h5")
assert got["vision_config"]["depth"] == 2 and got["num_hidden_layers"] == TEXT, got
print("qwen2_vl vision tower cut: ok")

# Mistral3: modules under weight prefixes (language_model., vision_tower.,
# multi_modal_projector.), a tied lm_head (optional, absent).
M3 = {"architectures": ["Mistral3ForConditionalGeneration"], "model_type": "mistral3",
      "text_config": {"num_hidden_layers": TEXT}, "vision_config": {"num_hidden_layers": VISION}}


def m3_name(n):
    if n.startswith("model.") or n == "lm_head.weight":
        return "language_model." + n
    if n.startswith("visual.blocks."):
        return n.replace("visual.blocks.", "vision_tower.transformer.layers.")
    return {"visual.patch_embed.proj.weight": "vision_tower.patch_conv.weight",
            "visual.merger.ln_q.weight": "vision_tower.ln_pre.weight",
            "visual.merger.ln_q.bias": "multi_modal_projector.norm.weight",
            "visual.merger.mlp.0.weight": "multi_modal_projector.linear_1.weight",
            "visual.merger.mlp.2.weight": "multi_modal_projector.linear_2.weight",
            "visual.merger.mlp.0.bias": "multi_modal_projector.patch_merger.merging_layer.weight",
            }[n]


for h5, seed in (("m3_a.h5", 3), ("m3_b.h5", 4)):
    make_model(h5, h5[:-3] + "_hf", seed, M3, m3_name, drop=("lm_head.weight",
                                                              "visual.merger.mlp.2.bias"))
M3_MERGE = """merge_method: linear
modules:
  text_decoder:
    slices:
      - sources:
          - {model: m3_a.h5, layer_range: [3, 6]}
          - {model: m3_b.h5, layer_range: [0, 3]}
  vision_tower:
    models: [{model: m3_a.h5}, {model: m3_b.h5}]
  multi_modal_projector:
    models: [{model: m3_a.h5}, {model: m3_b.h5}]
parameters:
  weight: 1.0
"""
mpbtest.run(2, "merge", mpbtest.write_text(work, "m3.yaml", M3_MERGE), "--out", "m3.h5",
            "--quiet", "--slab-kib", "1", expect=0)
names = mpbtest.tensor_names("m3.h5")
assert "language_model.lm_head.weight" not in names and len(names) == len(
    mpbtest.tensor_names("m3_a.h5")) - 3 * len(TEXT_LAYER), names
for name in names:
    src = name
    if name.startswith("language_model.model.layers."):
        i = int(name.split(".")[3])
        src = (name.replace(f"layers.{i}.", f"layers.{i + 3}.", 1),
               name)
    srcs = src if isinstance(src, tuple) else (src, src)
    xs = [ref.read("m3_a.h5", srcs[0])[0], ref.read("m3_b.h5", srcs[1])[0]]
    want = mpbtest.encode(ref.linear(xs, [np.float32(0.5), np.float32(0.5)]), "f16")
    assert np.array_equal(mpbtest.raw_bits("m3.h5", name)[0].reshape(want.shape), want), name
got = config_of("m3.h5")
assert got["text_config"]["num_hidden_layers"] == 3 and \
    got["vision_config"]["num_hidden_layers"] == VISION, got
print("mistral3 modules (weight prefixes): ok")


# A model of one piece has one module, 'default': the same output as the
# top-level slices it holds.
with h5py.File("plain_b.h5", "w") as f:
    for i in range(3):
        f[f"model.layers.{i}.mlp.up_proj.weight"] = np.full((4, 4), i, np.float16)
    f["model.embed_tokens.weight"] = np.arange(8, dtype=np.float16).reshape(2, 4)
    f.create_dataset("hf_files/config.json", data=np.frombuffer(
        json.dumps({"architectures": ["LlamaForCausalLM"], "num_hidden_layers": 3}).encode(),
        np.uint8))
SLICES = """merge_method: passthrough
slices:
  - sources: [{model: plain_b.h5, layer_range: [1, 3]}]
  - sources: [{model: plain_b.h5, layer_range: [0, 2]}]
"""
DEFAULT = "merge_method: passthrough\nmodules:\n  default:\n    " + \
    SLICES.split("\n", 1)[1].replace("\n  ", "\n      ")
for name, text in (("top_slices", SLICES), ("default_module", DEFAULT)):
    mpbtest.run(2, "merge", mpbtest.write_text(work, name + ".yaml", text), "--out",
                name + ".h5", "--quiet", expect=0)
mpbtest.assert_same_tensors("top_slices.h5", "default_module.h5")
assert len(mpbtest.tensor_names("default_module.h5")) == 5
assert config_of("default_module.h5")["num_hidden_layers"] == 4
print("default module of a one-piece model: ok")


# ---- errors: the key, the file and the cause, and no output ----
def expect_error(name, text, *needles):
    path = mpbtest.write_text(work, name + ".yaml", text)
    out = name + "_out.h5"
    r = mpbtest.run(2, "merge", path, "--out", out, expect=1)
    for needle in needles + (path,):
        assert needle in r.stderr, f"{name}: {needle!r} not in {r.stderr!r}"
    assert not os.path.exists(out), f"{name}: {out} written"
    print(f"{name}: refused ok")


expect_error("unknown_module", MERGE.replace("  vision_tower:", "  vision:"),
             "modules.vision", "unknown module 'vision' for qwen2_vl",
             "text_decoder, multi_modal_projector, vision_tower")
expect_error("missing_module", CUT.replace("  multi_modal_projector:\n    models:\n"
                                           f"      - model: {A}\n", ""),
             "lacks 'multi_modal_projector' of qwen2_vl")
expect_error("past_layers", CUT.replace("[2, 4]", "[2, 5]"),
             "modules.vision_tower.slices[0].sources[0].layer_range [2, 5]",
             "in module 'vision_tower', which has 4")
expect_error("both", CUT.replace("    models:\n      - model: " + B,
                                 "    models:\n      - model: " + B + "\n    slices: []"),
             "modules.text_decoder needs exactly one of models and slices")
with h5py.File("plain.h5", "w") as f:
    f["model.layers.0.mlp.up_proj.weight"] = np.ones((4, 4), np.float16)
    f.create_dataset("hf_files/config.json", data=np.frombuffer(
        json.dumps({"architectures": ["LlamaForCausalLM"]}).encode(), np.uint8))
expect_error("not_modular", "merge_method: passthrough\nmodules:\n  text_decoder:\n"
             "    models: [{model: plain.h5}]\n",
             "modules.text_decoder", "LlamaForCausalLM", "not a modular architecture",
             "'default'")
expect_error("module_key", CUT.replace("  vision_tower:\n", "  vision_tower:\n    base: x\n"),
             "unknown key 'base' under modules.vision_tower")
make_model("short.h5", "short_hf", 5, dict(CONFIG, vision_config={"depth": 3}),
           drop=tuple(f"visual.blocks.3.{s}" for s in VISION_BLOCK))
expect_error("counts_differ", MERGE.replace(f"      - model: {B}\n  multi",
                                            "      - model: short.h5\n  multi"),
             "short.h5' (modules.vision_tower.models[1]) has 3 layers in module 'vision_tower'", "has 4")
