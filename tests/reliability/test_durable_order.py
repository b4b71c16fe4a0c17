"""Durable publishing (issue 17, item 4), seen in the system calls: for
every output the data file is fsync'ed (by every rank that wrote it) before
link()/rename() publishes it, the folder is fsync'ed after, and only then
does the manifest that marks the point done reach its name; the manifest
itself is fsync'ed before its rename and its folder after.  Needs strace
(skipped without it)."""
import os
import re
import shutil
import sys

import reltest

if shutil.which("strace") is None:
    reltest.skip("strace is not installed (scripts/setup.sh installs it)")
work = reltest.fresh_dir(sys.argv[1], "durable_order")
reltest.make_inputs(work)
cfg = reltest.write_sweep_config(work, "p-{lambda}.h5", [0, 0.5, 1])
out = os.path.join(work, "out")
log = os.path.join(work, "strace.log")
trace = ("strace", "-f", "-y", "-qq", "-o", log,
         "-e", "trace=fsync,fdatasync,link,linkat,rename,renameat,renameat2")


def calls(path):
    """(pid, call, args) in order; interrupted calls joined."""
    pending, result = {}, []
    for line in open(path):
        m = re.match(r"(\d+)\s+(.*)", line.rstrip("\n"))
        if not m:
            continue
        pid, text = m.groups()
        if text.endswith("<unfinished ...>"):
            pending[pid] = text[: -len("<unfinished ...>")]
            continue
        r = re.match(r"<\.\.\. \w+ resumed>(.*)", text)
        if r:
            text = pending.pop(pid, "") + r.group(1)
        c = re.match(r"(\w+)\((.*)\)\s*=\s*(-?\d+)", text)
        if c and c.group(3) == "0":
            result.append((pid, c.group(1), c.group(2)))
    return result


def check(seq, final, folder, what):
    base = os.path.basename(final)
    tmp = re.compile(r"\." + re.escape(base) + r"\.mpiblend-[0-9-]+\.tmp")
    pub = [i for i, (_, call, args) in enumerate(seq)
           if call in ("link", "rename", "renameat2") and tmp.search(args) and
           args.rstrip().endswith(f'"{final}"')]
    assert pub, f"{what}: no link/rename publishes {final}"
    i = pub[0]
    pid = seq[i][0]
    synced = [j for j, (p, call, args) in enumerate(seq[:i])
              if call in ("fsync", "fdatasync") and tmp.search(args)]
    assert synced, f"{what}: {final} was published before its data was fsync'ed"
    ranks = {seq[j][0] for j in synced}
    assert len(ranks) >= 2, f"{what}: only {len(ranks)} rank fsync'ed {final}"
    dir_sync = [j for j, (p, call, args) in enumerate(seq) if j > i and p == pid and
                call == "fsync" and args.endswith(f"<{folder}>")]
    assert dir_sync, f"{what}: the folder was not fsync'ed after publishing {final}"
    return dir_sync[0]


# A sweep: every point, then the manifest that marks them done.
reltest.run(2, "sweep", cfg, "--out-dir", out, "--quiet", prefix=trace, expect=0)
seq = calls(log)
real = os.path.realpath(out)
last_dir_sync = max(check(seq, f"{out}/p-{lam}.h5", real, "sweep") for lam in ("0", "0.5", "1"))
manifest = [i for i, (_, call, args) in enumerate(seq)
            if call == "rename" and args.endswith(f'"{out}/manifest.json"')]
assert manifest and manifest[-1] > last_dir_sync, \
    "the manifest marking the points done was renamed before the points were durable"
m = manifest[-1]
tmp_name = re.match(r'"([^"]+)"', seq[m][2]).group(1)
assert any(call == "fsync" and os.path.basename(tmp_name) in args
           for _, call, args in seq[:m]), "manifest.json was renamed before its fsync"
assert any(call == "fsync" and args.endswith(f"<{real}>") for _, call, args in seq[m + 1:]), \
    "the folder was not fsync'ed after the manifest's rename"
print("ok: sweep: data fsync, publish, folder fsync, then the manifest (fsync, rename, "
      "folder fsync)")

# A merge, with and without --force (link or rename).
merged = os.path.join(work, "m.h5")
for extra in ((), ("--force",)):
    reltest.run(2, "merge", cfg, "--out", merged, "--quiet", *extra, prefix=trace, expect=0)
    check(calls(log), merged, os.path.realpath(work), f"merge {' '.join(extra)}")
print("ok: merge: data fsync on every rank, publish, folder fsync")
