"""No silent drops (issue 17, item 6): a shard of the index's own series
that weight_map does not list is an error for import and merge; other
safetensors files beside an index are ignored with a note in inspect and
the dry run; tensors an h5py user stored in groups are refused, naming the
group, for inspect, merge and import paths alike."""
import json
import os
import shutil
import sys

import h5py
import numpy as np

import reltest

work = reltest.fresh_dir(sys.argv[1], "silent_drops")
a, b = reltest.make_inputs(work)
folder = os.path.join(work, "hf")
reltest.run(2, "export", a, folder, "--shard-size", "1000000", "--quiet", expect=0)
index_path = os.path.join(folder, "model.safetensors.index.json")
index = json.load(open(index_path))
shards = sorted(set(index["weight_map"].values()))
assert shards == ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"], shards

# weight_map forgets the second shard of its own series.
lost = dict(index, weight_map={k: v for k, v in index["weight_map"].items() if v != shards[1]})
lost.pop("metadata", None)
json.dump(lost, open(index_path, "w"))
cfg = reltest.write_config(work, "st.yaml", reltest.interp_text("hf", "b.h5"))
for args in (("import", folder, os.path.join(work, "x.h5")),
             ("merge", cfg, "--out", os.path.join(work, "m.h5")),
             ("inspect", folder)):
    p = reltest.run(2, *args, "--quiet" if args[0] != "inspect" else "--json", expect=1)
    msg = reltest.error_line(p)
    assert shards[1] in msg and "own series" in msg and "weight_map" in msg, msg
    assert not os.path.exists(os.path.join(work, "x.h5"))
    assert not os.path.exists(os.path.join(work, "m.h5"))
    print(f"ok: {args[0]}: {msg}")

# The same folder as Mistral ships it: the index's shards plus a
# consolidated.safetensors that the index does not name.
os.rename(os.path.join(folder, shards[1]), os.path.join(folder, "consolidated.safetensors"))
kept = dict(index)
kept["weight_map"] = {k: shards[0] for k in index["weight_map"]}
kept.pop("metadata", None)
only_first = os.path.join(work, "first")
reltest.run(2, "export", a, only_first, "--quiet", expect=0)
shutil.copy(os.path.join(only_first, "model.safetensors"), os.path.join(folder, shards[0]))
json.dump(kept, open(index_path, "w"))
p = reltest.run(1, "inspect", folder, expect=0)
note = f"note: {folder}: not read, because its index does not list them: consolidated.safetensors"
assert note in p.stdout, p.stdout
p = reltest.run(2, "merge", cfg, "--out", os.path.join(work, "m.h5"), "--dry-run", expect=0)
assert note in p.stdout, p.stdout
print("ok: consolidated.safetensors beside an index is ignored with a note (inspect, dry run)")

# Tensors in HDF5 groups.
grouped = os.path.join(work, "grouped.h5")
with h5py.File(a, "r") as src, h5py.File(grouped, "w") as dst:
    for name in src:
        if isinstance(src[name], h5py.Dataset):
            dst[name.replace(".", "/") if "mlp" in name else name] = src[name][()]
gcfg = reltest.write_config(work, "g.yaml", reltest.interp_text("grouped.h5", "b.h5"))
for args in (("inspect", grouped), ("merge", gcfg, "--out", os.path.join(work, "g.h5"))):
    p = reltest.run(2, *args, expect=1)
    msg = reltest.error_line(p)
    assert "group 'model' holds datasets" in msg and "model/layers/" in msg and \
        "docs/FORMAT.md" in msg, msg
    assert not os.path.exists(os.path.join(work, "g.h5"))
    print(f"ok: {args[0]}: {msg}")
# Groups without datasets (attributes only) stay allowed.
with h5py.File(grouped, "w") as dst, h5py.File(a, "r") as src:
    for name in src:
        if isinstance(src[name], h5py.Dataset):
            dst[name] = src[name][()]
    dst.create_group("notes/more").attrs["who"] = "someone"
reltest.run(1, "inspect", grouped, expect=0)
print("ok: a group without datasets is not an error")
