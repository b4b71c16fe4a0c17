"""Damaged inputs: truncated files and bytes overwritten in the middle of the
HDF5 metadata (superblock, root group, object headers) each end the merge
with one clear error naming the file -- no crash, no hang, no output.
Bytes overwritten in raw tensor data are invisible to HDF5 (contiguous data
has no checksum); files that carry their own checksum are covered by
test_provenance.py."""
import os
import shutil
import sys

import h5py

import reltest

work = reltest.fresh_dir(sys.argv[1], "bad_inputs")
a, b = reltest.make_inputs(work)
size = os.path.getsize(b)


def damaged(name, offset=None, length=64, truncate=None):
    path = os.path.join(work, name)
    shutil.copy(b, path)
    with open(path, "r+b") as f:
        if truncate is not None:
            f.truncate(truncate)
        else:
            f.seek(offset)
            f.write(bytes([0xA5]) * length)
    return path


def expect_clear_error(case, path, *extra):
    cfg = reltest.write_config(work, "bad.yaml", reltest.interp_text("a.h5",
                                                                     os.path.basename(path)))
    out = os.path.join(work, "out.h5")
    for ranks in (1, 2):
        p = reltest.run(ranks, "merge", cfg, "--out", out, "--quiet", *extra, expect=1,
                        timeout=120)
        msg = reltest.error_line(p)
        assert f"'{path}'" in msg, f"{case}: message does not name the file: {msg}"
        assert not os.path.exists(out) and not reltest.temp_files(work), f"{case}: output left"
    print(f"ok: {case}: {msg}")


with h5py.File(b, "r") as f:
    down = f["model.layers.0.mlp.down_proj.weight"]
    header = h5py.h5o.get_info(down.id).addr
    data = down.id.get_offset()
    norm_header = h5py.h5o.get_info(f["model.norm.weight"].id).addr

expect_clear_error("truncated to half", damaged("half.h5", truncate=size // 2))
expect_clear_error("truncated in the metadata", damaged("head.h5", truncate=2000))
expect_clear_error("superblock overwritten", damaged("sb.h5", offset=40, length=32))
expect_clear_error("root group overwritten", damaged("root.h5", offset=300))
expect_clear_error("object header overwritten", damaged("oh.h5", offset=header))
expect_clear_error("last object header overwritten", damaged("oh2.h5", offset=norm_header))
expect_clear_error("object header overwritten, collective I/O",
                   damaged("oh3.h5", offset=header), "--io", "collective")

# Raw data overwritten in a file without a checksum: HDF5 cannot tell.
plain = damaged("plain.h5", offset=data + 1000, length=64)
cfg = reltest.write_config(work, "plain.yaml", reltest.interp_text("a.h5", "plain.h5"))
reltest.run(2, "merge", cfg, "--out", os.path.join(work, "from_plain.h5"), "--quiet", expect=0)
print("ok: raw data damage without a checksum is not detectable (documented)")

print("bad input checks passed")
