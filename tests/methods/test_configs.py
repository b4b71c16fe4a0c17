"""Every config in configs/ dry-runs and merges: the placeholder paths are
replaced by small inputs with Qwen3's tensor names and all 36 layers of
Qwen3-4B (so every layer range is valid), but tiny dimensions; the
Qwen3-30B-A3B study's by `synth --arch qwen3-moe-mini` files (its 48 layers
of 128 experts, tiny dimensions).  Each merge is checked tensor by tensor
against what its config promises."""
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
configs = sorted(glob.glob(os.path.join(source, "configs", "qwen3-4b", "*.yaml")))
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

# ---- Qwen3-30B-A3B: names and layer count of the real model, tiny shapes ----
configs = sorted(glob.glob(os.path.join(source, "configs", "qwen3-30b-a3b", "*.yaml")))
assert len(configs) == 19, f"expected 18 configs and sweep.yaml, found {len(configs)}"
FILES = {k: os.path.join(work, "moe-" + k + ".h5") for k in ("instruct", "thinking")}
for seed, k in ((1, "instruct"), (2, "thinking")):
    mpbtest.run(2, "synth", "--arch", "qwen3-moe-mini", "--seed", seed, FILES[k], "--quiet",
                expect=0)
PLACEHOLDERS = {"/path/to/Qwen3-30B-A3B-Instruct-2507.h5": FILES["instruct"],
                "/path/to/Qwen3-30B-A3B-Thinking-2507.h5": FILES["thinking"]}
with h5py.File(FILES["instruct"], "r") as f:
    SHAPES = {name: f[name].shape for name in f if isinstance(f[name], h5py.Dataset)}
assert len(SHAPES) == 48 * (9 + 128 * 3) + 3, len(SHAPES)
# The full-size architecture is only planned (61 GB): synth --dry-run.
p = mpbtest.run(1, "synth", "--arch", "qwen3-30b-a3b", os.path.join(work, "big.h5"),
                "--dry-run", expect=0)
assert f"{len(SHAPES)} tensors, 61064" in p.stdout, p.stdout
# Each config resolves for every tensor of the full-size index in
# tests/test_method_configs.c; here the sweep dry-runs (18,900 tensors per
# input make every run of mpiblend take a while, so three merges below stand
# for the kinds of config).
cfg = substituted(next(c for c in configs if os.path.basename(c) == "sweep.yaml"))
p = mpbtest.run(1, "sweep", cfg, "--out-dir", os.path.join(work, "sweep30"), "--dry-run",
                expect=0)
lams = re.findall(r"point \d+: lambda=(\S+)", p.stdout)
assert lams == ["0", "0.2", "0.4", "0.45", "0.5", "0.55", "0.6", "0.8", "0.9", "0.95", "1"], lams
print("ok: the Qwen3-30B-A3B sweep dry-runs its 11 points against 48-layer MoE inputs")

# The layers and tensors the ablations tell apart: the edges of the thirds,
# routers, experts, attention and the global tensors.
SAMPLE = [n for n in SHAPES if layer_of(n) in (-1, 0, 15, 16, 31, 32, 47) and
          (".experts." not in n or re.search(r"\.experts\.(0|127)\.", n))]
for file in ["mi-0.9.yaml", "layers-16-31.yaml", "no-ffn.yaml"]:
    cfg = substituted(next(c for c in configs if os.path.basename(c) == file))
    out = os.path.join(work, "moe-" + file.replace(".yaml", ".h5"))
    mpbtest.run(2, "merge", cfg, "--out", out, "--force", "--quiet", expect=0)
    want_of = promise(file)
    for name in SAMPLE:
        got, kind = mpbtest.raw_bits(out, name)
        want = mpbtest.encode(want_of(name).ravel(), "bf16").reshape(got.shape)
        assert np.array_equal(got, want), \
            f"{file}: {name}: {np.count_nonzero(got != want)} elements differ"
    print(f"ok: {file} merges as promised over {len(SAMPLE)} sampled tensors")
