"""Helpers for the reliability tests (docs/RELIABILITY.md): skips, mounts
that may be refused, and checksums of the bytes tensors hold on disk
computed without mpiblend.  Jobs run through mpbtest.run (also reachable as
reltest.run), whose timeout kills the whole job."""
import glob
import hashlib
import os
import shutil
import subprocess
import sys

import h5py
import numpy as np

import mpbtest
from sweeptest import crc32c  # CRC-32C from its definition (tests/sweep)

SKIP = 77  # SKIP_RETURN_CODE in tests/reliability.cmake


def skip(reason):
    print(f"SKIP: {reason}")
    sys.exit(SKIP)


def fresh_dir(*parts):
    path = os.path.join(*parts)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


command = mpbtest.command
run = mpbtest.run


def error_line(p):
    """The one error message rank 0 prints."""
    lines = [l for l in p.stderr.splitlines() if l.startswith("mpiblend")]
    assert len(lines) == 1, f"expected one message from rank 0, got {lines!r}\n{p.stderr}"
    return lines[0]


def make_inputs(work, seeds=(1, 2)):
    paths = []
    for i, seed in enumerate(seeds):
        path = os.path.join(work, "abcdefgh"[i] + ".h5")
        run(2, "synth", "--arch", "tiny", "--seed", seed, "--quiet", path, expect=0)
        paths.append(path)
    return paths


write_config = mpbtest.write_text


def interp_text(first, second, lam=0.45):
    return (f"merge_method: interpolate\nmodels:\n  - model: {first}\n  - model: {second}\n"
            f"parameters:\n  lambda: {lam}\n")


def write_sweep_config(work, output, lambdas, name="sweep.yaml"):
    """An interpolation of a.h5 and b.h5 swept over lambdas into output."""
    values = ", ".join(str(v) for v in lambdas)
    return write_config(work, name, interp_text("a.h5", "b.h5") +
                        f"sweep:\n  output: \"{output}\"\n  parameters:\n    lambda: [{values}]\n")


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def temp_files(folder):
    return sorted(glob.glob(os.path.join(folder, ".*.mpiblend-*.tmp")))


def mount(*args):
    """mount(8) as root; False when this machine does not allow it."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


def umount(path):
    subprocess.run(["umount", path], capture_output=True)


def stored_bits(path, name):
    """The bytes on disk of a contiguous tensor, as unsigned integers, and
    its dtype name.  Read past HDF5's type conversion, which rewrites NaN
    payloads (a stored bf16 0x7fc0 reads back through h5py as 0x7fff)."""
    with h5py.File(path, "r") as f:
        d = f[name]
        kind = mpbtest.dtype_of(d)
        offset, shape = d.id.get_offset(), d.shape
    size = {"bf16": 2, "f16": 2, "f32": 4, "f64": 8}[kind]
    count = int(np.prod(shape, dtype=np.int64))
    bits = np.fromfile(path, dtype=f"<u{size}", count=count, offset=offset)
    return bits.reshape(shape), kind


def tensor_data_crc(path, names):
    """"crc32c:..." of the stored bytes of these tensors, in this order."""
    crc = 0
    for name in names:
        crc = crc32c(stored_bits(path, name)[0].tobytes(), crc)
    return f"crc32c:{crc:08x}"
