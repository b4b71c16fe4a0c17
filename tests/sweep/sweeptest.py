"""Shared helpers for the sweep end-to-end tests (runs go through
mpbtest.run): making small checkpoints with h5py, reading tensors back, CRC-32C from its
definition."""
import json
import os
import shutil
import tempfile
import unittest

import h5py
import numpy as np

import mpbtest
from mpbtest import run_many

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("MPB_SOURCE_DIR", os.path.dirname(os.path.dirname(HERE)))
BIN = mpbtest.BINARY
# For the tests that start programs themselves (job scripts, a bare PATH).
ENV = dict(os.environ)
if mpbtest.OPENMPI:  # root, oversubscribed
    ENV.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_rmaps_base_oversubscribe="1", OMPI_MCA_mpi_yield_when_idle="1")


def synth_pair(folder, a="a.h5", b="b.h5"):
    """Two tiny bf16 checkpoints of the same architecture, seeds 1 and 2."""
    run_many([(None, "synth", "--arch", "tiny", "--seed", str(seed), os.path.join(folder, name),
                "--quiet") for seed, name in [(1, a), (2, b)]])


def tensors(path):
    """name -> (dtype, shape, raw bytes) of every root dataset."""
    out = {}
    with h5py.File(path, "r") as f:
        for name, ds in f.items():
            if isinstance(ds, h5py.Dataset):
                a = ds[()]
                out[name] = (str(a.dtype), a.shape, np.asarray(a).tobytes())
    return out


def attr(path, key):
    with h5py.File(path, "r") as f:
        v = f.attrs[key]
    return v.decode() if isinstance(v, bytes) else str(v)


_TABLE = []
for _n in range(256):
    _c = _n
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _TABLE.append(_c)


def crc32c(data, crc=0):
    """CRC-32C (Castagnoli) from its definition, one byte at a time."""
    c = crc ^ 0xFFFFFFFF
    for b in data:
        c = (c >> 8) ^ _TABLE[(c ^ b) & 0xFF]
    return c ^ 0xFFFFFFFF


def make_small_inputs(folder, n=3):
    """n checkpoints of mixed dtypes: f16 and f32 tensors over two layers,
    a 1-D norm and an int32 tensor that is carried, never blended."""
    shapes = {"model.embed_tokens.weight": ((50, 8), np.float16),
              "model.layers.0.self_attn.q_proj.weight": ((16, 8), np.float32),
              "model.layers.0.mlp.up_proj.weight": ((24, 8), np.float16),
              "model.layers.1.self_attn.q_proj.weight": ((16, 8), np.float32),
              "model.layers.1.mlp.up_proj.weight": ((24, 8), np.float16),
              "model.norm.weight": ((8,), np.float32),
              "model.layers.0.position_ids": ((6,), np.int32)}
    paths = []
    for i in range(n):
        rng = np.random.default_rng(100 + i)
        path = os.path.join(folder, "in%d.h5" % i)
        with h5py.File(path, "w") as f:
            for name, (shape, dt) in shapes.items():
                if dt == np.int32:
                    f[name] = np.arange(6, dtype=np.int32) * (i + 1)
                else:
                    f[name] = rng.standard_normal(shape).astype(dt)
        paths.append(path)
    return paths


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def manifest(folder):
    with open(os.path.join(folder, "manifest.json")) as f:
        return json.load(f)


class TempCase(unittest.TestCase):
    """A fresh folder per test class, removed at the end."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="mpb-sweep-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)


def lambda_study(folder, grid, output="mi-{lambda}.h5"):
    """Two synthesized inputs and a sweep config over lambda in `folder`;
    returns the config's path."""
    synth_pair(folder)
    return write(os.path.join(folder, "study.yaml"),
                 "merge_method: interpolate\nmodels: [{model: a.h5}, {model: b.h5}]\n"
                 "parameters: {lambda: 0.5}\nsweep:\n  output: %s\n"
                 "  parameters: {lambda: [%s]}\n" % (output, ", ".join(grid)))


def write_scores(out, metric, table):
    """Hand-made eval records: table maps a lambda's text to its score;
    points whose lambda it lacks get none."""
    folder = os.path.join(out, "eval", metric)
    os.makedirs(folder, exist_ok=True)
    for p in manifest(out)["points"]:
        lam = p["values"]["lambda"]
        if lam in table:
            write(os.path.join(folder, "point-%d.json" % p["point"]),
                  json.dumps({"point": p["point"], "score": table[lam], "status": "ok"}))
