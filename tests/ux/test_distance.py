"""distance against a float64 numpy reference computed here: per tensor,
per module kind and overall, for every pair, the relative L2 distance,
cosine similarity and standard deviation of the difference agree to 1e-12
relative; the output is the same bytes for 1, 2 and 3 ranks and both I/O
modes; CSV holds the JSON's numbers; inputs of another architecture are
refused naming the tensor."""
import csv
import io
import json
import os
import shutil

import h5py
import numpy as np

import mpbtest
import uxtest

work = uxtest.workdir("distance")
a = uxtest.synth(work, "a.h5", 1)
b = uxtest.synth(work, "b.h5", 2)
# c is a perturbed a: cosine near 1, and norms shifted by 1 so that the
# difference's mean dwarfs its spread (a naive E[d^2] - E[d]^2 fails there).
c = os.path.join(work, "c.h5")
shutil.copy(a, c)
rng = np.random.default_rng(7)
with h5py.File(c, "r+") as f:
    for name, d in f.items():
        x = d[...].astype(np.float64)
        shift = 1.0 if "norm" in name else 0.0
        d[...] = (x + shift + 0.003 * rng.standard_normal(x.shape)).astype(np.float32)
inputs = [a, b, c]


def values(path):
    with h5py.File(path, "r") as f:
        return {n: d[...].astype(np.float64).ravel() for n, d in f.items()}


def kind(name):
    """The documented rule (docs/OPERATIONS.md), written out here."""
    if "embed_tokens" in name or "lm_head" in name:
        return "embedding"
    for key, k in (("self_attn", "attention"), ("mlp", "mlp"), ("norm", "norm")):
        if key in name:
            return k
    return "other"


def metrics(x, y):
    d = x - y
    nx, ny = np.linalg.norm(x), np.linalg.norm(y)
    return {"rel_l2": np.linalg.norm(d) / nx, "cosine": np.dot(x, y) / (nx * ny),
            "diff_std": np.std(d)}


def close(got, want, what, floor=0.0):
    """1e-12 relative; `floor` bounds the scale from below (a cosine's error
    is relative to |x||y|, so a cosine near 0 is compared at that scale)."""
    assert abs(got - want) <= 1e-12 * max(abs(want), floor), \
        f"{what}: {got!r} vs numpy {want!r} (relative {abs(got - want) / abs(want):.2e})"


def check_metrics(got, want, what):
    close(got["rel_l2"], want["rel_l2"], what + " rel_l2")
    close(got["cosine"], want["cosine"], what + " cosine", floor=1e-2)
    close(got["diff_std"], want["diff_std"], what + " diff_std")


vals = [values(p) for p in inputs]
names = sorted(vals[0])
p = mpbtest.run(2, "distance", *inputs, "--json", "--quiet", expect=0)
report = json.loads(p.stdout)
assert report["inputs"] == inputs and report["tensors_compared"] == len(names)
pairs = [(i, j) for i in range(3) for j in range(i + 1, 3)]
assert [(pr["a"], pr["b"]) for pr in report["pairs"]] == [(inputs[i], inputs[j]) for i, j in pairs]
for pr, (i, j) in zip(report["pairs"], pairs):
    label = f"{os.path.basename(inputs[i])}-{os.path.basename(inputs[j])}"
    assert [t["name"] for t in pr["tensors"]] == names
    for t in pr["tensors"]:
        assert t["kind"] == kind(t["name"]) and t["numel"] == vals[i][t["name"]].size
        check_metrics(t, metrics(vals[i][t["name"]], vals[j][t["name"]]), f"{label} {t['name']}")
    for k in ("attention", "mlp", "norm", "embedding", "other"):
        members = [n for n in names if kind(n) == k]
        got = pr["kinds"][k]
        assert got["tensors"] == len(members), f"{label} {k}: {got['tensors']} tensors"
        if not members:
            assert got["numel"] == 0 and got["rel_l2"] is None
            continue
        x = np.concatenate([vals[i][n] for n in members])
        y = np.concatenate([vals[j][n] for n in members])
        assert got["numel"] == x.size
        check_metrics(got, metrics(x, y), f"{label} {k}")
    x = np.concatenate([vals[i][n] for n in names])
    y = np.concatenate([vals[j][n] for n in names])
    check_metrics(pr["overall"], metrics(x, y), f"{label} overall")
    print(f"ok: {label}: {len(names)} tensors, 5 kinds and overall match numpy; "
          f"overall cosine {pr['overall']['cosine']:.6f}")

# The same bytes for any rank count, slab size and transfer mode.
# MPB_TEST_DISTANCE_BATCH (test-only) shrinks the batches of row sums so
# that a tiny model takes many.
for ranks, extra, batch in ((1, [], None), (3, ["--slab-kib", "3"], "1000"),
                            (2, ["--slab-kib", "5", "--io", "collective"], "1")):
    env = {"MPB_TEST_DISTANCE_BATCH": batch} if batch else {}
    q = mpbtest.run(ranks, "distance", *inputs, "--json", "--quiet", *extra, env=env, expect=0)
    assert q.stdout == p.stdout, f"{ranks} ranks {extra} batch {batch}: the report differs"
    print(f"ok: identical report on {ranks} ranks {' '.join(extra)} batches of {batch or 'default'}")

# CSV: the JSON's numbers, row for row.
rows = list(csv.DictReader(io.StringIO(
    mpbtest.run(3, "distance", *inputs, "--csv", "--quiet", expect=0).stdout)))
by_key = {(r["a"], r["b"], r["scope"], r["name"]): r for r in rows}
assert len(rows) == len(pairs) * (len(names) + 6)
for pr in report["pairs"]:
    entries = [("tensor", t["name"], t) for t in pr["tensors"]]
    entries += [("kind", k, m) for k, m in pr["kinds"].items()] + [("overall", "overall", pr["overall"])]
    for scope, name, m in entries:
        r = by_key[(pr["a"], pr["b"], scope, name)]
        for field in ("rel_l2", "cosine", "diff_std"):
            want = m[field]
            assert (r[field] == "" if want is None else float(r[field]) == want), (scope, name, field)
print(f"ok: CSV holds the JSON's {len(rows)} rows")

# The table ends with the summaries.
table = mpbtest.run(1, "distance", a, c, "--quiet", expect=0).stdout
assert "A vs B, per tensor:" in table and table.rstrip().splitlines()[-1].startswith("overall")
print("ok: table")

# Another architecture: refused, naming the tensor and both files.
bad = os.path.join(work, "bad.h5")
shutil.copy(b, bad)
with h5py.File(bad, "r+") as f:
    del f["model.layers.2.mlp.up_proj.weight"]
    f.create_dataset("model.layers.2.mlp.up_proj.weight", shape=(10, 128), dtype="f4")
q = mpbtest.run(2, "distance", a, bad, "--quiet", expect=1)
lines = [l for l in q.stderr.splitlines() if l.startswith("mpiblend")]
assert len(lines) == 1 and "model.layers.2.mlp.up_proj.weight" in lines[0] and bad in lines[0], lines
print(f"ok: {lines[0]}")
q = mpbtest.run(1, "distance", a, expect=2)
assert "usage: mpiblend distance" in q.stderr
