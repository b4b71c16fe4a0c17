"""Helpers for the Hugging Face interop tests: mpbtest.run with a quick
exit after errors, and reading safetensors and HDF5 checkpoints independently of
mpiblend's C code (json + numpy on the raw bytes; h5py dataset offsets)."""
import functools
import json
import os
import struct

import h5py
import numpy as np

import mpbtest


# safetensors dtype -> (element size, numpy dtype holding the same bytes)
ST_DTYPES = {
    "BOOL": (1, np.bool_), "U8": (1, np.uint8), "I8": (1, np.int8),
    "F8_E4M3": (1, np.uint8), "F8_E5M2": (1, np.uint8),
    "U16": (2, np.uint16), "I16": (2, np.int16), "F16": (2, np.float16),
    "BF16": (2, np.uint16), "U32": (4, np.uint32), "I32": (4, np.int32),
    "F32": (4, np.float32), "U64": (8, np.uint64), "I64": (8, np.int64),
    "F64": (8, np.float64),
}


# mpiexec otherwise waits a second before killing the ranks of a job that
# exits with an error status; bad-input tests are all such jobs.
run = functools.partial(mpbtest.run, env={"OMPI_MCA_odls_base_sigkill_timeout": "0"}
                        if mpbtest.OPENMPI else {})


def two_models(work):
    """Two tiny checkpoints in `work` (seeds 1 and 2) and their exports:
    (a.h5, b.h5, a_hf sharded at 300 KB, b_hf in one shard)."""
    a, b = os.path.join(work, "a.h5"), os.path.join(work, "b.h5")
    run(2, "synth", "--arch", "tiny", "--seed", "1", "--quiet", a, expect=0)
    run(2, "synth", "--arch", "tiny", "--seed", "2", "--quiet", b, expect=0)
    fa, fb = os.path.join(work, "a_hf"), os.path.join(work, "b_hf")
    run(2, "export", a, fa, "--quiet", "--shard-size", "300KB", expect=0)
    run(1, "export", b, fb, "--quiet", expect=0)
    return a, b, fa, fb


def error_lines(p):
    return [l for l in p.stderr.splitlines() if l.startswith("mpiblend")]


def read_st_file(path):
    """(header dict, data start, file bytes) of one safetensors file."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    return header, 8 + n, raw


def st_tensors(source):
    """{name: (dtype, shape, raw bytes)} of a safetensors file or folder,
    decoded from the header JSON and the byte ranges it names."""
    if os.path.isdir(source):
        index = os.path.join(source, "model.safetensors.index.json")
        if os.path.exists(index):
            with open(index) as f:
                files = sorted(set(json.load(f)["weight_map"].values()))
        else:
            files = ["model.safetensors"]
        paths = [os.path.join(source, n) for n in files]
    else:
        paths = [source]
    out = {}
    for path in paths:
        header, start, raw = read_st_file(path)
        for name, info in header.items():
            if name == "__metadata__":
                continue
            b, e = info["data_offsets"]
            assert name not in out, f"{name} twice"
            out[name] = (info["dtype"], tuple(info["shape"]), raw[start + b:start + e])
    return out


def st_array(dtype, shape, data):
    """The tensor as numpy (bf16 as its uint16 bits, fp8 as uint8)."""
    return np.frombuffer(data, dtype=ST_DTYPES[dtype][1]).reshape(shape)


def h5_tensors(path):
    """{name: (shape, raw bytes)} of an HDF5 checkpoint's root datasets,
    the bytes read from the file at each contiguous dataset's offset."""
    out = {}
    with h5py.File(path, "r") as f:
        items = [(k, f[k].shape, f[k].id.get_offset(), f[k].id.get_storage_size())
                 for k in f.keys() if isinstance(f[k], h5py.Dataset)]
    with open(path, "rb") as raw:
        for name, shape, offset, size in items:
            if size == 0:
                out[name] = (shape, b"")
                continue
            raw.seek(offset)
            out[name] = (shape, raw.read(size))
    return out


def h5_files(path):
    """{name: bytes} of the model files stored in an HDF5 checkpoint."""
    with h5py.File(path, "r") as f:
        if "hf_files" not in f:
            return {}
        return {k: bytes(f["hf_files"][k][()]) for k in f["hf_files"].keys()}


def folder_files(path):
    """{name: bytes} of every file in a folder."""
    out = {}
    for n in sorted(os.listdir(path)):
        with open(os.path.join(path, n), "rb") as f:
            out[n] = f.read()
    return out


def check_hf_folder(path):
    """The rules an exported folder must meet (docs/INTEROP.md): shards named
    as Hugging Face names them, each with __metadata__ {format: pt}, data
    8-byte aligned, tensors aligned to their element size and tiling the data
    buffer, and an index whose weight_map and total_size match."""
    names = sorted(n for n in os.listdir(path) if n.endswith(".safetensors"))
    index_path = os.path.join(path, "model.safetensors.index.json")
    if len(names) == 1:
        assert names == ["model.safetensors"], names
        assert not os.path.exists(index_path)
    else:
        k = len(names)
        assert names == [f"model-{i:05d}-of-{k:05d}.safetensors" for i in range(1, k + 1)], names
    weight_map, total = {}, 0
    for n in names:
        header, start, raw = read_st_file(os.path.join(path, n))
        assert start % 8 == 0, f"{n}: data starts at {start}"
        assert header.get("__metadata__") == {"format": "pt"}, header.get("__metadata__")
        spans = []
        for name, info in header.items():
            if name == "__metadata__":
                continue
            size, _ = ST_DTYPES[info["dtype"]]
            b, e = info["data_offsets"]
            assert b % size == 0, f"{name} at {b} is not aligned to {size}"
            assert e - b == size * int(np.prod(info["shape"], dtype=np.int64)), name
            spans.append((b, e))
            weight_map[name] = n
            total += e - b
        spans.sort()
        at = 0
        for b, e in spans:
            assert b == at, f"{n}: hole or overlap at {at}"
            at = e
        assert at == len(raw) - start, f"{n}: data buffer has {len(raw) - start} bytes, tensors {at}"
    if len(names) > 1:
        with open(index_path) as f:
            index = json.load(f)
        assert index["weight_map"] == weight_map
        assert index["metadata"]["total_size"] == total
    return weight_map


def assert_same_model(st_source, h5_path):
    """Every tensor of a safetensors model is in the HDF5 file, same shape,
    same bytes, and nothing else is."""
    st = st_tensors(st_source)
    h5 = h5_tensors(h5_path)
    assert sorted(st) == sorted(h5), f"{st_source} and {h5_path} hold different tensors"
    for name, (dtype, shape, data) in st.items():
        assert h5[name][0] == shape, f"{name}: shape {h5[name][0]} vs {shape}"
        assert h5[name][1] == data, f"{name}: bytes differ between {st_source} and {h5_path}"
