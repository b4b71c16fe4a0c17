"""verify and diff on merges of several kinds (docs/RELIABILITY.md).

verify --config recomputes sampled elements from the inputs and must
accept every honest output, with any rank count, and name the element a
deliberate one-ulp change hides in; it refuses methods it cannot recompute.
diff must call identical files identical, count exactly the elements changed
here, report their largest absolute and ulp differences as numpy computes
them, and honour --tolerance."""
import os
import re
import shutil
import sys

import h5py
import numpy as np

import mpbtest
import reltest

work = reltest.fresh_dir(sys.argv[1], "verify_diff")
a, b, c = reltest.make_inputs(work, seeds=(1, 2, 3))
configs = {
    "interp": reltest.interp_text("a.h5", "b.h5"),
    "linear3_f32": "merge_method: linear\nmodels:\n  - model: a.h5\n    parameters: {weight: 0.2}\n"
                   "  - model: b.h5\n    parameters: {weight: 0.3}\n  - model: c.h5\n"
                   "    parameters: {weight: 0.5}\nout_dtype: float32\n",
    "task": "merge_method: task_arithmetic\nbase_model: a.h5\nmodels:\n  - model: b.h5\n"
            "    parameters: {weight: 0.7}\n  - model: c.h5\n    parameters: {weight: 0.7}\n",
    "layers": reltest.interp_text("a.h5", "b.h5", 0.8) + "layer_range: [1, 2]\nkeep_outside: a.h5\n",
    "passthrough": "merge_method: passthrough\nmodels:\n  - model: c.h5\nout_dtype: float16\n",
}
outs = {}
for name, text in configs.items():
    cfg = reltest.write_config(work, f"{name}.yaml", text)
    out = os.path.join(work, f"{name}.h5")
    reltest.run(3, "merge", cfg, "--out", out, "--quiet", "--slab-kib", "20", expect=0)
    outs[name] = (cfg, out)
    for ranks in (1, 2, 4):
        p = reltest.run(ranks, "verify", out, "--config", cfg, expect=0)
        assert re.search(r"samples +ok: \d+ elements of 46 tensors recomputed from \d inputs, "
                         r"0 differ", p.stdout), p.stdout
        assert p.stdout.rstrip().endswith("verify: ok"), p.stdout
    print(f"ok: verify accepts the {name} merge with 1, 2 and 4 ranks")

# One element one ulp off: every element sampled finds it, by name and place.
cfg, out = outs["interp"]
bad = os.path.join(work, "bad.h5")
shutil.copy(out, bad)
name, row, col = "model.layers.2.mlp.up_proj.weight", 77, 5
bits, kind = mpbtest.raw_bits(bad, name)
assert kind == "bf16"
orig = int(bits[row, col])
changed = bits.copy()
changed[row, col] = orig + 1
with h5py.File(bad, "r+") as f:
    f[name][...] = mpbtest.decode(changed, kind).reshape(bits.shape)
element = row * bits.shape[1] + col
p = reltest.run(2, "verify", bad, "--config", cfg, "--sample", "1000000000", expect=1)
msg = reltest.error_line(p)
want = (f"tensor '{name}' element {element} (row {row}): stored bits 0x{orig + 1:04x}, "
        f"but the inputs give 0x{orig:04x} (bf16)")
assert want in p.stdout, f"expected {want!r} in:\n{p.stdout}\n{msg}"
assert re.search(r"samples +FAILED: 918912 elements of 46 tensors recomputed from 2 inputs, "
                 r"1 differ", p.stdout), p.stdout
print(f"ok: verify names the changed element: {want}")

# Methods verify cannot recompute yet are refused, not waved through.
ties = reltest.write_config(work, "ties.yaml", configs["task"].replace("task_arithmetic", "ties")
                            .replace("weight: 0.7}", "weight: 0.7, density: 0.5}"))
tied = os.path.join(work, "ties.h5")
reltest.run(2, "merge", ties, "--out", tied, "--quiet", expect=0)
p = reltest.run(2, "verify", tied, "--config", ties, expect=1)
assert "verify supports linear, interpolate, passthrough, task_arithmetic, nearswap and ram for now, not 'ties'" \
    in reltest.error_line(p)
print("ok: verify refuses methods it cannot recompute")

# diff: identical, one element changed, tolerance.
twin = os.path.join(work, "twin.h5")
reltest.run(1, "merge", cfg, "--out", twin, "--quiet", "--io", "collective", expect=0)
p = reltest.run(3, "diff", out, twin, expect=0)
assert "diff: identical tensor data (46 tensors, 918912 elements)" in p.stdout, p.stdout
p = reltest.run(3, "diff", out, bad, expect=1)
diff_abs = abs(float(mpbtest.decode(np.array([orig + 1], np.uint16), "bf16")[0]) -
               float(mpbtest.decode(np.array([orig], np.uint16), "bf16")[0]))
row_re = re.compile(rf"^{re.escape(name)} +bf16 +1/49152 +(\S+) +1$", re.M)
m = row_re.search(p.stdout)
assert m and float(m.group(1)) == float(f"{diff_abs:.5g}"), p.stdout
assert "diff: 1 of 46 tensors differ (1 of 918912 elements)" in p.stdout, p.stdout
assert f"'{out}' and '{bad}' differ in 1 of 46 tensors" in reltest.error_line(p)
reltest.run(2, "diff", out, bad, "--tolerance", f"{diff_abs * 1.01!r}", expect=0)
reltest.run(2, "diff", out, bad, "--tolerance", f"{diff_abs * 0.99!r}", expect=1)
p = reltest.run(2, "diff", a, outs["linear3_f32"][1], expect=1)
assert "has dtype bf16" in reltest.error_line(p)
print(f"ok: diff counts 1 element, max abs {diff_abs:.5g}, 1 ulp; --tolerance works")
print("verify and diff checks passed")
