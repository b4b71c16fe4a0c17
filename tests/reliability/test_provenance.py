"""Checksums a merge records (commands/merge/mpb_audit.h) and what verify does with
them.  The values are recomputed here by an independent CRC-32C over the
tensors' stored bytes: the output's over every tensor, each input's over the
tensors the merge read from it.  They must not depend on the rank count,
the transfer mode or the slab size; verify must notice damaged outputs and
inputs changed since the merge; a merge must refuse an input whose data no
longer matches the checksum it carries."""
import json
import os
import shutil
import sys

import h5py

import mpbtest
import reltest

work = reltest.fresh_dir(sys.argv[1], "provenance")
a, b = reltest.make_inputs(work)
names = mpbtest.tensor_names(a)


def attrs(path):
    with h5py.File(path, "r") as f:
        return {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()}


crc_of = reltest.tensor_data_crc


cfg = reltest.write_config(work, "interp.yaml", reltest.interp_text("a.h5", "b.h5"))
want_inputs = [crc_of(a, names), crc_of(b, names)]
first = None
for ranks, io, slab in ((1, "independent", "64"), (2, "collective", "7"), (3, "independent", "7"),
                        (4, "collective", "48")):
    out = os.path.join(work, f"interp_{ranks}.h5")
    reltest.run(ranks, "merge", cfg, "--out", out, "--quiet", "--io", io, "--slab-kib", slab,
                expect=0)
    got = attrs(out)
    assert got["mpiblend_checksum"] == crc_of(out, names), (out, got["mpiblend_checksum"])
    assert json.loads(got["mpiblend_input_checksums"]) == want_inputs, got
    assert got["mpiblend_nonfinite"] == "{}", got["mpiblend_nonfinite"]
    first = first or got["mpiblend_checksum"]
    assert got["mpiblend_checksum"] == first, "the checksum depends on the rank count"
print(f"ok: output {first} and input checksums match an independent CRC-32C, 1-4 ranks")

# layer_range: b is read for layers 1-2 only; everything else comes from a.
layers = reltest.write_config(work, "layers.yaml", reltest.interp_text("a.h5", "b.h5", 0.8) +
                              "layer_range: [1, 2]\nkeep_outside: a.h5\n")
out = os.path.join(work, "layers.h5")
reltest.run(2, "merge", layers, "--out", out, "--quiet", expect=0)
inside = [n for n in names if ".layers.1." in n or ".layers.2." in n]
assert json.loads(attrs(out)["mpiblend_input_checksums"]) == [crc_of(a, names), crc_of(b, inside)]
p = reltest.run(3, "verify", out, "--config", layers, expect=0)
assert "input checksums  ok: 2 of 2 inputs unchanged since the merge" in p.stdout, p.stdout
print("ok: an input's checksum covers exactly the tensors read from it")

# verify: honest, damaged output, changed input.
out = os.path.join(work, "interp_2.h5")
p = reltest.run(2, "verify", out, "--config", cfg, expect=0)
for line in ("data checksum    ok", "input checksums  ok", "samples          ok"):
    assert line in p.stdout, p.stdout
damaged = os.path.join(work, "damaged.h5")
shutil.copy(out, damaged)
with h5py.File(damaged, "r") as f:
    offset = f["model.layers.1.mlp.up_proj.weight"].id.get_offset() + 4096
with open(damaged, "r+b") as f:
    f.seek(offset)
    f.write(bytes([0xA5]) * 64)
p = reltest.run(2, "verify", damaged, expect=1)
msg = reltest.error_line(p)
assert f"'{damaged}': data checksum crc32c:" in msg and "changed after it was written" in msg, msg
print(f"ok: verify finds damaged data: {msg}")
changed_b = os.path.join(work, "b_changed.h5")
shutil.copy(b, changed_b)
with h5py.File(changed_b, "r+") as f:
    d = f["model.norm.weight"]
    v = d[...]
    v[0] = v[0] * 2
    d[...] = v
cfg2 = reltest.write_config(work, "interp2.yaml", reltest.interp_text("a.h5", "b_changed.h5"))
moved = os.path.join(work, "moved.h5")
shutil.copy(out, moved)  # made from b.h5, checked against b_changed.h5
p = reltest.run(2, "verify", moved, "--config", cfg2, expect=1)
msg = reltest.error_line(p)
assert f"input '{changed_b}' changed since the merge" in msg, msg
print(f"ok: verify notices a changed input: {msg}")

# An input that carries a checksum and was damaged later is refused.
cfg3 = reltest.write_config(work, "use_damaged.yaml", reltest.interp_text("a.h5", "damaged.h5"))
for ranks in (1, 3):
    target = os.path.join(work, "from_damaged.h5")
    p = reltest.run(ranks, "merge", cfg3, "--out", target, "--quiet", expect=1)
    msg = reltest.error_line(p)
    assert f"input '{damaged}' is damaged" in msg, msg
    assert not os.path.exists(target) and not reltest.temp_files(work), "output left"
print(f"ok: the merge refuses a damaged input: {msg}")
print("provenance checks passed")
