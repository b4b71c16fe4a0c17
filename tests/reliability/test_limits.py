"""The smaller items of issue 17 (item 9): a deeply nested or huge YAML
fails with a clear message; hex floats are not numbers; a tight address-
space limit (ulimit -v 200000) is a clear error, not a SIGSEGV in HDF5;
verify without --config checks the input checksums the output records."""
import os
import sys

import h5py

import mpbtest
import reltest

work = reltest.fresh_dir(sys.argv[1], "limits")
reltest.make_inputs(work)
out = os.path.join(work, "out.h5")
base = reltest.interp_text("a.h5", "b.h5")

# Nesting: 40 000 levels took libyaml 4.5 s, 200 000 over 60 s.
for style, text in (("flow", "x: " + "[" * 200000 + "]" * 200000 + "\n"),
                    ("block", "x:\n" + "".join(" " * i + "- \n" for i in range(1, 200)))):
    cfg = reltest.write_config(work, f"deep-{style}.yaml", base + text)
    for cmd in (("merge", cfg, "--out", out, "--dry-run"), ("sweep", cfg, "--out-dir", out,
                                                            "--dry-run")):
        p = reltest.run(1, *cmd, expect=1, timeout=60)
        msg = reltest.error_line(p)
        assert "nests deeper than 64 levels" in msg, msg
    print(f"ok: {style} nesting: {msg}")
cfg = reltest.write_config(work, "huge.yaml", base + "# " + "x" * (17 << 20) + "\n")
msg = reltest.error_line(reltest.run(1, "merge", cfg, "--out", out, "--dry-run", expect=1))
assert "at most 16 MiB" in msg, msg
print(f"ok: size: {msg}")

# Hex floats: mergekit's YAML reads 0x1p-1 as a string.
cfg = reltest.write_config(work, "hex.yaml", reltest.interp_text("a.h5", "b.h5", lam="0x1p-1"))
msg = reltest.error_line(reltest.run(1, "merge", cfg, "--out", out, "--dry-run", expect=1))
assert "must be a number (got '0x1p-1')" in msg, msg
cfg = reltest.write_config(work, "hexs.yaml", base + "sweep:\n  output: \"p-{lambda}.h5\"\n"
                           "  parameters:\n    lambda: [0, 0x1p-1]\n")
msg = reltest.error_line(reltest.run(1, "sweep", cfg, "--out-dir", out, "--dry-run", expect=1))
assert "'0x1p-1' is not a plain number" in msg, msg
print("ok: hex floats are not numbers (merge and sweep)")

# ulimit -v: MPI's start-up leaves HDF5 too little room.  Open MPI 4.1 maps
# about 194 MiB before mpiblend runs, MPICH 4.0 (ch4:ucx) about 126 MiB, so
# each gets a limit a little above its own start-up (below about 120 MiB
# MPICH's UCX aborts on its own before mpiblend runs).
cfg = reltest.write_config(work, "mi.yaml", base)
limit_kib = 200000 if mpbtest.OPENMPI else 140000
p = reltest.run(2, "merge", cfg, "--out", out, "--quiet", expect="nonzero", timeout=120,
                prefix=(sys.executable, "-c", "import os, resource, sys; "
                        f"resource.setrlimit(resource.RLIMIT_AS, ({limit_kib} * 1024,) * 2); "
                        "os.execvp(sys.argv[1], sys.argv[1:])"))
assert "Segmentation fault" not in p.stderr, p.stderr
msg = reltest.error_line(p)
assert f"address-space limit (ulimit -v {limit_kib} KiB)" in msg and "raise ulimit -v" in msg, msg
assert not os.path.exists(out) and reltest.temp_files(work) == []
print(f"ok: ulimit -v {limit_kib}: {msg}")

# verify without --config: the inputs' checksums, recorded by the merge.
reltest.run(2, "merge", cfg, "--out", out, "--quiet", expect=0)
p = reltest.run(2, "verify", out, expect=0)
assert "input checksums  ok: 2 of 2 inputs unchanged" in p.stdout, p.stdout
with h5py.File(os.path.join(work, "b.h5"), "r+") as f:
    d = f["model.norm.weight"]
    x = d[()]
    x[0] = x[0] * 2 + 1
    d[...] = x
p = reltest.run(2, "verify", out, expect=1)
msg = reltest.error_line(p)
assert "b.h5' changed since the merge" in msg, msg
print(f"ok: verify without --config: {msg}")
