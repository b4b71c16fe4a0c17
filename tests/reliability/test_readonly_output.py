"""Output folder not writable.  Root ignores permission bits, so the folder
is a read-only bind mount (skipped where mounting is not allowed); other
users get a folder without write permission.  The error names the folder
and the cause; nothing is written."""
import os
import sys

import reltest

work = reltest.fresh_dir(sys.argv[1], "readonly")
reltest.make_inputs(work)
cfg = reltest.write_config(work, "interp.yaml", reltest.interp_text("a.h5", "b.h5"))
folder = os.path.join(work, "ro")
os.makedirs(folder)
mounted = False
if os.geteuid() == 0:
    mounted = reltest.mount("--bind", folder, folder)
    if not mounted or not reltest.mount("-o", "remount,bind,ro", folder):
        if mounted:
            reltest.umount(folder)
        reltest.skip("cannot make a read-only bind mount here (needs mount permission)")
else:
    os.chmod(folder, 0o555)
try:
    for ranks in (1, 3):
        for fmt in ("hdf5", "safetensors"):
            out = os.path.join(folder, "out.h5" if fmt == "hdf5" else "out")
            p = reltest.run(ranks, "merge", cfg, "--out", out, "--quiet", "--format", fmt,
                            expect=1, timeout=120)
            msg = reltest.error_line(p)
            assert f"output folder '{folder}' is not writable" in msg, msg
            assert os.listdir(folder) == [], os.listdir(folder)
            print(f"ok: {ranks} ranks, {fmt}: {msg}")
finally:
    if mounted:
        reltest.umount(folder)
    else:
        os.chmod(folder, 0o755)
print("read-only output checks passed")
