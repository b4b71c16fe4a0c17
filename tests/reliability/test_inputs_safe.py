"""An output may never be an input, and --force replaces only regular files
(issue 17, items 1-3 and the --out checks of item 9): the reproductions of
the issue, each refused before anything is written, naming both paths, with
every input byte for byte intact afterwards."""
import os
import stat
import sys

import reltest

work = reltest.fresh_dir(sys.argv[1], "inputs_safe")
a = os.path.join(work, "mi-0.h5")
b = os.path.join(work, "mi-1.h5")
for path, seed in ((a, 1), (b, 2)):
    reltest.run(2, "synth", "--arch", "tiny", "--seed", seed, "--quiet", path, expect=0)
before = {p: reltest.digest(p) for p in (a, b)}


def intact(what):
    for p, d in before.items():
        assert os.path.isfile(p), f"{what}: input {p} is gone"
        assert reltest.digest(p) == d, f"{what}: input {p} was changed"


def refused(what, *args, needles=()):
    p = reltest.run(2, *args, expect=1)
    msg = reltest.error_line(p)
    for n in needles:
        assert n in msg, f"{what}: {n!r} not in {msg!r}"
    intact(what)
    assert reltest.temp_files(work) == [], f"{what}: left {reltest.temp_files(work)}"
    print(f"ok: {what}: {msg}")
    return msg


# 1. A sweep whose outputs are its inputs: --out-dir . and mi-{lambda}.h5.
study = reltest.write_config(work, "study.yaml",
                             "merge_method: interpolate\nmodels:\n  - model: mi-0.h5\n"
                             "  - model: mi-1.h5\nparameters:\n  lambda: 0.5\nsweep:\n"
                             "  output: \"mi-{lambda}.h5\"\n  parameters:\n"
                             "    lambda: [0, 0.5, 1]\n")
os.chdir(work)
refused("sweep --out-dir . --force", "sweep", study, "--out-dir", ".", "--force",
        needles=("mi-0.h5", "is the input", "not even with --force"))
assert not os.path.exists(os.path.join(work, "manifest.json")), "the refused sweep wrote"
# The rerun case: a manifest (from a sweep into another folder, copied here)
# lists the inputs' names as its own points.
other = reltest.fresh_dir(work, "other")
reltest.run(2, "sweep", study, "--out-dir", other, "--quiet", expect=0)
for name in ("manifest.json", "manifest.csv"):
    with open(os.path.join(other, name)) as src, open(os.path.join(work, name), "w") as dst:
        dst.write(src.read())
refused("sweep rerun over a manifest naming the inputs", "sweep", study, "--out-dir", ".",
        needles=("mi-0.h5", "is the input"))
for name in ("manifest.json", "manifest.csv"):
    os.remove(os.path.join(work, name))

# 2. merge --out INPUT --force, through every spelling of the same file.
cfg = reltest.write_config(work, "mi.yaml", reltest.interp_text("mi-0.h5", "mi-1.h5"))
os.symlink("mi-0.h5", os.path.join(work, "link.h5"))
os.link(a, os.path.join(work, "hard.h5"))
for what, out, extra in (
        ("the input itself", a, ()),
        ("a relative spelling", "./../inputs_safe/mi-1.h5", ()),
        ("a hard link", os.path.join(work, "hard.h5"), ()),
        ("a symbolic link, --follow-links", os.path.join(work, "link.h5"), ("--follow-links",)),
        ("a symbolic link", os.path.join(work, "link.h5"), ())):
    refused(f"merge --out {what} --force", "merge", cfg, "--out", out, "--force", "--quiet",
            *extra, needles=(f"'{out}'", f"is the input '{work}/mi-", "not even with --force"))
os.remove(os.path.join(work, "hard.h5"))
# A safetensors folder output that holds an input.
folder = os.path.join(work, "hf")
reltest.run(2, "export", a, folder, "--quiet", expect=0)
st_cfg = reltest.write_config(work, "st.yaml",
                              reltest.interp_text("hf/model.safetensors", "mi-1.h5"))
refused("merge --format safetensors into the folder holding an input", "merge", st_cfg,
        "--out", folder, "--format", "safetensors", "--force", "--quiet",
        needles=(f"'{folder}'", "holds the input"))

# 3. --force replaces regular files only.
fifo = os.path.join(work, "fifo")
os.mkfifo(fifo)
refused("--force over a FIFO", "merge", cfg, "--out", fifo, "--force", "--quiet",
        needles=("is a FIFO", "only regular files"))
assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
if os.geteuid() == 0:
    refused("--force over /dev/null", "merge", cfg, "--out", "/dev/null", "--force", "--quiet",
            needles=("'/dev/null' is a character device", "only regular files"))
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode), "/dev/null was replaced"
else:
    print("note: /dev/null case needs root (a user cannot replace it anyway)")
refused("--force over a FIFO, safetensors", "merge", cfg, "--out", fifo, "--force", "--quiet",
        "--format", "safetensors", needles=("is a FIFO",))

# 4. --out checked before anything is computed, errno in the message.
refused("--out ''", "merge", cfg, "--out", "", "--quiet", needles=("output path is empty",))
refused("--out /proc/x.h5", "merge", cfg, "--out", "/proc/x.h5", "--quiet",
        needles=("/proc/", "No such file or directory"))
refused("--out into a missing folder", "merge", cfg, "--out", "/nonexistent-dir/x.h5",
        "--quiet", needles=("'/nonexistent-dir' does not exist",))
print("ok: every input intact")
