"""Merging straight from Hugging Face folders: the result is bit-identical
to merging the HDF5 files the folders were exported from, and
`--format safetensors` writes the same folder as exporting the HDF5 merge."""
import os
import shutil
import sys

import interop

work = os.path.join(sys.argv[1], "merge_folders")
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)


def path(name):
    return os.path.join(work, name)


a, b, fa, fb = interop.two_models(work)


def config(name, first, second):
    p = path(name)
    with open(p, "w") as f:
        f.write(f"merge_method: interpolate\nmodels:\n  - model: {first}\n  - model: {second}\n"
                "parameters:\n  lambda: 0.3\n")
    return p


from_h5 = config("h5.yaml", a, b)
from_folders = config("folders.yaml", fa, fb)
mixed = config("mixed.yaml", fa, b)

m = path("m.h5")
interop.run(2, "merge", from_h5, "--out", m, "--quiet", expect=0)
reference = interop.h5_tensors(m)
assert reference != interop.h5_tensors(a) and reference != interop.h5_tensors(b)

runs = [("mf2.h5", 2, from_folders, ["--io", "collective"]),
        ("mf3.h5", 3, from_folders, ["--io", "independent", "--slab-kib", "20"]),
        ("mm1.h5", 1, mixed, ["--slab-kib", "7"])]
for out, ranks, cfg, extra in runs:
    interop.run(ranks, "merge", cfg, "--out", path(out), "--quiet", *extra, expect=0)
    assert interop.h5_tensors(path(out)) == reference, f"{out}: differs from the HDF5 merge"

for shard in ("5GB", "300KB"):
    exported, direct = path(f"export_{shard}"), path(f"direct_{shard}")
    interop.run(2, "export", m, exported, "--quiet", "--shard-size", shard, expect=0)
    io = "collective" if shard == "5GB" else "independent"
    interop.run(3, "merge", from_folders, "--out", direct, "--format", "safetensors",
                "--shard-size", shard, "--io", io, "--quiet", expect=0)
    interop.check_hf_folder(direct)
    assert interop.folder_files(direct) == interop.folder_files(exported), \
        f"--format safetensors differs from export of the HDF5 merge ({shard})"
print("merge_folders: ok")
