"""Bad safetensors input: every malformed case gives exit status 1, one
message from rank 0 naming the offending file and the cause, and no output
(neither under the final name nor as a temporary file or folder)."""
import json
import os
import shutil
import struct
import sys

import h5py
import numpy as np

import interop

work = os.path.join(sys.argv[1], "bad_input")
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)


def st_file(path, header, data=b""):
    """A safetensors file from a header (dict, or JSON text as given)."""
    text = header if isinstance(header, (str, bytes)) else json.dumps(header)
    raw = text.encode() if isinstance(text, str) else text
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)) + raw + data)
    return path


def entry(dtype, shape, begin, end):
    return {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}


def folder(name, shards, weight_map=None):
    """A Hugging Face folder: {file name: (header, data)} and an index."""
    d = os.path.join(work, name)
    os.makedirs(d)
    for fname, (header, data) in shards.items():
        st_file(os.path.join(d, fname), header, data)
    if weight_map is not None:
        with open(os.path.join(d, "model.safetensors.index.json"), "w") as f:
            json.dump({"metadata": {"total_size": 8}, "weight_map": weight_map}, f)
    return d


good = {"a": entry("F32", [2], 0, 8)}
# (case, source, file the message must name, cause fragment)
cases = []
path = os.path.join(work, "short.safetensors")
with open(path, "wb") as f:
    f.write(b"\x01\x02")
cases.append(("too short", path, "short.safetensors", "too short"))
path = os.path.join(work, "huge.safetensors")
with open(path, "wb") as f:
    f.write(struct.pack("<Q", 100_000_001) + b"{}" * 8)
cases.append(("header over 100 MB", path, "huge.safetensors", "exceeds the safetensors limit"))
path = os.path.join(work, "beyond.safetensors")
with open(path, "wb") as f:
    f.write(struct.pack("<Q", 4096) + b"{}      ")
cases.append(("header beyond the file", path, "beyond.safetensors", "runs past the end of the file"))
cases += [
    ("bad JSON", st_file(os.path.join(work, "json.safetensors"), '{"a": {"dtype": "F32",'),
     "json.safetensors", "not valid JSON"),
    ("not UTF-8", st_file(os.path.join(work, "utf8.safetensors"), b'{"\xff\xfe": 1}'),
     "utf8.safetensors", "not valid UTF-8"),
    ("not an object", st_file(os.path.join(work, "array.safetensors"), "[1, 2]"),
     "array.safetensors", "not an object"),
    ("overlap", st_file(os.path.join(work, "overlap.safetensors"),
                        {"a": entry("F32", [2], 0, 8), "b": entry("F32", [2], 4, 12)}, bytes(12)),
     "overlap.safetensors", "overlap tensor"),
    ("hole", st_file(os.path.join(work, "hole.safetensors"),
                     {"a": entry("F32", [1], 0, 4), "b": entry("F32", [1], 8, 12)}, bytes(12)),
     "hole.safetensors", "belong to no tensor"),
    ("out of range", st_file(os.path.join(work, "range.safetensors"),
                             {"a": entry("F32", [4], 0, 16)}, bytes(8)),
     "range.safetensors", "run past the end of the data buffer"),
    ("size mismatch", st_file(os.path.join(work, "size.safetensors"),
                              {"a": entry("F32", [3], 0, 8)}, bytes(8)),
     "size.safetensors", "do not match shape [3] x F32"),
    ("unknown dtype", st_file(os.path.join(work, "dtype.safetensors"),
                              {"a": entry("F17", [2], 0, 8)}, bytes(8)),
     "dtype.safetensors", "unknown dtype 'F17'"),
    ("duplicate name", st_file(os.path.join(work, "dup.safetensors"),
                               '{"a": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}, '
                               '"a": {"dtype": "U8", "shape": [1], "data_offsets": [1, 2]}}', bytes(2)),
     "dup.safetensors", "duplicate key"),
    ("metadata not strings", st_file(os.path.join(work, "meta.safetensors"),
                                     {"__metadata__": {"format": 1}, **good}, bytes(8)),
     "meta.safetensors", "__metadata__ key 'format'"),
    ("missing shard",
     folder("missing", {"model-00001-of-00002.safetensors": (good, bytes(8))},
            {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}),
     "model.safetensors.index.json", "model-00002-of-00002.safetensors"),
    ("tensor absent from its shard",
     folder("absent", {"model-00001-of-00002.safetensors": (good, bytes(8)),
                       "model-00002-of-00002.safetensors": ({"b": entry("U8", [1], 0, 1)}, bytes(1))},
            {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors",
             "c": "model-00002-of-00002.safetensors"}),
     "model.safetensors.index.json", "'c'"),
    ("tensor in two shards",
     folder("twice", {"model-00001-of-00002.safetensors": (good, bytes(8)),
                      "model-00002-of-00002.safetensors":
                      ({**good, "b": entry("U8", [1], 8, 9)}, bytes(9))},
            {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}),
     "model-00002-of-00002.safetensors", "'a'"),
]


def leftovers(before):
    return sorted(set(os.listdir(work)) - before)


for case, source, names, cause in cases:
    out = os.path.join(work, "out.h5")
    before = set(os.listdir(work))
    p = interop.run(2, "import", source, out, "--quiet", expect=1)
    lines = interop.error_lines(p)
    assert len(lines) == 1, f"{case}: expected one message, got {p.stderr!r}"
    assert names in lines[0] and cause in lines[0], f"{case}: {lines[0]!r} lacks {names!r}/{cause!r}"
    assert leftovers(before) == [], f"{case}: left {leftovers(before)}"

# The same checks when a merge reads a broken folder, for either output format.
synth = os.path.join(work, "ok.h5")
interop.run(1, "synth", "--arch", "tiny", "--quiet", synth, expect=0)
broken = os.path.join(work, "twice")
cfg = os.path.join(work, "merge.yaml")
with open(cfg, "w") as f:
    f.write(f"merge_method: interpolate\nmodels:\n  - model: {synth}\n  - model: {broken}\n"
            "parameters:\n  lambda: 0.5\n")
for fmt in ("hdf5", "safetensors"):
    before = set(os.listdir(work))
    p = interop.run(2, "merge", cfg, "--out", os.path.join(work, "merged"), "--format", fmt,
                    "--quiet", expect=1)
    lines = interop.error_lines(p)
    assert len(lines) == 1 and "stored in both" in lines[0], p.stderr
    assert leftovers(before) == [], f"merge --format {fmt}: left {leftovers(before)}"

# A failure while tensors move (an HDF5 filter mpiblend's HDF5 lacks)
# removes the half-written folder.
lzf = os.path.join(work, "lzf.h5")
with h5py.File(lzf, "w") as f:
    f.create_dataset("a", data=np.ones((64, 64), np.float32))
    f.create_dataset("b", data=np.ones((64, 64), np.float32), chunks=(8, 64), compression="lzf")
for ranks in (1, 3):
    before = set(os.listdir(work))
    p = interop.run(ranks, "export", lzf, os.path.join(work, "lzf_hf"), "--quiet", expect=1)
    lines = interop.error_lines(p)
    assert len(lines) == 1 and "lzf.h5" in lines[0] and "'b'" in lines[0], p.stderr
    assert leftovers(before) == [], f"export: left {leftovers(before)}"

p = interop.run(1, "export", synth, os.path.join(work, "x"), "--shard-size", "5XB", expect=2)
assert "--shard-size" in p.stderr, p.stderr
p = interop.run(1, "merge", cfg, "--out", "x", "--format", "gguf", expect=2)
assert "--format" in p.stderr, p.stderr
print("bad_input: ok")
