"""A process that a launcher started as one of several ranks but that MPI
sees alone (the binary was built against another MPI than the launcher's)
stops before touching any file, and says why.  First with each launcher's
variables set by hand on a single process, then, when the other MPI family's
mpiexec is installed, with that launcher starting two ranks for real."""
import os
import shutil
import subprocess
import sys

import mpbtest

work = sys.argv[1]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
# Without a launcher's variables (as ctest runs it) the binary runs alone.
clean = {k: v for k, v in os.environ.items()
         if not k.startswith(("OMPI_COMM_WORLD_", "PMI_", "PMIX_", "MPI_LOCAL", "SLURM_"))}


def synth(env, out_dir, prefix=()):
    out = os.path.join(out_dir, "out.h5")
    cmd = list(prefix) + [mpbtest.BINARY, "synth", "--arch", "tiny", "--seed", "1", "--quiet", out]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)


def expect_refusal(p, out_dir, var, shown=True):
    files = os.listdir(out_dir)
    assert p.returncode == 1 and files == [], (var, p.returncode, files, p.stderr)
    if shown:
        assert f"({var}" in p.stderr and "MPI_Comm_size 1" in p.stderr and \
            "built against another MPI library than the launcher's" in p.stderr, p.stderr
    else:  # the launcher's rank 0 reports; the others only stop
        assert p.stderr == "", p.stderr


cases = [  # variables, the one the message names, whether this process reports
    ({"PMI_SIZE": "2", "PMI_RANK": "0"}, "PMI_SIZE=2", True),
    ({"OMPI_COMM_WORLD_SIZE": "2", "OMPI_COMM_WORLD_RANK": "0"}, "OMPI_COMM_WORLD_SIZE=2", True),
    ({"MPI_LOCALNRANKS": "4"}, "MPI_LOCALNRANKS=4", True),
    ({"SLURM_STEP_NUM_TASKS": "3", "SLURM_PROCID": "0"}, "SLURM_STEP_NUM_TASKS=3", True),
    ({"PMIX_RANK": "1"}, "PMIX_RANK=1", False),
    ({"PMI_SIZE": "2", "PMI_RANK": "1"}, "PMI_SIZE=2", False),
]
for i, (variables, named, shown) in enumerate(cases):
    out_dir = os.path.join(work, f"case{i}")
    os.makedirs(out_dir)
    expect_refusal(synth(dict(clean, **variables), out_dir), out_dir, named, shown)
    print(f"ok: refused with {variables}")

# Controls: a launcher that started one rank, and the nearest launcher's count
# winning over an enclosing Slurm step (mpirun -np 1 inside srun's job).
for i, variables in enumerate([{}, {"PMI_SIZE": "1"}, {"PMIX_RANK": "0"},
                               {"OMPI_COMM_WORLD_SIZE": "1", "SLURM_STEP_NUM_TASKS": "4",
                                "SLURM_PROCID": "0"}]):
    out_dir = os.path.join(work, f"alone{i}")
    os.makedirs(out_dir)
    p = synth(dict(clean, **variables), out_dir)
    assert p.returncode == 0 and os.listdir(out_dir) == ["out.h5"], (variables, p.stderr)
    print(f"ok: runs alone with {variables or 'no launcher variables'}")

# The real mismatch: the other MPI family's launcher starting this binary.
other = os.environ.get("MPB_OTHER_MPIEXEC", "")
if other:
    out_dir = os.path.join(work, "other_launcher")
    os.makedirs(out_dir)
    env = dict(clean)
    if "openmpi" in os.path.basename(other):  # root, as CI runs
        env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    p = synth(env, out_dir, prefix=(other, "-n", "2"))
    assert p.returncode != 0 and os.listdir(out_dir) == [], (p.returncode, p.stderr)
    refusals = [l for l in p.stderr.splitlines() if "another MPI library" in l]
    assert len(refusals) == 1, p.stderr  # reported once, by the launcher's rank 0
    print(f"ok: {os.path.basename(other)} -n 2 is refused: {refusals[0][:150]}...")
else:
    print("note: no other MPI family's mpiexec installed; the launchers' variables were set by hand")
print("lone-rank checks passed")
