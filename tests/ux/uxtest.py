"""Shared by the operator-experience tests: a fresh work folder, synthetic
inputs, and byte counts read independently with h5py."""
import os
import shutil
import sys

import h5py

import mpbtest


def workdir(name):
    path = os.path.join(sys.argv[1], "ux", name)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def synth(work, name, seed, arch="tiny", *extra):
    path = os.path.join(work, name)
    mpbtest.run(2, "synth", "--arch", arch, "--seed", seed, "--quiet", *extra, path, expect=0)
    return path


def dataset_bytes(path):
    """{name: stored bytes} of the root datasets; the element size comes
    from the HDF5 type (h5py shows bf16 as float32)."""
    out = {}
    with h5py.File(path, "r") as f:
        for name, obj in f.items():
            if isinstance(obj, h5py.Dataset):
                out[name] = obj.size * obj.id.get_type().get_size()
    return out


config = mpbtest.write_text
