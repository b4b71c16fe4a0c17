"""docs/METHODS.md, "mergekit compatibility": every example its tables
list (configs/mergekit-examples/) runs as written.  The Hugging Face names
in them resolve from a fake local hub cache of tiny 40-layer Llama-shaped
models (the examples' 13B models have 40 layers; names with "-VL-" are
Qwen2-VL-shaped, for modules:), local names from folders
beside the copied config.  A row that says "supported" must merge; a row
that says "refused" must stop before any output exists; every fragment the
row quotes after "says" must be in the messages.  Some supported outputs
are checked against the numpy reference (methods_ref.py).  The test reads
the table, so a row flipped from refused to supported is tested as such."""
import json
import os
import re
import shutil
import sys
from concurrent.futures import ThreadPoolExecutor

import h5py
import numpy as np

import methods_ref as ref
import mpbtest

SOURCE = os.environ["MPB_SOURCE_DIR"]
EXAMPLES = os.path.join(SOURCE, "configs", "mergekit-examples")
work = os.path.join(sys.argv[1], "mergekit_examples")
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)

# ---- the table ----


def table_rows():
    """(first cell, status cell, [example files]) of every row of the
    section's tables that names an example."""
    with open(os.path.join(SOURCE, "docs", "METHODS.md"), encoding="utf-8") as f:
        text = f.read()
    start = text.index("\n## mergekit compatibility\n")
    end = text.find("\n## ", start + 1)
    rows = []
    for line in text[start:end if end >= 0 else None].splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
        if not line.startswith("|") or len(cells) != 3 or set(cells[0]) <= set("-: "):
            continue
        files = re.findall(r"`([\w.-]+\.yml)`", cells[2])
        if files:
            rows.append((cells[0], cells[1], files))
    return rows


ROWS = table_rows()
listed = sorted(f for _, _, files in ROWS for f in files)
present = sorted(f for f in os.listdir(EXAMPLES) if f.endswith(".yml"))
assert sorted(set(listed)) == present, \
    f"examples not in the table: {sorted(set(present) - set(listed))}; " \
    f"in the table but missing: {sorted(set(listed) - set(present))}"
assert len(ROWS) >= 20, f"only {len(ROWS)} rows with examples"

# ---- tiny models in a fake hub cache ----

LAYERS, HIDDEN, VOCAB = 40, 16, 32
PER_LAYER = {"input_layernorm.weight": (HIDDEN,),
             "self_attn.q_proj.weight": (HIDDEN, HIDDEN),
             "mlp.up_proj.weight": (2 * HIDDEN, HIDDEN),
             "mlp.down_proj.weight": (HIDDEN, 2 * HIDDEN)}
OUTSIDE = {"model.embed_tokens.weight": (VOCAB, HIDDEN), "model.norm.weight": (HIDDEN,),
           "lm_head.weight": (VOCAB, HIDDEN)}
TOKENS = {f"t{i}": i for i in range(VOCAB)}


def names_of(text):
    return set(re.findall(r"model: ([\w.-]+(?:/[\w.-]+)?)", text))


# Qwen2-VL-2B's shape in miniature: 28 text layers, 32 vision blocks,
# the merger between them (configs/architectures/qwen2_vl.json).
VL_TEXT, VL_DEPTH, VL_HID = 28, 32, 8
VL_OUTSIDE = {"visual.patch_embed.proj.weight": (VL_HID, 3, 2, 2, 2),
              "visual.merger.ln_q.weight": (VL_HID,), "visual.merger.ln_q.bias": (VL_HID,),
              "visual.merger.mlp.0.weight": (HIDDEN, 4 * VL_HID),
              "visual.merger.mlp.0.bias": (HIDDEN,),
              "visual.merger.mlp.2.weight": (HIDDEN, HIDDEN),
              "visual.merger.mlp.2.bias": (HIDDEN,)}
VL_BLOCK = {"norm1.weight": (VL_HID,), "attn.qkv.weight": (3 * VL_HID, VL_HID),
            "attn.qkv.bias": (3 * VL_HID,), "mlp.fc1.weight": (2 * VL_HID, VL_HID)}


def shapes_of(name):
    if "-VL-" not in name:
        shapes = dict(OUTSIDE)
        shapes.update({f"model.layers.{i}.{n}": s for i in range(LAYERS)
                       for n, s in PER_LAYER.items()})
        return shapes, {"architectures": ["LlamaForCausalLM"], "num_hidden_layers": LAYERS}
    shapes = dict(OUTSIDE, **VL_OUTSIDE)
    shapes.update({f"model.layers.{i}.{n}": s for i in range(VL_TEXT)
                   for n, s in PER_LAYER.items()})
    shapes.update({f"visual.blocks.{j}.{n}": s for j in range(VL_DEPTH)
                   for n, s in VL_BLOCK.items()})
    return shapes, {"architectures": ["Qwen2VLForConditionalGeneration"],
                    "model_type": "qwen2_vl", "num_hidden_layers": VL_TEXT,
                    "vision_config": {"depth": VL_DEPTH, "embed_dim": VL_HID}}


def make_model(folder, seed, base=None, name=""):
    """A 40-layer Llama-shaped folder (Qwen2-VL-shaped when name says
    -VL-); with base, base plus a small task vector (fine-tunes of one
    base, as the task-vector methods expect)."""
    rng = np.random.default_rng(seed)
    tensors = {}
    shapes, config = shapes_of(name)
    for name, shape in shapes.items():
        x = rng.standard_normal(shape).astype(np.float32)
        if base is not None and name in base:
            x = base[name].astype(np.float32) + np.float32(0.1) * x
        tensors[name] = x.astype(np.float16)
    os.makedirs(folder)
    mpbtest.write_safetensors(os.path.join(folder, "model.safetensors"), tensors)
    files = {"config.json": dict(config, hidden_size=HIDDEN, vocab_size=VOCAB,
                                 torch_dtype="float16"),
             "tokenizer.json": {"version": "1.0", "added_tokens": [],
                                "model": {"type": "WordLevel", "vocab": TOKENS,
                                          "unk_token": "t0"}},
             "tokenizer_config.json": {"tokenizer_class": "PreTrainedTokenizerFast"}}
    for name, content in files.items():
        with open(os.path.join(folder, name), "w") as f:
            json.dump(content, f)
    return tensors


HUB = os.path.join(work, "hub")
CFG = os.path.join(work, "cfg")
os.makedirs(CFG)
models = {}
texts = {}
for f in present:
    with open(os.path.join(EXAMPLES, f), encoding="utf-8") as src:
        texts[f] = src.read()
    shutil.copy(os.path.join(EXAMPLES, f), os.path.join(CFG, f))  # unchanged
all_names = sorted(set().union(*(names_of(t) for t in texts.values())))
base_tensors = None
for seed, name in enumerate(all_names, 1):
    if "/" in name:  # ORG/NAME: a snapshot of the hub cache
        repo = os.path.join(HUB, "models--" + name.replace("/", "--"))
        commit = f"{seed:040x}"
        folder = os.path.join(repo, "snapshots", commit)
        os.makedirs(os.path.join(repo, "refs"))
        with open(os.path.join(repo, "refs", "main"), "w") as f:
            f.write(commit)
    else:  # a relative path: beside the config
        folder = os.path.join(CFG, name)
    os.makedirs(os.path.dirname(folder), exist_ok=True)
    models[name] = make_model(folder, seed, base_tensors, name)
    base_tensors = base_tensors or models[name]
ENV = {"HF_HUB_CACHE": HUB, "HF_HOME": os.path.join(work, "no_hf_home"),
       "HOME": os.path.join(work, "home")}

# ---- run every example ----

OUT = os.path.join(work, "out")
os.makedirs(OUT)


def kind_of(status):
    for kind in ("supported", "refused"):
        if status.startswith(kind):
            return kind
    raise AssertionError(f"a status must start with supported or refused: {status}")


# Each example once; every row that lists it must agree on what it does.
rows_of = {}
for row, status, files in ROWS:
    for f in files:
        rows_of.setdefault(f, []).append((row, status))
for f, rows in rows_of.items():
    kinds = {kind_of(status) for _, status in rows}
    assert len(kinds) == 1, f"{f}: the rows that list it disagree: {rows}"


def run_example(f):
    out = os.path.join(OUT, f[:-4] + ".h5")
    p = mpbtest.run(2, "merge", os.path.join(CFG, f), "--out", out, "--slab-kib", "1",
                    env=ENV)
    return f, out, p


with ThreadPoolExecutor(2) as pool:
    results = list(pool.map(run_example, sorted(rows_of)))

outputs = {}
for f, out, p in results:
    kind = kind_of(rows_of[f][0][1])
    if kind == "supported":
        assert p.returncode == 0, f"{f}: exit {p.returncode}, the table says supported\n{p.stderr}"
        assert os.path.exists(out), f"{f}: no output"
        outputs[f] = out
    else:
        assert p.returncode != 0, f"{f}: merged, but the table says refused"
        assert not os.path.exists(out), f"{f}: an output exists after the error"
        assert "mpiblend: error:" in p.stderr, f"{f}: {p.stderr}"
    for row, status in rows_of[f]:
        for part in re.findall(r"says `([^`]+)`", status):
            assert part in p.stderr, f"{f} (row {row}): '{part}' not in:\n{p.stderr}"
    print(f"ok: {f}: {kind}")
assert os.listdir(OUT) == [] or all(n.endswith(".h5") for n in os.listdir(OUT)), \
    f"left behind: {os.listdir(OUT)}"

# ---- some outputs against the numpy reference ----


def layer_of(name):
    m = re.search(r"layers\.(\d+)\.", name)
    return int(m.group(1)) if m else None


def x32(model, name):
    """As fp32 rows (first dimension), the split the statistics sum over."""
    x = models[model][name].astype(np.float32)
    return x.reshape(x.shape[0], -1)


def check(f, blend, want_kind="f16"):
    """Every tensor of the example's output equals blend(name) in f16 (or
    want_kind)."""
    out = outputs.get(f)
    if out is None:
        return
    names = mpbtest.tensor_names(out)
    for name in names:
        got, kind = mpbtest.raw_bits(out, name)
        assert kind == want_kind, f"{f}: {name} is {kind}"
        want = mpbtest.encode(blend(name).ravel(), want_kind).reshape(got.shape)
        assert np.array_equal(got, want), f"{f}: {name} differs from the reference"
    print(f"ok: {f}: {len(names)} tensors equal the reference")


O, P, WL = "psmathur/orca_mini_v3_13b", "garage-bAInd/Platypus2-13B", "WizardLM/WizardLM-13B-V1.2"


def linear_blend(name):
    w = [1.0, 0.3, 0.5]
    return ref.linear([x32(m, name) for m in (O, WL, P)], [np.float32(v / sum(w)) for v in w])


def franken_blend(name):
    layer = layer_of(name)
    if layer is None:
        return x32(O if "embed" in name else P, name)
    src = name if layer < 24 else name.replace(f"layers.{layer}.", f"layers.{layer - 4}.")
    return x32(O if layer < 24 else P, src)


def slerp_t(name):
    layer = layer_of(name)
    pos = layer / (LAYERS - 1) if layer is not None else 0.0
    if "self_attn" in name:
        return ref.gradient([0, 0.5, 0.3, 0.7, 1], pos)
    if "mlp" in name:
        return ref.gradient([1, 0.5, 0.7, 0.3, 0], pos)
    return 0.5


def slerp_blend(name):
    xs = [x32(O, name), x32(P, name)]
    return ref.linear(xs, ref.slerp_coefficients(slerp_t(name), xs[0], xs[1]))


def bio_blend(name):
    base = x32("mistralai/Mistral-7B-v0.1", name)
    xs = [x32(m, name) for m in ("mistralai/Mistral-7B-Instruct-v0.2", "BioMistral/BioMistral-7B")]
    return ref.task_blend("ties", base, xs, [0.5, 0.5], [0.5, 0.5], 1.0, False, False, True,
                          inputs=[0, 1], name=name)


check("linear.yml", linear_blend)
check("orcamini-platy-44layer.yml", franken_blend)
check("gradient-slerp.yml", slerp_blend)
check("bio-merge.yml", bio_blend)
# The base is listed first in slices[0] and second in slices[1]: slerp from
# it at t = 0.3 on every layer all the same.
check("key-slices-base-position.yml",
      lambda name: ref.linear([x32(O, name), x32(P, name)],
                              ref.slerp_coefficients(0.3, x32(O, name), x32(P, name))))


def counts_blend(name):
    """Layers 0-19 and the embeddings: orca and platypus, weight 1 each;
    layers 20-39, the final norm and lm_head: orca's alone (1 / 1)."""
    layer = layer_of(name)
    if (layer is None and "embed" not in name) or (layer is not None and layer >= 20):
        return ref.linear([x32(O, name)], [np.float32(1.0)])
    return ref.linear([x32(O, name), x32(P, name)], [np.float32(0.5), np.float32(0.5)])


check("key-slices-source-counts.yml", counts_blend)
# One vocabulary in every model: the union is theirs, 32 rows (a multiple of
# 8); slerp from orca at t = 0.3 everywhere, through the vocabulary view.
check("key-slices-tokenizer-union.yml",
      lambda name: ref.linear([x32(O, name), x32(P, name)],
                              ref.slerp_coefficients(0.3, x32(O, name), x32(P, name))))
# modules: the text decoders half and half, the vision tower and the
# projector the instruct model's (weights 1 and 0); config.json's counts.
VL_I, VL_B = "Qwen/Qwen2-VL-2B-Instruct", "Qwen/Qwen2-VL-2B"
check("key-modules.yml",
      lambda name: ref.linear([x32(VL_I, name), x32(VL_B, name)],
                              [np.float32(1.0), np.float32(0.0)] if name.startswith("visual.")
                              else [np.float32(0.5), np.float32(0.5)]))
if "key-modules.yml" in outputs:
    with h5py.File(outputs["key-modules.yml"], "r") as h5:
        vl_config = json.loads(bytes(h5["hf_files"]["config.json"][()]))
    assert vl_config["num_hidden_layers"] == VL_TEXT, vl_config
    assert vl_config["vision_config"]["depth"] == VL_DEPTH, vl_config
    assert len(mpbtest.tensor_names(outputs["key-modules.yml"])) == len(models[VL_I])
# ---- column-wise nuslerp (issue 15, columns) ----
def nuslerp_columns_blend(name):
    xs = [x32(O, name), x32(P, name)]
    if models[O][name].ndim < 2:  # one vector, as with flatten
        return ref.linear(xs, ref.nuslerp_coefficients(xs, [0.7, 0.3]))
    return ref.nuslerp_columns(xs, [0.7, 0.3])


check("method-nuslerp-columns.yml", nuslerp_columns_blend)
# ---- end column-wise nuslerp ----
# ---- arcee_fusion (issue 15): model_b where its importance reaches the
# threshold, model_a elsewhere, written as bf16 (dtype: bfloat16) ----
check("arcee_fusion.yml",
      lambda name: ref.arcee_fusion(x32("model_a", name), x32("model_b", name),
                                    models["model_a"][name].shape)[0], "bf16")
# ---- end arcee_fusion ----
# ---- passthrough's scale (issue 15): the frankenmerge above with the
# second slice's o_proj and down_proj halved, fp32 product rounded once ----
def franken_scaled_blend(name):
    x = franken_blend(name)
    layer = layer_of(name)
    if layer is not None and layer >= 24 and ("o_proj" in name or "down_proj" in name):
        return ref.passthrough(x, 0.5)
    return x


check("method-passthrough-scale.yml", franken_scaled_blend)
# ---- end passthrough's scale ----
# ---- model_stock's filter_wise (issue 15): one t per vector along the
# last dimension, from that row's sums alone; a 1-D tensor is one row ----
def stock_rows_blend(name):
    shape = models[O][name].shape
    length = shape[-1] if len(shape) >= 2 else models[O][name].size
    paths = (O, P, "WizardLM/WizardMath-13B-V1.0", "TheBloke/Llama-2-13B-fp16")
    vs = [models[m][name].astype(np.float32).reshape(-1, length) for m in paths]
    out = np.empty_like(vs[0])
    for k in range(vs[0].shape[0]):
        row = [v[k:k + 1] for v in vs]
        t0, t1 = ref.model_stock_coefficients(row[-1], row[:-1])
        out[k] = ref.linear(row, [t1] * 3 + [t0])[0]
    return out


check("method-model_stock-filter-wise.yml", stock_rows_blend)
# ---- end model_stock's filter_wise ----
print(f"mergekit examples: {len(results)} run, {len(outputs)} merged")
