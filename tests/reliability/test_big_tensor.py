"""Tensors larger than 2 GiB (slow: about 7 GB of disk, a minute or two).
synth's big-embedding architecture holds a 139264 x 8192 bf16 embedding
(2.28 GB).  A merge with --slab-mib 1024 must move it in pieces of at most
1 GiB per MPI-IO call -- recorded by an LD_PRELOAD shim on MPI_File_*_at,
not taken from mpiblend -- on both MPI-IO backends, and get it right: rows
compared with numpy, and the two backends' outputs, with both transfer
modes, identical.  verify then reads it all back for its checksums."""
import glob
import os
import shutil
import sys

import h5py
import numpy as np

import mpbtest
import reltest

work = reltest.fresh_dir(sys.argv[1], "big_tensor")
if shutil.disk_usage(work).free < 10 * 10**9:
    reltest.skip(f"needs 10 GB free in {work}")
shim = os.environ["MPB_TRANSFER_SHIM"]
GiB = 1 << 30
try:
    x, y = (os.path.join(work, n) for n in ("x.h5", "y.h5"))
    for path, seed in ((x, 1), (y, 2)):
        reltest.run(2, "synth", "--arch", "big-embedding", "--seed", seed, "--slab-mib", "1024",
                    "--quiet", path, expect=0, timeout=900)
    name = "model.embed_tokens.weight"
    with h5py.File(x, "r") as f:
        shape = f[name].shape
    assert shape[0] * shape[1] * 2 > 2 * GiB, f"{name} {shape} is not past 2 GiB"
    cfg = reltest.write_config(work, "big.yaml", reltest.interp_text("x.h5", "y.h5", 0.3))

    p = reltest.run(2, "merge", cfg, "--out", os.path.join(work, "plan.h5"), "--slab-mib", "1024",
                    "--dry-run", expect=0)
    largest = [l for l in p.stdout.splitlines() if "largest item" in l]
    assert largest and float(largest[0].split()[2]) <= 1024.0, p.stdout

    outs = []
    for backend, mca, io in (("ompio", ("--mca", "io", "ompio"), "independent"),
                             ("romio", ("--mca", "io", "romio321"), "collective")):
        out = os.path.join(work, f"out_{backend}.h5")
        log = os.path.join(work, f"transfers_{backend}")
        reltest.run(2, "merge", cfg, "--out", out, "--slab-mib", "1024", "--io", io,
                    *(("--aggregate", "on") if io == "collective" else ()), "--quiet",
                    mca=mca + ("-x", f"LD_PRELOAD={shim}", "-x", f"MPB_TRANSFER_LOG={log}"),
                    expect=0, timeout=900)
        logs = glob.glob(log + ".*")
        assert len(logs) == 2, f"{backend}: expected one transfer log per rank, found {logs}"
        for path in logs:
            fields = open(path).read().split()
            most = dict(zip(fields[::2], map(int, fields[1::2])))
            assert 0 < most["read"] <= GiB and 0 < most["write"] <= GiB, (backend, most)
        print(f"ok: {backend} ({io}): largest MPI-IO transfer per rank "
              f"{max(int(open(p).read().split()[3]) for p in logs) / GiB:.2f} GiB")
        outs.append(out)

    # Rows at both ends, around every 1 GiB boundary and at random, against numpy.
    rng = np.random.default_rng(5)
    per_gib = GiB // (shape[1] * 2)
    rows = {0, 1, shape[0] - 1}
    for k in range(1, 3):
        rows |= {k * per_gib - 1, k * per_gib, shape[0] * k // 3 - 1, shape[0] * k // 3}
    rows = sorted(rows | set(int(r) for r in rng.integers(0, shape[0], 64)))

    def bits(path):
        with h5py.File(path, "r") as f:
            return (f[name][rows].astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)

    xs, ys = (mpbtest.decode(bits(p), "bf16") for p in (x, y))
    want = mpbtest.encode((np.float32(1.0 - 0.3) * xs + np.float32(0.3) * ys).astype(np.float32),
                          "bf16")
    for out in outs:
        assert np.array_equal(bits(out), want), f"{out}: sampled rows differ from numpy"
    print(f"ok: {len(rows)} rows of the embedding match numpy")
    reltest.run(2, "diff", outs[0], outs[1], expect=0, timeout=900)
    reltest.run(2, "verify", outs[0], "--config", cfg, "--sample", "64", expect=0, timeout=900)
    print("ok: the backends' outputs are identical; verify passes")
finally:
    shutil.rmtree(work, ignore_errors=True)
print("big tensor checks passed")
