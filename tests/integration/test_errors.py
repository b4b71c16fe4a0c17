"""Bad input: the exit status, the one message naming the file, tensor or key
and the cause, and no output file under the final name (nor a stray
temporary file)."""
import glob
import os
import shutil
import sys

import h5py

import mpbtest

work = os.path.join(sys.argv[1], "errors")
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
a = os.path.join(work, "a.h5")
b = os.path.join(work, "b.h5")
mpbtest.run(2, "synth", "--arch", "tiny", "--seed", "1", "--quiet", a, expect=0)
mpbtest.run(1, "synth", "--arch", "tiny", "--seed", "2", "--quiet", b, expect=0)


def config(name, text):
    path = os.path.join(work, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def interp(first, second):
    return f"merge_method: interpolate\nmodels:\n  - model: {first}\n  - model: {second}\nparameters:\n  lambda: 0.5\n"


def expect_failure(case, cfg, message, out="out.h5", extra=(), status=1):
    out_path = os.path.join(work, out)
    before = set(os.listdir(work))
    for ranks in (1, 3):
        p = mpbtest.run(ranks, "merge", cfg, "--out", out_path, "--quiet", *extra, expect=status)
        lines = [l for l in p.stderr.splitlines() if l.startswith("mpiblend")]
        assert len(lines) == 1, f"{case}: expected one message from rank 0, got {lines!r}"
        assert message in lines[0], f"{case}: message {lines[0]!r} lacks {message!r}"
        after = set(os.listdir(work))
        new = sorted(after - before)
        assert new == [], f"{case}: files appeared: {new}"
    print(f"ok: {case}: {lines[0]}")


# A copy of b whose q_proj of layer 1 has another shape.
shape_bad = os.path.join(work, "shape.h5")
shutil.copy(b, shape_bad)
with h5py.File(shape_bad, "r+") as f:
    del f["model.layers.1.self_attn.q_proj.weight"]
    f.create_dataset("model.layers.1.self_attn.q_proj.weight", shape=(64, 128), dtype="f4")
expect_failure("shape mismatch", config("shape.yaml", interp("a.h5", "shape.h5")),
               "tensor 'model.layers.1.self_attn.q_proj.weight' has shape [128, 128] in "
               f"'{a}' but [64, 128] in '{shape_bad}'")

missing_t = os.path.join(work, "missing_tensor.h5")
shutil.copy(b, missing_t)
with h5py.File(missing_t, "r+") as f:
    del f["model.norm.weight"]
expect_failure("missing tensor", config("mt.yaml", interp("a.h5", "missing_tensor.h5")),
               f"tensor 'model.norm.weight' is in '{a}' but missing from '{missing_t}'")

expect_failure("missing file", config("mf.yaml", interp("a.h5", "nowhere.h5")),
               "nowhere.h5")

not_h5 = os.path.join(work, "text.h5")
with open(not_h5, "w") as f:
    f.write("this is not HDF5\n" * 100)
expect_failure("input not HDF5", config("nh.yaml", interp("a.h5", "text.h5")),
               f"'{not_h5}' is not an HDF5 file")

expect_failure("bad YAML", config("bad.yaml", "merge_method: [linear\n"), "bad.yaml")
expect_failure("unknown key", config("uk.yaml", "merge_mehtod: linear\nmodels: []\n"),
               "did you mean 'merge_method'")
expect_failure("zero weights", config(
    "zw.yaml", "merge_method: linear\nmodels:\n  - model: a.h5\n    parameters: {weight: 1}\n"
    "  - model: b.h5\n    parameters: {weight: -1}\n"), "sum")
expect_failure("missing config", os.path.join(work, "no-such.yaml"), "no-such.yaml")

# An existing output is never replaced without --force, and is left intact.
existing = os.path.join(work, "existing.h5")
with open(existing, "wb") as f:
    f.write(b"precious")
expect_failure("existing output", config("ok.yaml", interp("a.h5", "b.h5")),
               f"output '{existing}' already exists; pass --force", out="existing.h5")
assert open(existing, "rb").read() == b"precious", "existing output was modified"
mpbtest.run(2, "merge", os.path.join(work, "ok.yaml"), "--out", existing, "--force", "--quiet",
            expect=0)
assert mpbtest.tensor_names(existing), "--force did not replace the output"

# A symbolic link at the output path is not followed unless asked.
link = os.path.join(work, "link.h5")
os.symlink(existing, link)
expect_failure("symlink output", os.path.join(work, "ok.yaml"), "is a symbolic link",
               out="link.h5", extra=("--force",))

# Usage errors exit 2.
p = mpbtest.run(1, "merge", os.path.join(work, "ok.yaml"), expect=2)
assert "usage: mpiblend merge" in p.stderr
p = mpbtest.run(1, "merge", os.path.join(work, "ok.yaml"), "--out", "x.h5", "--slab-mib", "0",
                expect=2)
assert "--slab-mib takes a whole number from 1 to 1024, not '0'" in p.stderr
p = mpbtest.run(1, "merge", os.path.join(work, "ok.yaml"), "--out", "x.h5", "--io", "collective",
                "--aggregate", "maybe", expect=2)
assert "--aggregate takes 'auto', 'on' or 'off', not 'maybe'" in p.stderr, p.stderr
assert not glob.glob(os.path.join(work, ".*.tmp")), "temporary files left behind"
print("all error cases passed")
