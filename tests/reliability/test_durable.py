"""Resume trusts only data that still matches its checksum (issue 17, item
4): with 1 MiB of a done point's tensor data zeroed, the rerun recomputes
every done point's data checksum and redoes that point (HDF5 and
safetensors outputs); the small files a sweep and eval write (manifest.*,
results.csv, point-N.json) follow the umask."""
import json
import os
import stat
import struct
import sys

import h5py

import reltest

work = reltest.fresh_dir(sys.argv[1], "durable")
reltest.make_inputs(work)
cfg = reltest.write_sweep_config(work, "p-{lambda}", [0, 0.5, 1])
MIB = 1 << 20


def zero_h5(path):
    """Zeroes 1 MiB of tensor bytes, largest tensors first."""
    spans = []
    with h5py.File(path, "r") as f:
        for name, d in f.items():
            if isinstance(d, h5py.Dataset) and d.id.get_offset() is not None:
                spans.append((d.nbytes, d.id.get_offset()))
    left = MIB
    with open(path, "r+b") as f:
        for size, offset in sorted(spans, reverse=True):
            n = min(size, left)
            f.seek(offset)
            f.write(b"\0" * n)
            left -= n
            if left == 0:
                break
    assert left == 0, f"{path} holds less than 1 MiB of tensor data"


def zero_st(folder):
    """Zeroes 1 MiB of the data buffers of a safetensors folder's shards."""
    left = MIB
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".safetensors") or left == 0:
            continue
        path = os.path.join(folder, name)
        with open(path, "r+b") as f:
            header = struct.unpack("<Q", f.read(8))[0]
            n = min(os.path.getsize(path) - 8 - header, left)
            f.seek(8 + header)
            f.write(b"\0" * n)
            left -= n
    assert left == 0, f"{folder} holds less than 1 MiB of tensor data"


for fmt, suffix, zero in (("hdf5", ".h5", zero_h5), ("safetensors", "", zero_st)):
    out = os.path.join(work, f"out-{fmt}")
    text = open(cfg).read().replace('"p-{lambda}"', f'"p-{{lambda}}{suffix}"')
    c = reltest.write_config(work, f"sweep-{fmt}.yaml", text)
    p = reltest.run(2, "sweep", c, "--out-dir", out, "--quiet", "--format", fmt, expect=0)
    assert "0 complete, 3 to write" in p.stdout, p.stdout
    victim = os.path.join(out, f"p-0.5{suffix}")
    keep = os.path.join(out, f"p-1{suffix}")
    kept_before = os.stat(keep).st_mtime_ns
    zero(victim)
    p = reltest.run(2, "sweep", c, "--out-dir", out, "--quiet", "--format", fmt, expect=0)
    assert "2 complete, 1 to write" in p.stdout, \
        f"{fmt}: the zeroed point was not redone:\n{p.stdout}"
    assert os.stat(keep).st_mtime_ns == kept_before, f"{fmt}: an intact point was rewritten"
    with open(os.path.join(out, "manifest.json")) as f:
        rows = {r["path"]: r for r in json.load(f)["points"]}
    assert all(r["status"] == "done" for r in rows.values()), rows
    if fmt == "hdf5":
        reltest.run(2, "verify", victim, expect=0)
    print(f"ok: {fmt}: 1 MiB zeroed in a done point; the rerun redid exactly that point")

# Sweep and eval files follow the umask.
for mask in (0o002, 0o027):
    out = os.path.join(work, f"umask-{mask:03o}")
    old = os.umask(mask)
    try:
        reltest.run(2, "sweep", cfg, "--out-dir", out, "--quiet", expect=0)
        reltest.run(1, "eval", out, "--metric", "m", "--cmd", "echo 1", expect=0)
    finally:
        os.umask(old)
    files = [os.path.join(out, n) for n in ("manifest.json", "manifest.csv", "results.csv")]
    files += [os.path.join(out, "eval", "m", "point-0.json")]
    for path in files:
        mode = stat.S_IMODE(os.stat(path).st_mode)
        assert mode == 0o666 & ~mask, f"{path}: mode {mode:03o} under umask {mask:03o}"
print("ok: manifest.*, results.csv and point-N.json follow the umask (002, 027)")
