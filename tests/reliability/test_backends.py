"""Both MPI-IO backends of Open MPI 4.1 (OMPIO, the default, and ROMIO via
--mca io romio321) write the same bits: the merge matrix (1-4 ranks,
collective and independent transfers, slabs that split tensors, three
configs) and synth, each output equal to a serial numpy reference and to
the other backend's output.  Also checks verify and diff across backends."""
import os
import sys

import numpy as np

import mpbtest
import reltest

work = reltest.fresh_dir(sys.argv[1], "backends")
a, b = reltest.make_inputs(work)
c = os.path.join(work, "c.h5")
BACKENDS = {"ompio": ("--mca", "io", "ompio"), "romio": ("--mca", "io", "romio321")}
reltest.run(3, "synth", "--arch", "tiny", "--seed", "3", "--quiet", "--io", "collective", c,
            mca=BACKENDS["romio"], expect=0)
configs = {
    "interp": (reltest.interp_text("a.h5", "b.h5"), [a, b],
               [np.float32(1.0 - 0.45), np.float32(0.45)], None),
    "linear3": ("merge_method: linear\nmodels:\n  - model: a.h5\n    parameters: {weight: 0.2}\n"
                "  - model: b.h5\n    parameters: {weight: 0.3}\n  - model: c.h5\n"
                "    parameters: {weight: 0.5}\nout_dtype: float32\n", [a, b, c],
                [np.float32(x / sum((0.2, 0.3, 0.5))) for x in (0.2, 0.3, 0.5)], "f32"),
    "unnorm": ("merge_method: linear\nmodels:\n  - model: a.h5\n    parameters: {weight: 1.5}\n"
               "  - model: b.h5\n    parameters: {weight: -0.5}\nparameters:\n"
               "  normalize: false\nout_dtype: float16\n", [a, b],
               [np.float32(1.5), np.float32(-0.5)], "f16"),
}
matrix = [("interp", np_, io, "48") for np_ in (1, 2, 3, 4) for io in ("collective", "independent")]
matrix += [("linear3", 3, "collective", "7"), ("linear3", 2, "independent", "7"),
           ("unnorm", 4, "collective", "20"), ("unnorm", 1, "independent", "100")]
names = mpbtest.tensor_names(a)
for cfg_name, (text, inputs, coefs, out_kind) in configs.items():
    cfg = reltest.write_config(work, f"{cfg_name}.yaml", text)
    want = {n: mpbtest.linear_reference(inputs, coefs, n, out_kind) for n in names}
    for case in [m for m in matrix if m[0] == cfg_name]:
        _, np_, io, slab = case
        outs = {}
        for backend, mca in BACKENDS.items():
            out = os.path.join(work, f"{cfg_name}_np{np_}_{io}_{backend}.h5")
            reltest.run(np_, "merge", cfg, "--out", out, "--quiet", "--io", io, "--slab-kib",
                        slab, mca=mca, expect=0)
            for n in names:
                got, kind = mpbtest.raw_bits(out, n)
                assert kind == want[n][1] and np.array_equal(got, want[n][0]), \
                    f"{backend}: {out}: tensor {n} differs from the numpy reference"
            outs[backend] = out
        reltest.run(2, "diff", outs["ompio"], outs["romio"], mca=BACKENDS["romio"], expect=0)
        reltest.run(2, "verify", outs["romio"], "--config", cfg, mca=BACKENDS["ompio"], expect=0)
        print(f"ok: {cfg_name}, {np_} ranks, {io}: OMPIO and ROMIO outputs match the reference")

# synth: the same bits from either backend, any rank count.
synths = []
for backend, mca in BACKENDS.items():
    for np_, io in ((1, "independent"), (4, "collective")):
        out = os.path.join(work, f"synth_{backend}_{np_}.h5")
        reltest.run(np_, "synth", "--arch", "tiny", "--seed", "9", "--slab-kib", "16", "--io",
                    io, "--quiet", out, mca=mca, expect=0)
        synths.append(out)
for other in synths[1:]:
    mpbtest.assert_same_tensors(synths[0], other)
print("ok: synth writes the same bits with OMPIO and ROMIO")
print("backend checks passed")
