"""Every merge output of the matrix (1-4 ranks, both I/O modes, slabs that
split tensors) must equal the others bit for bit and equal a serial numpy
reference of the arithmetic contract."""
import glob
import os
import sys

import numpy as np

import mpbtest

work = sys.argv[1]


def check(pattern, inputs, coefs, out_kind=None, expect_files=1):
    files = sorted(glob.glob(os.path.join(work, pattern)))
    assert len(files) >= expect_files, f"expected {expect_files} outputs for {pattern}, found {files}"
    names = mpbtest.tensor_names(inputs[0])
    for name in names:
        want, kind = mpbtest.linear_reference(inputs, coefs, name, out_kind)
        for f in files:
            got, got_kind = mpbtest.raw_bits(f, name)
            assert got_kind == kind, f"{f}: {name} stored as {got_kind}, expected {kind}"
            if not np.array_equal(got, want):
                bad = np.count_nonzero(got != want)
                raise AssertionError(f"{f}: tensor {name}: {bad} elements differ from the reference")
    print(f"{pattern}: {len(files)} outputs x {len(names)} tensors match the reference")


a, b, c = (os.path.join(work, n) for n in ("a.h5", "b.h5", "c.h5"))
lam = 0.45
check("interp_np*.h5", [a, b], [np.float32(1.0 - lam), np.float32(lam)], expect_files=11)
w = [0.2, 0.3, 0.5]
check("linear3_np*.h5", [a, b, c], [np.float32(x / sum(w)) for x in w], out_kind="f32",
      expect_files=2)
check("unnorm_np*.h5", [a, b], [np.float32(1.5), np.float32(-0.5)], out_kind="f16",
      expect_files=2)
