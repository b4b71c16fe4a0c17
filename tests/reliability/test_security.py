"""Shared-cluster hygiene (docs/RELIABILITY.md): outputs are created with
the user's umask, whichever MPI-IO backend writes them; a symbolic link at
the output path is refused, link and target untouched, unless
--follow-links is given; and no library code runs a shell or another
program except eval's documented command launcher."""
import os
import re
import stat
import sys

import mpbtest
import reltest

work = reltest.fresh_dir(sys.argv[1], "security")
a, b = reltest.make_inputs(work)
cfg = reltest.write_config(work, "interp.yaml", reltest.interp_text("a.h5", "b.h5"))

# umask: the mode of every new file is 0666 & ~umask.  Open MPI has two MPI-IO
# backends to choose from; other MPIs have one (ROMIO).
backends = ("ompio", "romio321") if mpbtest.OPENMPI else ("default",)
for mask in (0o027, 0o077, 0o002):
    for backend in backends:
        for fmt in ("hdf5", "safetensors"):
            out = os.path.join(work, f"umask_{mask:03o}_{backend}_{fmt}")
            old = os.umask(mask)
            mca = ("--mca", "io", backend) if mpbtest.OPENMPI else ()
            try:
                reltest.run(2, "merge", cfg, "--out", out, "--quiet", "--format", fmt,
                            mca=mca, expect=0)
            finally:
                os.umask(old)
            files = [os.path.join(out, n) for n in os.listdir(out)] if fmt == "safetensors" \
                else [out]
            for path in files:
                mode = stat.S_IMODE(os.stat(path).st_mode)
                assert mode == 0o666 & ~mask, \
                    f"{path}: mode {mode:03o} under umask {mask:03o} ({backend})"
print(f"ok: outputs follow the umask (027, 077, 002; {', '.join(backends)}; HDF5 and safetensors)")

# A symbolic link at the output path.
target = os.path.join(work, "target.h5")
with open(target, "wb") as f:
    f.write(b"someone else's file")
link = os.path.join(work, "link.h5")
os.symlink(target, link)
dangling = os.path.join(work, "dangling.h5")
os.symlink(os.path.join(work, "nowhere.h5"), dangling)
for path, extra in ((link, ()), (link, ("--force",)), (dangling, ()), (dangling, ("--force",))):
    p = reltest.run(2, "merge", cfg, "--out", path, "--quiet", *extra, expect=1)
    msg = reltest.error_line(p)
    assert "is a symbolic link" in msg and "--follow-links" in msg, msg
    assert os.path.islink(path) and not os.path.exists(os.path.join(work, "nowhere.h5"))
assert open(target, "rb").read() == b"someone else's file", "the link's target was modified"
reltest.run(2, "merge", cfg, "--out", link, "--quiet", "--force", "--follow-links", expect=0)
assert mpbtest.tensor_names(link) == mpbtest.tensor_names(a), "--follow-links wrote no model"
assert os.path.islink(link), "--follow-links replaced the link instead of writing through it"
assert mpbtest.tensor_names(target) == mpbtest.tensor_names(a), "the link's target was not written"
print("ok: symbolic links at the output are refused unless --follow-links")

# No shell, no other program: every place that starts one is known.
# plot's PNG copy runs rsvg-convert or convert with a fixed argv vector.
allowed = {"posix_spawnp": {"commands/eval/mpb_eval.c", "commands/eval/mpb_plot_svg.c"},
           "/bin/sh": {"commands/eval/mpb_eval_cmd.c"}}
pattern = re.compile(r'\b(system|popen|exec[lv]p?e?|posix_spawnp?|fork|vfork)\s*\(|"/bin/sh"')
root = os.environ["MPB_SOURCE_DIR"]
found = []
sources = []
for folder in ("util", "blend", "io", "mpi", "commands", "cli"):
    for here, _, names in os.walk(os.path.join(root, folder)):
        sources += [os.path.relpath(os.path.join(here, n), root) for n in names
                    if n.endswith((".c", ".h"))]
assert "commands/eval/mpb_eval_cmd.c" in sources, "the source tree moved: update this test"
for rel in sorted(sources):
    with open(os.path.join(root, rel), errors="replace") as f:
        for n, text in enumerate(f, 1):
            for m in pattern.finditer(text):
                what = m.group(1) or "/bin/sh"
                if rel not in allowed.get(what, ()):
                    found.append(f"{rel}:{n}: {text.strip()}")
assert not found, "programs or shells started outside eval's launcher:\n" + "\n".join(found)
print("ok: no shell, and no other program outside eval's launcher and plot's PNG converter")
print("security checks passed")
