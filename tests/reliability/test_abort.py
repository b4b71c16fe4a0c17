"""A rank dies mid-merge (MPB_TEST_ABORT_RANK / MPB_TEST_ABORT_AFTER make it
call MPI_Abort after N items): the job exits non-zero, nothing appears under
the final name, an existing output there is untouched, and a rerun
succeeds.  The dead job's temporary file stays where it was: mpiblend never
deletes a temporary file it did not create, since another running job may
own it (docs/RELIABILITY.md)."""
import os
import sys

import numpy as np

import mpbtest
import reltest

work = reltest.fresh_dir(sys.argv[1], "abort")
a, b = reltest.make_inputs(work)
cfg = reltest.write_config(work, "interp.yaml", reltest.interp_text("a.h5", "b.h5"))
lam = 0.45
coefs = [np.float32(1.0 - lam), np.float32(lam)]


def check_merged(path):
    for name in mpbtest.tensor_names(a):
        want, kind = mpbtest.linear_reference([a, b], coefs, name)
        got, got_kind = mpbtest.raw_bits(path, name)
        assert got_kind == kind and np.array_equal(got, want), f"{path}: {name} is wrong"


def abort_env(rank, after):
    return {"MPB_TEST_ABORT_RANK": str(rank), "MPB_TEST_ABORT_AFTER": str(after)}


# 48 items of at most 16 KiB over 2 ranks: the abort comes mid-merge.
slab = ("--slab-kib", "16")
for rank in (0, 1):
    for io in ("independent", "collective"):
        case = f"rank {rank} dies, {io} transfers"
        out = os.path.join(work, f"new_{rank}_{io}.h5")
        before = set(reltest.temp_files(work))
        p = reltest.run(2, "merge", cfg, "--out", out, "--quiet", "--io", io, *slab,
                        env=abort_env(rank, 3), expect="nonzero")
        assert not os.path.lexists(out), f"{case}: '{out}' exists after the abort"
        left = sorted(set(reltest.temp_files(work)) - before)
        assert len(left) == 1 and os.path.basename(out) in left[0], \
            f"{case}: expected the dead job's temporary file, found {left}"

        # An existing output under the final name is not touched, even with --force.
        with open(out, "wb") as f:
            f.write(b"an earlier output, precious")
        kept = reltest.digest(out)
        reltest.run(2, "merge", cfg, "--out", out, "--quiet", "--force", "--io", io, *slab,
                    env=abort_env(rank, 3), expect="nonzero")
        assert reltest.digest(out) == kept, f"{case}: the existing output was modified"

        # The rerun succeeds and leaves the dead jobs' temporary files alone.
        stale = reltest.temp_files(work)
        reltest.run(2, "merge", cfg, "--out", out, "--quiet", "--force", "--io", io, *slab,
                    expect=0)
        check_merged(out)
        assert reltest.temp_files(work) == stale, "the rerun changed other temporary files"
        print(f"ok: {case}: exit {p.returncode}, no output, existing output kept, rerun ok")

# Removing the stale files by hand (no job writes here now) is safe.
for path in reltest.temp_files(work):
    os.unlink(path)
print("abort checks passed")
