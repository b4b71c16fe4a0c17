"""The one helper module of mpiblend's Python tests: running the binary
the way ctest was configured (one run() for every suite), and an
independent numpy reference for the arithmetic contract
(docs/ARITHMETIC.md).  Suite modules (tests/*/NAME.py) keep only what is
specific to them."""
import json
import os
import shlex
import signal
import subprocess
import sys

import h5py
import numpy as np

BINARY = os.environ["MPB_BINARY"]
MPIEXEC = shlex.split(os.environ.get("MPB_MPIEXEC", "mpiexec -n"))
PREFLAGS = shlex.split(os.environ.get("MPB_MPIEXEC_PREFLAGS", ""))
# Open MPI's launcher flags and variables apply only when it is the MPI in use
# (tests/CMakeLists.txt sets MPB_MPI_FAMILY).
OPENMPI = os.environ.get("MPB_MPI_FAMILY", "openmpi") == "openmpi"
# Every run is bounded: a hang must fail its test, not stall the suite.
# Runs known to be long (a multi-GiB tensor) pass a larger timeout.
TIMEOUT = 300


def command(np_, *args, mca=(), prefix=()):
    """[prefix...] mpiexec -n np_ [mca...] PREFLAGS mpiblend args...; without
    mpiexec when np_ is None (the serial commands: eval, refine, plot)."""
    launch = [] if np_ is None else MPIEXEC + [str(np_)] + list(mca) + PREFLAGS
    return list(prefix) + launch + [BINARY] + [str(a) for a in args]


def run(np_, *args, expect=None, env=None, cwd=None, mca=(), prefix=(), timeout=TIMEOUT):
    """Runs mpiblend ARGS on np_ ranks (np_ None: no mpiexec) with env added
    to the environment.  `expect` is an exit status to check, "nonzero", or
    None for no check.  After `timeout` seconds the whole job is killed and
    the test fails as a hang.  Returns the CompletedProcess."""
    cmd = command(np_, *args, mca=mca, prefix=prefix)
    full_env = dict(os.environ)
    full_env.update(env or {})
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=full_env, cwd=cwd, start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        raise AssertionError(f"no exit after {timeout} s (a hang): {' '.join(cmd)}\n{err}")
    done = subprocess.CompletedProcess(cmd, p.returncode, out, err)
    bad = (expect == "nonzero" and done.returncode == 0) or \
          (expect not in (None, "nonzero") and done.returncode != expect)
    if bad:
        sys.stderr.write(f"command: {' '.join(cmd)}\nstdout:\n{out}\nstderr:\n{err}\n")
        raise AssertionError(f"exit status {done.returncode}, expected {expect}")
    return done


def run_many(jobs, workers=4):
    """run(*job) for each job, a tuple of run's positional arguments, several
    at once (most of a small run is mpiexec starting up); expects exit 0."""
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda job: run(*job, expect=0), jobs))


def write_text(folder, name, text):
    """Writes text to folder/name and returns the path."""
    path = os.path.join(folder, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def write_safetensors(path, tensors):
    """A .safetensors file of {name: numpy array} (float32 or float16, kept
    as given), written with json only: inputs made the way other tools
    write them, without mpiblend."""
    kinds = {np.dtype(np.float32): "F32", np.dtype(np.float16): "F16"}
    header, blobs, at = {}, [], 0
    for name, arr in tensors.items():
        arr = np.ascontiguousarray(arr)
        raw = arr.astype(arr.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": kinds[arr.dtype], "shape": list(arr.shape),
                        "data_offsets": [at, at + len(raw)]}
        blobs.append(raw)
        at += len(raw)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(len(text).to_bytes(8, "little") + text + b"".join(blobs))


def tensor_names(path):
    with h5py.File(path, "r") as f:
        return sorted(k for k in f.keys() if isinstance(f[k], h5py.Dataset))


def dtype_of(dset):
    """mpiblend's dtype name of an HDF5 dataset, from its type fields."""
    t = dset.id.get_type()
    if isinstance(t, h5py.h5t.TypeFloatID):
        if t.get_size() == 2:
            return "bf16" if t.get_ebias() == 127 else "f16"
        return {4: "f32", 8: "f64"}[t.get_size()]
    return str(dset.dtype)


def raw_bits(path, name):
    """The stored bit patterns of a float tensor, read through h5py.  bf16
    widens exactly to float32, so its bits are the top 16 of the float32."""
    with h5py.File(path, "r") as f:
        d = f[name]
        kind = dtype_of(d)
        if kind == "bf16":
            return (d[...].astype(np.float32).view(np.uint32) >> 16).astype(np.uint16), kind
        if kind == "f16":
            return d[...].astype(np.float16).view(np.uint16), kind
        if kind == "f32":
            return d[...].astype(np.float32).view(np.uint32), kind
        return d[...], kind


def decode(bits, kind):
    if kind == "bf16":
        return (bits.astype(np.uint32) << 16).view(np.float32)
    if kind == "f16":
        return bits.view(np.float16).astype(np.float32)
    return bits.view(np.float32)


def encode(values, kind):
    """float32 -> stored bits, round to nearest even; written independently
    of mpiblend's C code."""
    values = np.asarray(values, dtype=np.float32)  # 0-d tensors come as numpy scalars
    if kind == "f32":
        bits = values.view(np.uint32).copy()
        bits[np.isnan(values)] = 0x7FC00000
        return bits
    if kind == "f16":
        bits = values.astype(np.float16).view(np.uint16).copy()
        bits[np.isnan(values)] = 0x7E00
        return bits
    u = values.view(np.uint32).astype(np.uint64)
    rounded = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
    rounded[np.isnan(values)] = 0x7FC0  # the kernels write one canonical quiet NaN
    return rounded


def linear_reference(inputs, coefs, name, out_kind=None):
    """The contract: acc = c0*x0; acc = acc + ci*xi in order, fp32, no FMA."""
    acc = None
    in_kind = None
    for path, c in zip(inputs, coefs):
        bits, in_kind = raw_bits(path, name)
        x = decode(bits, in_kind)
        term = np.float32(c) * x
        acc = term if acc is None else (acc + term).astype(np.float32)
    return encode(acc, out_kind or in_kind), out_kind or in_kind


def assert_same_tensors(a, b):
    names = tensor_names(a)
    assert names == tensor_names(b), f"{a} and {b} hold different tensors"
    for n in names:
        x, kx = raw_bits(a, n)
        y, ky = raw_bits(b, n)
        assert kx == ky and x.shape == y.shape and np.array_equal(x, y), \
            f"tensor {n} differs between {a} and {b}"
