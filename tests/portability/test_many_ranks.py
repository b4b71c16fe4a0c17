"""8 ranks with shared memory turned off, standing in for ranks on different
nodes: Open MPI with --mca btl self,tcp (MPICH: MPIR_CVAR_NOLOCAL=1, which
makes every rank treat the others as remote).  A merge, a sweep and a TIES
merge whose tensors are split across the ranks (7 KiB slabs) must write the
same bits as one rank."""
import glob
import os
import re
import shutil
import subprocess
import sys

import h5py
import numpy as np

import mpbtest

work = sys.argv[1]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
for seed, name in ((1, "a"), (2, "b"), (3, "c")):
    mpbtest.run(2, "synth", "--arch", "tiny", "--seed", seed, "--quiet",
                os.path.join(work, f"{name}.h5"), expect=0)
interp = mpbtest.write_text(work, "interp.yaml",
                            "merge_method: interpolate\nmodels:\n  - model: a.h5\n"
                            "  - model: b.h5\nparameters:\n  lambda: 0.45\n")
ties = mpbtest.write_text(work, "ties.yaml",
                          "merge_method: ties\nbase_model: a.h5\nmodels:\n"
                          "  - model: b.h5\n    parameters: {weight: 0.6, density: 0.3}\n"
                          "  - model: c.h5\n    parameters: {weight: 0.4, density: 0.5}\n")
sweep = mpbtest.write_text(work, "sweep.yaml",
                           "merge_method: interpolate\nmodels:\n  - model: a.h5\n"
                           "  - model: b.h5\nparameters:\n  lambda: 0.5\nsweep:\n"
                           "  output: mi-{lambda}.h5\n  parameters:\n"
                           "    lambda: [0.2, 0.45, 0.8]\n")

if mpbtest.OPENMPI:
    off_shm, env = ("--mca", "btl", "self,tcp"), {"OMPI_MCA_mpi_yield_when_idle": "1"}
else:
    off_shm, env = (), {"MPIR_CVAR_NOLOCAL": "1"}


def run(np_, *args):
    """mpiblend under mpiexec; 8 ranks go through TCP alone."""
    cmd = mpbtest.MPIEXEC + [str(np_)] + mpbtest.PREFLAGS + \
        (list(off_shm) if np_ > 1 else []) + [mpbtest.BINARY] + [str(a) for a in args]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600,
                               env=dict(os.environ, **env))
    assert p.returncode == 0, f"{' '.join(cmd)}: {p.returncode}\n{p.stdout}\n{p.stderr}"
    return p


def tensors(path):
    with h5py.File(path, "r") as f:
        return {k: np.asarray(f[k][()]).tobytes() for k in f if isinstance(f[k], h5py.Dataset)}


def same_bits(one, many):
    a, b = tensors(one), tensors(many)
    assert sorted(a) == sorted(b), (one, many)
    differ = [k for k in a if a[k] != b[k]]
    assert not differ, f"{many} differs from {one} in {differ[:5]}"
    return len(a)


outputs = {}
for np_ in (1, 8):
    d = os.path.join(work, f"np{np_}")
    os.makedirs(d)
    run(np_, "merge", interp, "--out", os.path.join(d, "interp.h5"), "--quiet", "--slab-kib", 7)
    run(np_, "merge", ties, "--out", os.path.join(d, "ties.h5"), "--quiet", "--slab-kib", 7,
        "--io", "independent")
    run(np_, "sweep", sweep, "--out-dir", os.path.join(d, "sweep"), "--quiet", "--slab-kib", 7)
    outputs[np_] = d

# The slabs really split tensors across the 8 ranks: the plan has several
# items per tensor, and every rank holds some.
plan = run(8, "merge", ties, "--out", os.path.join(work, "plan.h5"), "--slab-kib", 7,
           "--dry-run").stdout
m = re.search(r"plan: (\d+) tensors, (\d+) items .* over 8 ranks", plan)
assert m and int(m.group(2)) >= 4 * int(m.group(1)), plan
assert len(re.findall(r"rank \d: [1-9]\d* items", plan)) == 8, plan
one, many = outputs[1], outputs[8]
for name in ("interp.h5", "ties.h5"):
    n = same_bits(os.path.join(one, name), os.path.join(many, name))
    print(f"ok: {name}: {n} tensors bitwise equal, 1 rank vs 8 ranks without shared memory")
points = sorted(os.path.basename(p) for p in glob.glob(os.path.join(one, "sweep", "*.h5")))
assert len(points) == 3, points
for name in points:
    n = same_bits(os.path.join(one, "sweep", name), os.path.join(many, "sweep", name))
    print(f"ok: sweep point {name}: {n} tensors bitwise equal")
print("many-rank checks passed")
