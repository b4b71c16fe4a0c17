"""The disk fills: a 1 MiB tmpfs, mounted here as root (skipped where
mounting is not allowed), cannot hold a 2.9 MB merge.  The job must fail at
once (not hang: HDF5 1.10.8 deadlocks when a metadata write fails inside
the collective H5Fclose), with an error naming the output and the cause,
and leave neither the output nor a temporary file; a safetensors folder
output the same.  Once there is room the same command succeeds, its file
no larger than the space the error said it needs, and the space claimed
beyond the file's end is given back."""
import os
import re
import sys

import reltest

work = reltest.fresh_dir(sys.argv[1], "disk_full")
reltest.make_inputs(work)
cfg = reltest.write_config(work, "interp.yaml", reltest.interp_text("a.h5", "b.h5"))
full = os.path.join(work, "full")
os.makedirs(full)
if not reltest.mount("-t", "tmpfs", "-o", "size=1m", "tmpfs", full):
    reltest.skip("cannot mount a tmpfs here (needs root and mount permission)")
try:
    for ranks in (1, 2, 3):
        for io in ("independent", "collective"):
            out = os.path.join(full, "out.h5")
            p = reltest.run(ranks, "merge", cfg, "--out", out, "--quiet", "--io", io,
                            expect=1, timeout=120)
            msg = needs_msg = reltest.error_line(p)
            assert f"'{out}'" in msg and "No space left on device" in msg, msg
            assert os.listdir(full) == [], f"left behind: {os.listdir(full)}"
            print(f"ok: {ranks} ranks, {io}: {msg}")
    # A folder output (safetensors shards) is checked up front, as a file is.
    out = os.path.join(full, "folder")
    p = reltest.run(2, "merge", cfg, "--out", out, "--quiet", "--format", "safetensors",
                    expect=1, timeout=120)
    msg = reltest.error_line(p)
    assert f"'{out}'" in msg and "needs about" in msg and "No space left on device" in msg, \
        msg
    assert os.listdir(full) == [], f"left behind: {os.listdir(full)}"
    print(f"ok: safetensors folder: {msg}")
    # With room, the same merge fits in what the message said it needs.
    needed = float(re.search(r"needs about ([0-9.]+) MiB", needs_msg).group(1)) * 2**20
    assert reltest.mount("-o", "remount,size=16m", full), "cannot grow the tmpfs"
    reltest.run(2, "merge", cfg, "--out", os.path.join(full, "out.h5"), "--quiet", expect=0)
    assert os.listdir(full) == ["out.h5"], os.listdir(full)
    size = os.path.getsize(os.path.join(full, "out.h5"))
    assert size <= needed, f"the estimate {needed:.0f} is below the real size {size}"
    used = os.stat(os.path.join(full, "out.h5")).st_blocks * 512
    assert used <= size + 2**20, f"claimed space not returned: {used} bytes held for {size}"
finally:
    reltest.umount(full)
print("disk-full checks passed")
