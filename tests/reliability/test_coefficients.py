"""Coefficients that overflow fp32 (issue 17, item 8): lambda 1e308, or a
weight of 1e300 with normalize: false, is an error in the dry run and the
merge, before any output; --nonfinite error also stops a non-finite result
of finite inputs (an overflow of the output dtype), with no output."""
import os
import sys

import reltest

work = reltest.fresh_dir(sys.argv[1], "coefficients")
reltest.make_inputs(work)
out = os.path.join(work, "out.h5")
cases = {
    "lambda 1e308": reltest.interp_text("a.h5", "b.h5", lam="1e308"),
    "weight 1e300, normalize false":
        "merge_method: linear\nmodels:\n  - model: a.h5\n    parameters: {weight: 1e300}\n"
        "  - model: b.h5\n    parameters: {weight: 1}\nparameters:\n  normalize: false\n",
    "weights summing past fp32":
        "merge_method: linear\nmodels:\n  - model: a.h5\n    parameters: {weight: 3e38}\n"
        "  - model: b.h5\n    parameters: {weight: 3e38}\nparameters:\n  normalize: false\n",
    "task_arithmetic lambda 1e300":
        "merge_method: task_arithmetic\nbase_model: a.h5\nmodels:\n  - model: b.h5\n"
        "    parameters: {weight: 1}\nparameters:\n  lambda: 1e300\n",
    "ties weight 1e300":
        "merge_method: ties\nbase_model: a.h5\nmodels:\n  - model: b.h5\n"
        "    parameters: {weight: 1e300, density: 0.5}\n",
}
for what, text in cases.items():
    cfg = reltest.write_config(work, "c.yaml", text)
    for extra in (("--dry-run",), (), ("--nonfinite", "error")):
        p = reltest.run(2, "merge", cfg, "--out", out, "--quiet", *extra, expect=1)
        msg = reltest.error_line(p)
        assert "not finite in fp32" in msg or "more than fp32 holds" in msg, msg
        assert not os.path.exists(out) and reltest.temp_files(work) == []
    print(f"ok: {what}: {msg}")

# Finite coefficients, finite inputs, an f16 result that overflows.
cfg = reltest.write_config(work, "f16.yaml",
                           "merge_method: linear\nmodels:\n  - model: a.h5\n"
                           "    parameters: {weight: 1e7}\n  - model: b.h5\n"
                           "    parameters: {weight: 0}\nparameters:\n  normalize: false\n"
                           "out_dtype: float16\n")
p = reltest.run(2, "merge", cfg, "--out", out, "--quiet", "--nonfinite", "error", expect=1)
msg = reltest.error_line(p)
assert "gives a non-finite value" in msg and "from finite inputs" in msg and \
    "--nonfinite error" in msg, msg
assert not os.path.exists(out) and reltest.temp_files(work) == []
print(f"ok: --nonfinite error stops an overflowing result: {msg}")
p = reltest.run(2, "merge", cfg, "--out", out, "--quiet", expect=0)
assert "output elements are not finite" in p.stderr, p.stderr  # merged, counted
print("ok: --nonfinite propagate merges it and reports the count")
