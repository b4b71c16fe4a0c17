"""Every config in configs/ dry-runs and merges: the placeholder paths are
replaced by small inputs with Qwen3's tensor names and all 36 layers of
Qwen3-4B (so every layer range is valid), but tiny dimensions.  Each merge
is checked tensor by tensor against what its config promises."""
import glob
import os
import re
import shutil
import sys

import h5py
import numpy as np

import methods_ref as ref
import mpbtest

work = os.path.join(sys.argv[1], "configs")
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
source = os.environ["MPB_SOURCE_DIR"]
configs = sorted(glob.glob(os.path.join(source, "configs", "**", "*.yaml"), recursive=True))
assert len(configs) == 18, f"expected the 18 study configs, found {len(configs)}"

LAYERS, HIDDEN, FFN, HEAD, HEADS, KV, VOCAB = 36, 64, 96, 16, 4, 2, 128


def qwen3_shapes():
    shapes = {"model.embed_tokens.weight": (VOCAB, HIDDEN), "model.norm.weight": (HIDDEN,)}
    for i in range(LAYERS):
        p = f"model.layers.{i}."
        shapes.update({
            p + "input_layernorm.weight": (HIDDEN,),
            p + "post_attention_layernorm.weight": (HIDDEN,),
            p + "self_attn.q_proj.weight": (HEADS * HEAD, HIDDEN),
            p + "self_attn.k_proj.weight": (KV * HEAD, HIDDEN),
            p + "self_attn.v_proj.weight": (KV * HEAD, HIDDEN),
            p + "self_attn.o_proj.weight": (HIDDEN, HEADS * HEAD),
            p + "self_attn.q_norm.weight": (HEAD,),
            p + "self_attn.k_norm.weight": (HEAD,),
            p + "mlp.gate_proj.weight": (FFN, HIDDEN),
            p + "mlp.up_proj.weight": (FFN, HIDDEN),
            p + "mlp.down_proj.weight": (HIDDEN, FFN),
        })
    return shapes


# Base, then Instruct and Thinking as two fine-tunes of it (float16 files).
SHAPES = qwen3_shapes()
rng = np.random.default_rng(36)
FILES = {k: os.path.join(work, k + ".h5") for k in ("base", "instruct", "thinking")}
with h5py.File(FILES["base"], "w") as fb, h5py.File(FILES["instruct"], "w") as fi, \
        h5py.File(FILES["thinking"], "w") as ft:
    for name, shape in SHAPES.items():
        base = rng.normal(0, 0.05, shape).astype(np.float16)
        fb[name] = base
        fi[name] = (base + rng.normal(0, 0.005, shape)).astype(np.float16)
        ft[name] = (base + rng.normal(0, 0.005, shape)).astype(np.float16)
PLACEHOLDERS = {"/path/to/Qwen3-4B-Base.h5": FILES["base"],
                "/path/to/Qwen3-4B-Instruct-2507.h5": FILES["instruct"],
                "/path/to/Qwen3-4B-Thinking-2507.h5": FILES["thinking"]}


def substituted(path):
    with open(path) as f:
        text = f.read()
    for placeholder, real in PLACEHOLDERS.items():
        text = text.replace(placeholder, real)
    assert not re.search(r"^[^#\n]*/path/to/", text, re.M), \
        f"{path}: a placeholder this test does not know"
    out = os.path.join(work, os.path.basename(path))
    with open(out, "w") as f:
        f.write(text)
    return out


def layer_of(name):
    m = re.search(r"layers\.(\d+)\.", name)
    return int(m.group(1)) if m else -1


def interpolation(lam_of):
    def want(name):
        a = ref.read(FILES["instruct"], name)[0]
        b = ref.read(FILES["thinking"], name)[0]
        lam = lam_of(name)
        if lam is None:  # copied unchanged (converted to the output dtype)
            return a
        return ref.linear([a, b], [np.float32(1 - lam), np.float32(lam)])
    return want


def task(method, **kw):
    def want(name):
        base = ref.read(FILES["base"], name)[0]
        xs = [ref.read(FILES["instruct"], name)[0], ref.read(FILES["thinking"], name)[0]]
        return ref.task_blend(method, base, xs, inputs=[0, 1], name=name, **kw)
    return want


def promise(file):
    """What the config named `file` makes of each tensor."""
    m = re.fullmatch(r"mi-([0-9.]+)\.yaml", file)
    if m:
        return interpolation(lambda n: float(m.group(1)))
    m = re.fullmatch(r"layers-(\d+)-(\d+)\.yaml", file)
    if m:
        first, last = int(m.group(1)), int(m.group(2))
        return interpolation(lambda n: 0.8 if first <= layer_of(n) <= last else None)
    if file in ("no-attention.yaml", "no-ffn.yaml"):
        module = "self_attn" if file == "no-attention.yaml" else "mlp"
        return interpolation(lambda n: 0.0 if module in n else 0.8)
    if file == "task-arithmetic.yaml":
        return task("task_arithmetic", weights=[1.0, 1.0], densities=[1, 1], lam=0.7,
                    normalize=False, rescale=False, rescale_l1_mode=True)
    if file == "ties.yaml":
        return task("ties", weights=[1.0, 1.0], densities=[0.2, 0.2], lam=0.5,
                    normalize=True, rescale=False, rescale_l1_mode=True)
    raise AssertionError(f"no expectation for configs/{file}")


# Every config dry-runs and shows resolved parameters.
for path in configs:
    cfg = substituted(path)
    p = mpbtest.run(1, "merge", cfg, "--out", os.path.join(work, "dry.h5"), "--dry-run",
                    expect=0)
    assert "resolved parameters" in p.stdout and "error" not in p.stdout, p.stdout
    assert not os.path.exists(os.path.join(work, "dry.h5"))
print(f"ok: {len(configs)} configs dry-run against 36-layer inputs")

# A merge of each kind, checked tensor by tensor (the ends of the
# interpolation give the models themselves).
merged = ["mi-0.0.yaml", "mi-0.45.yaml", "mi-1.0.yaml", "layers-12-35.yaml", "layers-0-11.yaml",
          "no-attention.yaml", "no-ffn.yaml", "task-arithmetic.yaml", "ties.yaml"]
for file in merged:
    cfg = substituted(next(c for c in configs if os.path.basename(c) == file))
    out = os.path.join(work, file.replace(".yaml", ".h5"))
    mpbtest.run(2, "merge", cfg, "--out", out, "--force", "--quiet", expect=0)
    want_of = promise(file)
    for name in SHAPES:
        got, kind = mpbtest.raw_bits(out, name)
        assert kind == "bf16", f"{file}: {name} is {kind}, the configs ask for bfloat16"
        want = mpbtest.encode(want_of(name).ravel(), "bf16").reshape(got.shape)
        assert np.array_equal(got, want), \
            f"{file}: {name}: {np.count_nonzero(got != want)} elements differ"
    print(f"ok: {file} merges as promised over {len(SHAPES)} tensors")
