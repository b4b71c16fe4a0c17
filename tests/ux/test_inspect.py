"""inspect --json against h5py and against the safetensors headers parsed
here: every tensor with dtype, shape, numel and bytes, the totals, layers,
tied or untied embeddings, config.json, the model files and the provenance
a merge records.  The table names every tensor; a bad path fails cleanly."""
import json
import os
import re
import shutil
import struct

import h5py
import numpy as np

import mpbtest
import uxtest

work = uxtest.workdir("inspect")
a = uxtest.synth(work, "a.h5", 1)
b = uxtest.synth(work, "b.h5", 2)


def inspect_json(path, ranks=1):
    p = mpbtest.run(ranks, "inspect", "--json", path, expect=0)
    return json.loads(p.stdout)


def h5_expected(path):
    """name -> (dtype, shape, bytes) read with h5py."""
    out = {}
    with h5py.File(path, "r") as f:
        for name, d in f.items():
            if isinstance(d, h5py.Dataset):
                out[name] = (mpbtest.dtype_of(d), list(d.shape), d.size * d.id.get_type().get_size())
    return out


def check_tensors(report, expected):
    got = {t["name"]: (t["dtype"], t["shape"], t["bytes"]) for t in report["tensors"]}
    assert sorted(got) == sorted(expected), f"tensor names differ: {sorted(set(got) ^ set(expected))}"
    for name, want in expected.items():
        assert got[name] == want, f"{name}: inspect says {got[name]}, expected {want}"
    for t in report["tensors"]:
        assert t["numel"] == int(np.prod(t["shape"], dtype=np.int64)), t
    assert [t["name"] for t in report["tensors"]] == sorted(expected), "tensors not in name order"
    totals = report["totals"]
    assert totals["tensors"] == len(expected)
    assert totals["bytes"] == sum(v[2] for v in expected.values())
    per_dtype = {}
    for dt, _, nbytes in expected.values():
        n, s = per_dtype.get(dt, (0, 0))
        per_dtype[dt] = (n + 1, s + nbytes)
    assert {k: (v["tensors"], v["bytes"]) for k, v in totals["dtypes"].items()} == per_dtype
    layers = {int(m.group(1)) for n in expected for m in [re.search(r"\.layers\.(\d+)\.", n)] if m}
    assert report["layers"] == max(layers) + 1


def h5_provenance(path):
    with h5py.File(path, "r") as f:
        return {k: (v.decode() if isinstance(v, bytes) else str(v)) for k, v in f.attrs.items()}


# A synthetic checkpoint: tied (Qwen3-0.6B style, no lm_head.weight).
report = inspect_json(a)
assert report["format"] == "hdf5" and report["path"] == a
check_tensors(report, h5_expected(a))
assert report["embeddings"] == "tied"
assert report["provenance"] == h5_provenance(a)
assert report["files"] == [] and report["config_tie_word_embeddings"] is None
print(f"ok: {a}: {len(report['tensors'])} tensors match h5py, tied")

# Rank 0 alone answers under mpirun.
assert inspect_json(a, ranks=3) == report
print("ok: the same report from 3 ranks")

# An untied copy with an f32 lm_head.
untied = os.path.join(work, "untied.h5")
shutil.copy(a, untied)
with h5py.File(untied, "r+") as f:
    f.create_dataset("lm_head.weight", data=np.ones((1024, 128), dtype=np.float32))
report = inspect_json(untied)
check_tensors(report, h5_expected(untied))
assert report["embeddings"] == "untied" and "f32" in report["totals"]["dtypes"]
print("ok: untied embeddings and mixed dtypes")

# A merge's provenance, multi-line config included.
cfg = uxtest.config(work, "interp.yaml", "merge_method: interpolate\nmodels:\n"
                    "  - model: a.h5\n  - model: b.h5\nparameters:\n  lambda: 0.5\n")
merged = os.path.join(work, "merged.h5")
mpbtest.run(2, "merge", cfg, "--out", merged, "--quiet", expect=0)
report = inspect_json(merged)
prov = h5_provenance(merged)
assert report["provenance"] == prov and prov["mpiblend_method"] == "interpolate"
assert "lambda: 0.5" in prov["mpiblend_config"]
text = mpbtest.run(1, "inspect", merged, expect=0).stdout
for name in h5_expected(merged):
    assert re.search(rf"^{re.escape(name)}\s", text, re.M), f"the table lacks {name}"
assert re.search(r"^embeddings: tied", text, re.M)
assert f"{report['totals']['bytes']} bytes" in text
assert "    lambda: 0.5" in text, "the config is not shown under its key"
print("ok: provenance of a merge, and the table")

# A Hugging Face folder, checked against its shard headers.
folder = os.path.join(work, "hf")
mpbtest.run(2, "export", a, folder, "--shard-size", "1MB", "--quiet", expect=0)
with open(os.path.join(folder, "config.json"), "w") as f:
    json.dump({"architectures": ["Qwen3ForCausalLM"], "tie_word_embeddings": True}, f)
expected, metadata = {}, None
ST = {"BF16": ("bf16", 2), "F16": ("f16", 2), "F32": ("f32", 4)}
for shard in sorted(os.listdir(folder)):
    if not shard.endswith(".safetensors"):
        continue
    with open(os.path.join(folder, shard), "rb") as f:
        header = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))
    if metadata is None:
        metadata = header.pop("__metadata__", {})
    header.pop("__metadata__", None)
    for name, e in header.items():
        dt, size = ST[e["dtype"]]
        expected[name] = (dt, e["shape"], int(np.prod(e["shape"], dtype=np.int64)) * size)
report = inspect_json(folder)
assert report["format"] == "safetensors"
check_tensors(report, expected)
assert report["provenance"] == metadata
assert report["architecture"] == "Qwen3ForCausalLM" and report["config_tie_word_embeddings"] is True
assert [f["name"] for f in report["files"]] == ["config.json"]
print(f"ok: Hugging Face folder: {len(expected)} tensors match the shard headers")

# A path that is not a checkpoint: one message naming it, status 1.
missing = os.path.join(work, "nowhere.h5")
p = mpbtest.run(2, "inspect", missing, expect=1)
lines = [l for l in p.stderr.splitlines() if l.startswith("mpiblend")]
assert len(lines) == 1 and missing in lines[0], lines
print(f"ok: {lines[0]}")
