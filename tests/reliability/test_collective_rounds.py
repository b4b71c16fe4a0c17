"""--io collective moves data in rounds bounded by bytes, not by tensors.

Two pairs of inputs written by h5py hold the same bytes in 48 and in 480
tensors, created in shuffled order so that file offsets do not follow the
index.  A PMPI shim (transfer_log.c) counts each rank's MPI-IO calls, not
taken from mpiblend.  For both models:
- the dry run states the rounds, at most ceil(total bytes / (ranks x
  slab)) + 1, and the two models' counts differ by at most 1;
- with --aggregate on, each rank makes exactly one MPI_File_read_at_all per
  input and one MPI_File_write_at_all per round, with no file view, and
  HDF5's own collective calls stay a small constant (per-tensor collective
  calls would be 2 x 480 here);
- by default, with every rank on this one node, the same rounds move each
  rank's block in its own MPI_File_write_at/read_at instead, and no
  collective transfer is made;
- each rank's share of a round is one run of consecutive tensors, so in the
  output (which mpiblend lays out in index order) it is one contiguous
  block: no independent writes at all, while the shuffled inputs' pieces
  that lie elsewhere are read independently;
- the output equals numpy's bits and the independent mode's output, through
  OMPIO and through ROMIO (Open MPI 4.1.1-4.1.4's OMPIO is known to return
  wrong data from collective reads of some file views: open-mpi/ompi#10546)."""
import glob
import math
import os
import re
import sys

import h5py
import numpy as np

import mpbtest
import reltest

# Open MPI's two MPI-IO backends; other MPIs (MPICH's ROMIO) their default.
BACKENDS = ((("ompio", ("--mca", "io", "ompio")), ("romio", ("--mca", "io", "romio321")))
            if mpbtest.OPENMPI else (("default", ()),))

work = reltest.fresh_dir(sys.argv[1], "collective_rounds")
shim = os.environ["MPB_TRANSFER_SHIM"]
RANKS, SLAB_KIB, LAM = 2, 256, 0.3
TOTAL = 48 * 64 * 320 * 4  # bytes per input, both models


def write_model(path, n_tensors, seed):
    """n_tensors of 64 x cols float32, TOTAL bytes in all, created (and so
    laid out in the file) in shuffled order."""
    cols = 320 * 48 // n_tensors
    rng = np.random.default_rng(seed)
    with h5py.File(path, "w") as f:
        for t in np.random.default_rng(99).permutation(n_tensors):
            f.create_dataset(f"layers.{t:04d}.weight",
                             data=rng.standard_normal((64, cols)).astype(np.float32))
    return path


def counts(log):
    logs = glob.glob(log + ".*")
    assert len(logs) == RANKS, f"expected one transfer log per rank, found {logs}"
    out = []
    for path in logs:
        fields = open(path).read().split()
        out.append(dict(zip(fields[::2], map(int, fields[1::2]))))
    return out


rounds = {}
for n_tensors in (48, 480):
    sub = reltest.fresh_dir(work, f"m{n_tensors}")
    a = write_model(os.path.join(sub, "a.h5"), n_tensors, 1)
    b = write_model(os.path.join(sub, "b.h5"), n_tensors, 2)
    cfg = reltest.write_config(sub, "cfg.yaml", reltest.interp_text(a, b, LAM))
    common = ("--slab-kib", SLAB_KIB, "--quiet")

    p = reltest.run(RANKS, "merge", cfg, "--out", os.path.join(sub, "dry.h5"), "--io",
                    "collective", "--dry-run", *common, expect=0)
    m = re.search(r"collective transfers in (\d+) rounds?", p.stdout)
    assert m, p.stdout
    r = rounds[n_tensors] = int(m.group(1))
    ideal = math.ceil(TOTAL / (RANKS * SLAB_KIB * 1024))
    assert r <= ideal + 1, f"{n_tensors} tensors: {r} rounds, over {ideal} + 1"
    print(f"ok: {n_tensors} tensors: the dry run states {r} rounds (ideal {ideal})")

    ref = os.path.join(sub, "independent.h5")
    reltest.run(RANKS, "merge", cfg, "--out", ref, "--io", "independent", *common, expect=0)
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb, h5py.File(ref, "r") as fo:
        for name in fa:
            want = (np.float32(1 - LAM) * fa[name][()] + np.float32(LAM) * fb[name][()])
            assert np.array_equal(fo[name][()].view(np.uint32),
                                  want.astype(np.float32).view(np.uint32)), name

    def collective_run(backend, mca, *extra):
        """The merge with --io collective under the shim: its per-rank counts."""
        out = os.path.join(sub, f"collective_{backend}{''.join(extra)}.h5")
        log = os.path.join(sub, f"calls_{backend}{''.join(extra)}")
        shim_env = {"LD_PRELOAD": shim, "MPB_TRANSFER_LOG": log}
        if mpbtest.OPENMPI:  # Open MPI's mpirun passes on only what -x names
            mca += tuple(a for k, v in shim_env.items() for a in ("-x", f"{k}={v}"))
        reltest.run(RANKS, "merge", cfg, "--out", out, "--io", "collective", *extra, *common,
                    mca=mca, env=None if mpbtest.OPENMPI else shim_env, expect=0)
        reltest.run(1, "diff", ref, out, expect=0)
        return counts(log)

    for backend, mca in BACKENDS:
        by_default = collective_run(backend, mca)
        for c in by_default:
            assert c["read_all"] + c["write_all"] + c["read_at_all"] + c["write_at_all"] <= 2, \
                (backend, "one node: no collective transfer expected", c)
            assert c["write_at"] >= r, (backend, n_tensors, r, c)
        print(f"ok: {n_tensors} tensors, {backend}, one node: {r} rounds without collective "
              f"transfers ({min(c['write_at'] for c in by_default)}+ own writes per rank)")
        aggregated = collective_run(backend, mca, "--aggregate", "on")
        for c in aggregated:
            assert c["read_all"] == 0 and c["write_all"] == 0, (backend, n_tensors, c)
            assert 2 * r <= c["read_at_all"] <= 2 * r + 8, (backend, n_tensors, r, c)
            assert r <= c["write_at_all"] <= r + 8, (backend, n_tensors, r, c)
            assert c["write_at"] <= 4, (backend, n_tensors, c)
            assert 0 < c["read"] <= TOTAL and 0 < c["write"] <= TOTAL, (backend, c)
        print(f"ok: {n_tensors} tensors, {backend}: {r} rounds = per rank {2 * r} "
              f"read_at_all + {r} write_at_all calls, one block each in the output "
              f"({max(c['write_at'] for c in aggregated)} independent writes, "
              f"{max(c['read_at'] for c in aggregated)} independent reads of shuffled "
              f"inputs); same bits as independent and numpy")

assert abs(rounds[480] - rounds[48]) <= 1, f"rounds grow with the tensor count: {rounds}"
print(f"ok: 10x the tensors, same bytes: {rounds[48]} and {rounds[480]} rounds")
