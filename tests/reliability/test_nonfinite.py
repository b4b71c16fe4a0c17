"""NaN and inf in inputs (--nonfinite, commands/merge/mpb_audit.h).  propagate (the
default) merges them as the arithmetic contract says and reports, per
tensor, how many output elements are not finite -- counted here with numpy
on the reference result, which also covers infinities the arithmetic makes
from finite inputs (an f16 overflow).  error stops the merge, names the
tensor, the input and the value, and leaves no output."""
import json
import os
import re
import shutil
import sys

import h5py
import numpy as np

import mpbtest
import reltest

work = reltest.fresh_dir(sys.argv[1], "nonfinite")
a, b = reltest.make_inputs(work)
poisoned = os.path.join(work, "p.h5")
shutil.copy(b, poisoned)
spots = {"model.layers.1.self_attn.o_proj.weight": [((3, 5), np.nan), ((9, 0), np.inf)],
         "model.layers.3.mlp.down_proj.weight": [((0, 0), -np.inf)],
         "model.norm.weight": [((17,), np.nan)]}
with h5py.File(poisoned, "r+") as f:
    for name, changes in spots.items():
        v = f[name][...]
        for at, value in changes:
            v[at] = value
        f[name][...] = v
names = mpbtest.tensor_names(a)
first_poisoned = sorted(spots)[0]


def expected_counts(inputs, coefs, out_kind=None):
    counts = {}
    for n in names:
        bits, kind = mpbtest.linear_reference(inputs, coefs, n, out_kind)
        bad = int(np.count_nonzero(~np.isfinite(mpbtest.decode(bits, kind))))
        if bad:
            counts[n] = bad
    return counts


def check_propagate(cfg, inputs, coefs, out_kind=None, ranks=2, extra=()):
    out = os.path.join(work, "out.h5")
    p = reltest.run(ranks, "merge", cfg, "--out", out, "--quiet", "--force", *extra, expect=0)
    want = expected_counts(inputs, coefs, out_kind)
    assert want, "the case makes no non-finite output"
    warned = dict(re.findall(r"warning: tensor '([^']+)': (\d+) of \d+ output elements are "
                             r"not finite", p.stderr))
    assert {k: int(v) for k, v in warned.items()} == want, (warned, want, p.stderr)
    with h5py.File(out, "r") as f:
        assert json.loads(f.attrs["mpiblend_nonfinite"]) == want
    for n in names:
        got, kind = reltest.stored_bits(out, n)
        ref, ref_kind = mpbtest.linear_reference(inputs, coefs, n, out_kind)
        assert kind == ref_kind and np.array_equal(got, ref), f"{n} differs from the reference"
    return want


cfg = reltest.write_config(work, "p.yaml", reltest.interp_text("a.h5", "p.h5"))
coefs = [np.float32(1.0 - 0.45), np.float32(0.45)]
for ranks, io in ((1, "independent"), (3, "collective"), (2, "independent")):
    want = check_propagate(cfg, [a, poisoned], coefs, ranks=ranks, extra=("--io", io))
print(f"ok: propagate merges and counts per tensor: {want}")

# Finite inputs, infinite results: f16 overflows.
big = reltest.write_config(work, "big.yaml", "merge_method: linear\nmodels:\n  - model: a.h5\n"
                           "    parameters: {weight: 3000000}\n  - model: b.h5\n"
                           "    parameters: {weight: 1}\nparameters:\n  normalize: false\n"
                           "out_dtype: float16\n")
want = check_propagate(big, [a, b], [np.float32(3000000), np.float32(1)], out_kind="f16")
p = reltest.run(2, "merge", big, "--out", os.path.join(work, "big_err.h5"), "--quiet",
                "--nonfinite", "error", expect=1)
msg = reltest.error_line(p)
assert "gives a non-finite value" in msg and "from finite inputs" in msg, msg
assert not os.path.exists(os.path.join(work, "big_err.h5"))
print(f"ok: overflow to inf is counted ({len(want)} tensors); error mode stops it: {msg}")

# error: stop at the first non-finite input value.
for ranks, io in ((1, "independent"), (2, "collective"), (3, "collective"), (2, "independent")):
    out = os.path.join(work, "err.h5")
    p = reltest.run(ranks, "merge", cfg, "--out", out, "--quiet", "--nonfinite", "error",
                    "--io", io, "--slab-kib", "8", expect=1)
    msg = reltest.error_line(p)
    m = re.search(r"tensor '([^']+)' in '([^']+)' holds a non-finite value \((NaN|\+inf|-inf)\) "
                  r"at element (\d+); stopped by --nonfinite error", msg)
    assert m and m.group(1) in spots and m.group(2) == poisoned, msg
    shape = h5py.File(poisoned, "r")[m.group(1)].shape
    flat = {int(np.ravel_multi_index(at, shape)): v for at, v in spots[m.group(1)]}
    value = flat.get(int(m.group(4)))
    assert value is not None, f"element {m.group(4)} is not one of the poisoned ones: {msg}"
    kind = "NaN" if np.isnan(value) else ("+inf" if value > 0 else "-inf")
    assert m.group(3) == kind, msg
    if io == "collective":  # ranks agree after every tensor: the first in index order
        assert m.group(1) == first_poisoned, msg
    assert not os.path.exists(out) and not reltest.temp_files(work), "output left"
print(f"ok: error mode names the tensor, input and element: {msg}")
p = reltest.run(1, "merge", cfg, "--out", os.path.join(work, "x.h5"), "--nonfinite", "maybe",
                expect=2)
assert "--nonfinite takes 'error' or 'propagate', not 'maybe'" in p.stderr, p.stderr
print("non-finite checks passed")
