"""merge --dry-run's totals are the real merge's: the bytes it says it
writes are the output's tensor bytes (read back with h5py), the bytes it
reads follow the copy-or-blend rule, the per-rank loads add up, and the
real run's summary line agrees.  A dry run writes nothing."""
import os
import re

import mpbtest
import uxtest

work = uxtest.workdir("dry_run")
inputs = [uxtest.synth(work, f"{n}.h5", i + 1) for i, n in enumerate("abc")]
sizes = uxtest.dataset_bytes(inputs[0])

configs = {
    "interp": ("merge_method: interpolate\nmodels:\n  - model: a.h5\n  - model: b.h5\n"
               "parameters:\n  lambda: 0.45\n", 2, 2, lambda name: False),
    "linear3_f32": ("merge_method: linear\nmodels:\n  - model: a.h5\n    parameters: {weight: 0.2}\n"
                    "  - model: b.h5\n    parameters: {weight: 0.3}\n  - model: c.h5\n"
                    "    parameters: {weight: 0.5}\nout_dtype: float32\n", 3, 4,
                    lambda name: False),
    # Layers 1-2 blended, the rest copied from a.h5: copies read one input.
    "layers": ("merge_method: interpolate\nmodels:\n  - model: a.h5\n  - model: b.h5\n"
               "parameters:\n  lambda: 0.5\nlayer_range: [1, 2]\nkeep_outside: a.h5\n", 2, 2,
               lambda name: not re.search(r"\.layers\.[12]\.", name)),
}

PLAN = re.compile(r"^plan: (\d+) tensors, (\d+) items", re.M)
TOTALS = re.compile(r"^  read [\d.]+ MiB \((\d+) bytes\), write [\d.]+ MiB \((\d+) bytes\) to (.+)$", re.M)
RANK = re.compile(r"^  rank (\d+): (\d+) items, [\d.]+ MiB \((\d+) bytes\)$", re.M)
SUMMARY = re.compile(r"^summary: merge .* read_bytes=(\d+) written_bytes=(\d+) ", re.M)

for name, (text, n_in, out_elem, copied) in configs.items():
    cfg = uxtest.config(work, f"{name}.yaml", text)
    out = os.path.join(work, f"{name}.h5")
    # Independent expectations from the inputs and the documented rule.
    want_read = sum(b if copied(t) else n_in * b for t, b in sizes.items())
    for ranks in (1, 3):
        before = sorted(os.listdir(work))
        p = mpbtest.run(ranks, "merge", cfg, "--out", out, "--dry-run", "--slab-kib", "16",
                        expect=0)
        assert sorted(os.listdir(work)) == before, f"{name}: the dry run wrote files"
        plan, totals = PLAN.search(p.stdout), TOTALS.search(p.stdout)
        ranks_seen = RANK.findall(p.stdout)
        assert plan and totals and len(ranks_seen) == ranks, f"{name}: unexpected dry run:\n{p.stdout}"
        read, write = int(totals.group(1)), int(totals.group(2))
        assert int(plan.group(1)) == len(sizes)
        assert sum(int(r[1]) for r in ranks_seen) == int(plan.group(2)), "items do not add up"
        assert sum(int(r[2]) for r in ranks_seen) == write, "rank bytes do not add up to the write"
        assert read == want_read, f"{name}: dry run reads {read}, expected {want_read}"
        print(f"ok: {name} dry run on {ranks} ranks: read {read}, write {write}")
    p = mpbtest.run(2, "merge", cfg, "--out", out, "--slab-kib", "16", "--progress-secs", "60",
                    expect=0)
    real = sum(uxtest.dataset_bytes(out).values())
    assert real == write, f"{name}: the output holds {real} tensor bytes, the dry run said {write}"
    assert real == sum(sizes.values()) * out_elem // 2, f"{name}: unexpected output size {real}"
    summary = SUMMARY.search(p.stderr)
    assert summary and int(summary.group(1)) == read and int(summary.group(2)) == write, \
        f"{name}: the summary disagrees with the dry run: {summary and summary.group(0)}"
    print(f"ok: {name}: the real merge wrote {real} bytes as planned")
