"""Round trips between mpiblend's HDF5 format and Hugging Face folders:
export -> import gives back every tensor byte for byte, export -> import ->
export gives byte-identical folders, with 1, 2 and 3 ranks, one file or
several shards; non-tensor files travel inside the HDF5 file; folders are
replaced only with --force and only when they look like a model."""
import json
import os
import re
import shutil
import sys

import h5py

import interop

work = os.path.join(sys.argv[1], "roundtrip")
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
x = os.path.join(work, "x.h5")
interop.run(2, "synth", "--arch", "tiny", "--seed", "1", "--quiet", x, expect=0)


def path(name):
    return os.path.join(work, name)


def h5_types(p):
    with h5py.File(p, "r") as f:
        return {k: f[k].id.get_type().encode() for k in f.keys() if isinstance(f[k], h5py.Dataset)}


def no_leftovers():
    stray = [n for n in os.listdir(work) if n.startswith(".")]
    assert not stray, f"temporary entries left behind: {stray}"


# Tensors: HDF5 -> folder -> HDF5 -> folder.
for ranks in (1, 2, 3):
    for shard in (None, "300KB"):
        tag = f"np{ranks}_{shard or 'single'}"
        size = ["--shard-size", shard] if shard else []
        f1, y, f2 = path(f"f1_{tag}"), path(f"y_{tag}.h5"), path(f"f2_{tag}")
        interop.run(ranks, "export", x, f1, "--quiet", *size, expect=0)
        weight_map = interop.check_hf_folder(f1)
        n_shards = len(set(weight_map.values()))
        assert (n_shards > 1) == (shard is not None), f"{tag}: {n_shards} shards"
        interop.assert_same_model(f1, x)
        io = ["--io", "independent" if ranks == 2 else "collective"]
        interop.run(ranks, "import", f1, y, "--quiet", "--slab-kib", "40", *io, expect=0)
        interop.assert_same_model(f1, y)
        assert interop.h5_tensors(x) == interop.h5_tensors(y), f"{tag}: tensors changed"
        assert h5_types(x) == h5_types(y), f"{tag}: HDF5 types changed"
        interop.run(ranks, "export", y, f2, "--quiet", "--slab-kib", "24", *io, *size, expect=0)
        assert interop.folder_files(f1) == interop.folder_files(f2), f"{tag}: folders differ"
no_leftovers()

# Non-tensor files: stored inside the HDF5 file, written back unchanged but
# for config.json's dtype.
src = path("hf_src")
interop.run(1, "export", x, src, "--quiet", expect=0)
config = {"architectures": ["Qwen3ForCausalLM"], "dtype": "float32", "initializer_range": 0.02,
          "name": "na\u00efve", "rms_norm_eps": 1e-06, "rope_theta": 1000000,
          "tie_word_embeddings": True, "torch_dtype": "float32", "vocab_size": 1024}
carried = {
    "config.json": (json.dumps(config, indent=2, sort_keys=True) + "\n").encode(),
    "generation_config.json": b'{\n  "do_sample": true,\n  "temperature": 0.6\n}\n',
    "tokenizer.json": '{"model": {"vocab": {"\u00e9": 0, "\u4e2d": 1}}}'.encode(),
    "tokenizer_config.json": b'{"chat_template": "{% for m in messages %}{{ m }}{% endfor %}"}',
    "chat_template.jinja": b"{{ bos_token }}\n{% for m in messages %}{{ m.content }}{% endfor %}",
    "merges.txt": bytes(range(256)) * 3,
    "empty.txt": b"",
}
for name, data in carried.items():
    with open(os.path.join(src, name), "wb") as f:
        f.write(data)
for name in (".gitattributes", "pytorch_model.bin"):  # never carried
    with open(os.path.join(src, name), "wb") as f:
        f.write(b"not a model file")

s1 = path("s1.h5")
interop.run(2, "import", src, s1, "--quiet", expect=0)
assert interop.h5_files(s1) == carried, "files stored in the HDF5 file differ from the folder's"
e1 = path("e1")
interop.run(3, "export", s1, e1, "--quiet", expect=0)
out = {n: d for n, d in interop.folder_files(e1).items() if not n.endswith(".safetensors")}
assert sorted(out) == sorted(carried), sorted(out)
for name, data in carried.items():
    if name != "config.json":
        assert out[name] == data, f"{name} changed on export"
written = json.loads(out["config.json"])
assert written == dict(config, torch_dtype="bfloat16", dtype="bfloat16"), written
# Reals keep their shortest form (jansson drops the exponent's leading zero).
assert re.search(rb'"rms_norm_eps": 1e-0?6,', out["config.json"]), out["config.json"]
assert out["config.json"].endswith(b"}\n")
s2, e2 = path("s2.h5"), path("e2")
interop.run(2, "import", e1, s2, "--quiet", expect=0)
assert interop.h5_files(s2) == out
interop.run(1, "export", s2, e2, "--quiet", expect=0)
assert interop.folder_files(e2) == interop.folder_files(e1), "export -> import -> export changed a file"

# Replacing outputs.
before = interop.folder_files(e1)
p = interop.run(2, "export", x, e1, "--quiet", expect=1)
assert "already exists" in interop.error_lines(p)[0], p.stderr
assert interop.folder_files(e1) == before, "a refused export changed the folder"
interop.run(2, "export", x, e1, "--quiet", "--force", "--shard-size", "300KB", expect=0)
interop.check_hf_folder(e1)
assert not os.path.exists(os.path.join(e1, "config.json")), "old files survived --force"
interop.assert_same_model(e1, x)

notes = path("notes")
os.makedirs(notes)
with open(os.path.join(notes, "todo.txt"), "w") as f:
    f.write("keep me")
p = interop.run(2, "export", x, notes, "--quiet", "--force", expect=1)
assert "does not look like a model" in interop.error_lines(p)[0], p.stderr
assert os.listdir(notes) == ["todo.txt"]

nested = path("nested")
os.makedirs(os.path.join(nested, "original"))
shutil.copy(os.path.join(e2, "model.safetensors"), nested)
p = interop.run(1, "export", x, nested, "--quiet", "--force", expect=1)
assert "'original', which is not a file" in interop.error_lines(p)[0], p.stderr

p = interop.run(2, "export", x, s2, "--quiet", "--force", expect=1)
assert "is a file, not a folder" in interop.error_lines(p)[0], p.stderr
p = interop.run(2, "import", e2, e1, "--quiet", "--force", expect=1)
assert "is a folder, not a file" in interop.error_lines(p)[0], p.stderr
no_leftovers()
print("roundtrip: ok")
